package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.testkit.Impairment;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelSmokeTest {
    static final ChannelOptions FAST = ChannelOptions.builder().initialRtt(Duration.ofMillis(20)).build();

    @Test
    void deliversUnderTenPercentLoss() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE.withLoss(0.1), Impairment.NONE.withLoss(0.1), 42)) {
            Random r = new Random(1);
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> fs = new ArrayList<>();
            for (int i = 0; i < 50; i++) {
                byte[] m = new byte[r.nextInt(i % 10 == 0 ? 300_000 : 3000)];
                r.nextBytes(m);
                sent.add(m);
                fs.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            CompletableFuture.allOf(fs.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (p.receivedByB.size() < sent.size() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(sent.size(), p.receivedByB.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i), "message " + i);
            }
            assertTrue(p.a.isOpen() && p.b.isOpen());
            System.out.println(p.a.stats());
            System.out.println(p.b.stats());
        }
    }
}
