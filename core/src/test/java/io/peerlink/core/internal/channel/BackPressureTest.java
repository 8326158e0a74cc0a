package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.ChannelStats;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A path that refuses datagrams ({@link DatagramPath#send} false, the transport's back-pressure,
 * e.g. the MQTT transport's full PUBACK window): the channel holds the refused datagram and sends
 * it again instead of counting it lost (docs/protocol-channel.md, "Back-pressure").
 */
class BackPressureTest {
    private static final ChannelOptions FAST = ChannelOptions.builder().initialRtt(Duration.ofMillis(20)).build();

    /** Refuses every third datagram it is offered, and everything while {@code refuseAll} is set. */
    private static final class RefusingPath implements DatagramPath {
        final DatagramPath inner;
        final AtomicLong offered = new AtomicLong();
        final AtomicLong refused = new AtomicLong();
        volatile boolean refuseAll;

        RefusingPath(DatagramPath inner) {
            this.inner = inner;
        }

        @Override
        public boolean send(ByteBuffer datagram) {
            if (refuseAll || offered.incrementAndGet() % 3 == 0) {
                refused.incrementAndGet();
                return false;
            }
            return inner.send(datagram);
        }

        @Override
        public int maxDatagramSize() {
            return inner.maxDatagramSize();
        }
    }

    @Test
    void refusedDatagramsAreSentAgainNotCountedLost() throws Exception {
        RefusingPath[] path = new RefusingPath[1];
        UnaryOperator<DatagramPath> wrap = p -> path[0] = new RefusingPath(p);
        try (ChannelPair p = new ChannelPair(FAST, 2, wrap)) {
            byte[] m = new byte[2 * 1024 * 1024];
            new Random(3).nextBytes(m);
            p.a.send(ByteBuffer.wrap(m)).toCompletableFuture().get(60, TimeUnit.SECONDS);
            awaitReceived(p, 1);
            assertArrayEquals(m, p.receivedByB.get(0));
            ChannelStats stats = p.a.stats();
            assertTrue(path[0].refused.get() > 100, "the path refused datagrams: " + path[0].refused.get());
            assertEquals(0, stats.packetsLost(), "a refused datagram is not a lost one: " + stats);
            assertEquals(0, stats.retransmittedBytes(), "nothing needed retransmitting: " + stats);
        }
    }

    @Test
    void aPathThatRefusesForLongerThanTheHoldStillDeliversThroughTheArq() throws Exception {
        RefusingPath[] path = new RefusingPath[1];
        UnaryOperator<DatagramPath> wrap = p -> path[0] = new RefusingPath(p);
        try (ChannelPair p = new ChannelPair(FAST, 2, wrap)) {
            path[0].refuseAll = true;
            byte[] m = new byte[64 * 1024];
            new Random(4).nextBytes(m);
            var sent = p.a.send(ByteBuffer.wrap(m)).toCompletableFuture();
            Thread.sleep(TimeUnit.NANOSECONDS.toMillis(ChannelEngine.HOLD_MAX_NANOS) * 3);
            assertTrue(p.receivedByB.isEmpty());
            path[0].refuseAll = false;
            sent.get(30, TimeUnit.SECONDS);
            awaitReceived(p, 1);
            assertArrayEquals(m, p.receivedByB.get(0));
            assertTrue(p.a.isOpen() && p.b.isOpen());
        }
    }

    private static void awaitReceived(ChannelPair p, int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (p.receivedByB.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(n, p.receivedByB.size());
    }
}
