package io.peerlink.transport.udp;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The batching view of a channel another module owns (the TURN leg and server use it), on real loopback sockets. */
class BatchedDatagramChannelTest {

    private static DatagramChannel bound() throws Exception {
        DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
        c.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
        c.configureBlocking(false);
        return c;
    }

    private static ByteBuffer[] batch(int count, int size) {
        ByteBuffer[] batch = new ByteBuffer[count];
        for (int i = 0; i < count; i++) {
            byte[] d = new byte[i == count - 1 ? size / 2 : size];
            Arrays.fill(d, (byte) i);
            batch[i] = ByteBuffer.wrap(d);
        }
        return batch;
    }

    @Test
    void aSegmentedBatchArrivesAsOneCoalescedReadOrAsSingleDatagrams() throws Exception {
        assumeBatchingAvailable(BatchedDatagramChannel.unavailableReason() == null,
                "no batched system calls in this JVM: " + BatchedDatagramChannel.unavailableReason());
        DatagramChannel sender = bound();
        DatagramChannel coalescing = bound();
        DatagramChannel plain = bound();
        BatchedDatagramChannel out = BatchedDatagramChannel.attach(sender, StandardProtocolFamily.INET, null);
        ByteBuffer buffer = ByteBuffer.allocateDirect(65_536);
        BatchedDatagramChannel in = BatchedDatagramChannel.attach(coalescing, StandardProtocolFamily.INET, buffer);
        try {
            assertFalse(out.coalescedReceive());
            assumeBatchingAvailable(in.coalescedReceive(), "the kernel refused UDP_GRO");
            ByteBuffer[] sent = batch(48, 1_200);
            assertEquals(48, out.send((InetSocketAddress) coalescing.getLocalAddress(), sent, 0, 48));
            for (ByteBuffer d : sent) {
                assertFalse(d.hasRemaining(), "positions are advanced to the limit");
            }
            List<byte[]> received = new ArrayList<>();
            int reads = 0;
            long deadline = System.nanoTime() + 5_000_000_000L;
            while (received.size() < 48 && System.nanoTime() < deadline) {
                int n = in.receive();
                if (n < 0) {
                    Thread.sleep(1);
                    continue;
                }
                reads++;
                assertEquals(sender.getLocalAddress(), in.source());
                int segment = in.segmentSize() > 0 ? in.segmentSize() : n;
                for (int at = 0; at < n; at += segment) {
                    byte[] d = new byte[Math.min(segment, n - at)];
                    buffer.get(at, d);
                    received.add(d);
                }
            }
            assertEquals(48, received.size());
            for (int i = 0; i < 48; i++) {
                assertArrayEquals(batch(48, 1_200)[i].array(), received.get(i), "datagram " + i);
            }
            assertTrue(reads < 48, "one read per datagram: nothing was coalesced");

            // A socket without UDP_GRO gets the same batch as 48 ordinary datagrams.
            assertEquals(48, out.send((InetSocketAddress) plain.getLocalAddress(), batch(48, 1_200), 0, 48));
            ByteBuffer one = ByteBuffer.allocate(65_536);
            for (int i = 0; i < 48; i++) {
                one.clear();
                deadline = System.nanoTime() + 5_000_000_000L;
                while (plain.receive(one) == null && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
                one.flip();
                byte[] d = new byte[one.remaining()];
                one.get(d);
                assertArrayEquals(batch(48, 1_200)[i].array(), d, "datagram " + i);
            }
        } finally {
            out.close();
            in.close();
            plain.close();
        }
        assertFalse(sender.isOpen(), "close() closes the channel");
        assertThrows(ClosedChannelException.class,
                () -> out.send(new InetSocketAddress(InetAddress.getLoopbackAddress(), 9), batch(2, 10), 0, 2));
        assertThrows(ClosedChannelException.class, in::receive);
    }

    @Test
    void aReceiveBufferThatIsNotDirectIsRefused() throws Exception {
        try (DatagramChannel c = bound()) {
            assertThrows(IllegalArgumentException.class,
                    () -> BatchedDatagramChannel.attach(c, StandardProtocolFamily.INET, ByteBuffer.allocate(65_536)));
        }
    }
    /** Skips where this JVM or kernel cannot batch (a developer's platform); under {@code CI=true} that is a failure. */
    private static void assumeBatchingAvailable(boolean available, String why) {
        if (!available && "true".equals(System.getenv("CI"))) {
            org.junit.jupiter.api.Assertions.fail("CI=true but " + why);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available, why);
    }
}
