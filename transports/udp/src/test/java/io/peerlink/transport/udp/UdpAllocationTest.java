package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.Test;

import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The hot paths allocate nothing per datagram in steady state: counted in bytes with the JVM's
 * per-thread allocation counter (deterministic, unlike a timing), on the sending thread and on
 * the transport's receive thread, over many datagrams between one pair of sockets.
 */
class UdpAllocationTest {

    private static final int WARM_UP = 20_000;
    private static final int MEASURED = 50_000;
    /** Slack for one-off allocations during the measured window (a cache refill, a resize). */
    private static final long BUDGET_BYTES = 16 * 1024;

    @Test
    void sendAndReceivePathsDoNotAllocatePerDatagram() throws Exception {
        assumeTrue(ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean,
                "this JVM has no per-thread allocation counter");
        com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        assumeTrue(threads.isThreadAllocatedMemorySupported(), "per-thread allocation counting unsupported");
        threads.setThreadAllocatedMemoryEnabled(true);

        UdpTransportProvider provider = new UdpTransportProvider();
        Transport sender = provider.create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
        Transport receiver = provider.create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
        AtomicLong received = new AtomicLong();
        AtomicLong receiveThreadId = new AtomicLong(-1);
        try {
            sender.start((s, d) -> { });
            receiver.start((source, datagram) -> {
                receiveThreadId.set(Thread.currentThread().getId());
                received.incrementAndGet();
            });
            Endpoint to = receiver.localEndpoint();
            ByteBuffer heap = ByteBuffer.allocate(512);

            sendBurst(sender, to, heap, WARM_UP, received);
            long rxThread = receiveThreadId.get();
            long me = Thread.currentThread().getId();

            long rxBefore = threads.getThreadAllocatedBytes(rxThread);
            long txBefore = threads.getThreadAllocatedBytes(me);
            long receivedBefore = received.get();
            sendBurst(sender, to, heap, MEASURED, received);
            long txAllocated = threads.getThreadAllocatedBytes(me) - txBefore;
            long rxAllocated = threads.getThreadAllocatedBytes(rxThread) - rxBefore;
            long datagrams = received.get() - receivedBefore;

            System.out.printf("allocation: send %d bytes over %d sends, receive %d bytes over %d datagrams%n",
                    txAllocated, MEASURED, rxAllocated, datagrams);
            assertTrue(datagrams > MEASURED / 2, "too few datagrams arrived to measure: " + datagrams);
            assertTrue(txAllocated < BUDGET_BYTES, "send path allocated " + txAllocated + " bytes for " + MEASURED + " sends");
            assertTrue(rxAllocated < BUDGET_BYTES, "receive path allocated " + rxAllocated + " bytes for " + datagrams + " datagrams");
        } finally {
            sender.destroy();
            receiver.destroy();
        }
    }

    /** Sends in small batches and lets the receiver catch up, so the socket buffer rarely overflows. */
    private static void sendBurst(Transport sender, Endpoint to, ByteBuffer buffer, int count, AtomicLong received) {
        long target = received.get();
        for (int i = 0; i < count; i++) {
            buffer.clear();
            buffer.putInt(0, i);
            if (sender.send(to, buffer)) {
                target++;
            }
            if ((i & 255) == 255) {
                long spinUntil = target - 64;
                for (int spins = 0; received.get() < spinUntil && spins < 10_000_000; spins++) {
                    Thread.onSpinWait();
                }
            }
        }
    }
}
