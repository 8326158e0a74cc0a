package io.peerlink.core.internal.channel;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The hot paths allocate nothing in steady state: DATA frame encode + decode, packet sealing and
 * opening, and ACK processing with 1,024 packets in flight. Counted with the JVM's per-thread
 * allocation counter, so the assertion is about bytes, not time (JMH measures time).
 */
class HotPathAllocationTest {
    // Looked up reflectively: core's tests compile as part of the io.peerlink.core module, which
    // does not (and should not) read java.management; at run time tests use the class path.
    private static final Object THREADS;
    private static final Method ALLOCATED;

    static {
        try {
            THREADS = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            ALLOCATED = Class.forName("com.sun.management.ThreadMXBean").getMethod("getThreadAllocatedBytes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long allocated() {
        try {
            return (long) ALLOCATED.invoke(THREADS, Thread.currentThread().getId());
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void dataFrameEncodeDecodeAndPacketSealOpenAllocateNothing() throws FrameFormatException {
        ByteBuffer payload = ByteBuffer.allocate(1200);
        ByteBuffer packet = ByteBuffer.allocate(1300);
        Frame frame = new Frame();
        PacketCodec codec = new PacketCodec();
        long sum = 0;
        for (int round = 0; round < 3; round++) {
            long before = allocated();
            for (int i = 0; i < 20_000; i++) {
                packet.clear();
                codec.writeHeader(packet, 42, i);
                FrameCodec.encodeData(packet, false, i, 1 << 20, (i % 800) * 1200L, payload, 0, 1150);
                codec.seal(packet, 0);
                packet.flip();
                long pn = codec.open(packet, 42, i - 1);
                FrameCodec.decode(packet, frame);
                sum += pn + frame.dataLength();
            }
            long bytes = allocated() - before;
            if (round == 2) {
                // A few bytes of slack for the counter's own bookkeeping; one allocation per
                // frame would be at least 16 x 20,000 bytes.
                assertTrue(bytes < 1024, "allocated " + bytes + " bytes for 20,000 packets");
            }
        }
        assertTrue(sum > 0);
    }

    @Test
    void anIdleChannelIsSmall() throws Exception {
        try (io.peerlink.core.internal.loop.EventLoop loop = new io.peerlink.core.internal.loop.EventLoop("idle")) {
            FrameCodecPropertiesTest.DiscardPath path = new FrameCodecPropertiesTest.DiscardPath();
            new ChannelEngine(loop, 1, 2, path, io.peerlink.ChannelOptions.defaults());
            long before = allocated();
            ChannelEngine engine = new ChannelEngine(loop, 1, 2, path, io.peerlink.ChannelOptions.defaults());
            long bytes = allocated() - before;
            // Target: an idle channel holds at most 64 KiB; nothing large is preallocated.
            assertTrue(bytes < 16 * 1024, "a new channel allocated " + bytes + " bytes");
            assertTrue(engine.isOpen());
        }
    }

    @Test
    void ackProcessingWithThousandPacketsInFlightAllocatesNothing() throws FrameFormatException {
        SentPacketTracker tracker = new SentPacketTracker(1200, 1_000_000, 25_000_000, 1L << 40);
        SentPacketTracker.Listener listener = new SentPacketTracker.Listener() {
            @Override
            public void onAcked(SentPacket packet) {
            }

            @Override
            public void onLost(SentPacket packet) {
            }
        };
        long[] low = new long[1];
        long[] high = new long[1];
        Object item = new Object();
        long now = 0;
        // Steady state is the least a round allocates once warm: a single round can catch a JIT
        // recompilation (say, when another test loaded a second CongestionController and made a
        // call site bimorphic), whose deoptimisation re-materialises objects on the heap.
        long steady = Long.MAX_VALUE;
        for (int round = 0; round < 8; round++) {
            long before = allocated();
            for (int flight = 0; flight < 20; flight++) {
                long first = tracker.nextPacketNumber();
                for (int i = 0; i < 1024; i++) {
                    SentPacket p = tracker.open();
                    p.addItem(item);
                    tracker.commit(p, now, 1200, true);
                }
                now += 1_000_000;
                for (long pn = first; pn < first + 1024; pn += 8) {
                    low[0] = first;
                    high[0] = pn + 7;
                    tracker.onAck(low, high, 1, 0, now, listener);
                }
            }
            long bytes = allocated() - before;
            if (round >= 3) {
                steady = Math.min(steady, bytes);
            }
        }
        assertTrue(steady < 1024, "allocated " + steady + " bytes acknowledging 20,480 packets");
        assertEquals(0, tracker.bytesInFlight());
    }
}
