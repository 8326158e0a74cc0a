package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.Delivery;
import io.peerlink.testkit.Impairment;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.DoubleRange;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Exactly-once delivery over an impaired in-memory path: random loss 0-30 %, duplication,
 * reordering and bit flips, message sizes 0 B .. 4 MiB (at most 6 MiB per try).
 */
class ChannelDeliveryPropertiesTest {
    static final ChannelOptions OPTIONS = ChannelOptions.builder()
            .initialRtt(Duration.ofMillis(20))
            .maxAckDelay(Duration.ofMillis(5))
            .build();
    static final int TOTAL_CAP = 6 << 20;

    @Provide
    Arbitrary<List<Integer>> messageSizes() {
        Arbitrary<Integer> size = Arbitraries.frequencyOf(
                net.jqwik.api.Tuple.of(10, Arbitraries.integers().between(0, 64)),
                net.jqwik.api.Tuple.of(10, Arbitraries.integers().between(65, 5000)),
                net.jqwik.api.Tuple.of(3, Arbitraries.integers().between(5001, 200_000)),
                net.jqwik.api.Tuple.of(1, Arbitraries.integers().between(200_001, 4 << 20)));
        return size.list().ofMinSize(1).ofMaxSize(40).map(l -> {
            List<Integer> capped = new ArrayList<>();
            int total = 0;
            for (int s : l) {
                if (total + s > TOTAL_CAP) {
                    break;
                }
                capped.add(s);
                total += s;
            }
            return capped.isEmpty() ? List.of(0) : capped;
        });
    }

    @Property(tries = 12)
    void orderedMessagesArriveExactlyOnceInOrder(@ForAll("messageSizes") List<Integer> sizes,
                                                 @ForAll @DoubleRange(min = 0, max = 0.3) double loss,
                                                 @ForAll @DoubleRange(min = 0, max = 0.1) double duplication,
                                                 @ForAll @DoubleRange(min = 0, max = 0.2) double reordering,
                                                 @ForAll @DoubleRange(min = 0, max = 0.05) double corruption,
                                                 @ForAll @IntRange(min = 0, max = 1000) int seed) throws Exception {
        Impairment im = Impairment.NONE.withLoss(loss).withDuplication(duplication)
                .withReordering(reordering, Duration.ofMillis(3)).withCorruption(corruption);
        try (ChannelPair p = new ChannelPair(OPTIONS, im, im, seed)) {
            List<byte[]> sent = sendAll(p, sizes, Delivery.ORDERED, seed);
            awaitReceived(p, sent.size());
            assertEquals(sent.size(), p.receivedByB.size(), "messages delivered");
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i), "message " + i + " of " + sent.get(i).length + " bytes");
            }
            assertTrue(p.deliveriesAtB.stream().allMatch(d -> d == Delivery.ORDERED));
            assertTrue(p.a.isOpen(), "sender still open");
            assertTrue(p.b.isOpen(), "receiver still open");
        }
    }

    @Property(tries = 8)
    void unorderedMessagesArriveExactlyOnce(@ForAll("messageSizes") List<Integer> sizes,
                                            @ForAll @DoubleRange(min = 0, max = 0.3) double loss,
                                            @ForAll @DoubleRange(min = 0, max = 0.2) double reordering,
                                            @ForAll @IntRange(min = 0, max = 1000) int seed) throws Exception {
        Impairment im = Impairment.NONE.withLoss(loss).withDuplication(0.05)
                .withReordering(reordering, Duration.ofMillis(3)).withCorruption(0.01);
        try (ChannelPair p = new ChannelPair(OPTIONS, im, im, seed)) {
            List<byte[]> sent = sendAll(p, sizes, Delivery.UNORDERED, seed);
            awaitReceived(p, sent.size());
            Map<String, Integer> expected = counts(sent);
            Map<String, Integer> actual = counts(p.receivedByB);
            assertEquals(expected, actual);
            assertTrue(p.deliveriesAtB.stream().allMatch(d -> d == Delivery.UNORDERED));
            assertTrue(p.a.isOpen(), "sender still open");
            assertTrue(p.b.isOpen(), "receiver still open");
        }
    }

    private static Map<String, Integer> counts(List<byte[]> messages) {
        Map<String, Integer> m = new HashMap<>();
        for (byte[] b : messages) {
            m.merge(Arrays.hashCode(b) + ":" + b.length, 1, Integer::sum);
        }
        return m;
    }

    static List<byte[]> sendAll(ChannelPair p, List<Integer> sizes, Delivery delivery, long seed) throws Exception {
        Random r = new Random(seed);
        List<byte[]> sent = new ArrayList<>();
        List<CompletableFuture<Void>> futures = new ArrayList<>();
        for (int size : sizes) {
            byte[] m = new byte[size];
            r.nextBytes(m);
            sent.add(m);
            futures.add(p.a.send(ByteBuffer.wrap(m), delivery).toCompletableFuture());
        }
        CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(120, TimeUnit.SECONDS);
        return sent;
    }

    static void awaitReceived(ChannelPair p, int n) throws InterruptedException {
        // Every send future completed, so every message was acknowledged; delivery runs on b's
        // loop right after, so this wait is short.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.receivedByB.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }
}
