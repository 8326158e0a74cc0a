package io.peerlink.testkit;

import io.peerlink.Endpoint;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ImpairedTransportTest {
    final InMemoryNetwork network = new InMemoryNetwork();
    final List<byte[]> received = new CopyOnWriteArrayList<>();

    @AfterEach
    void tearDown() {
        network.close();
    }

    private Endpoint receiver(Impairment inbound, long seed) throws IOException {
        ImpairedTransport rx = new ImpairedTransport(network.newTransport(), Impairment.NONE, inbound, seed);
        rx.start((src, d) -> {
            byte[] b = new byte[d.remaining()];
            d.get(b);
            received.add(b);
        });
        return rx.localEndpoint();
    }

    private void await(int n) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (received.size() < n && System.nanoTime() < deadline) {
            Thread.sleep(2);
        }
    }

    private static long countLosses(long seed) throws IOException {
        try (InMemoryNetwork net = new InMemoryNetwork()) {
            ImpairedTransport t = new ImpairedTransport(net.newTransport(), Impairment.NONE.withLoss(0.3), Impairment.NONE, seed);
            t.start((s, d) -> { });
            Endpoint nowhere = new Endpoint(InMemoryNetwork.SCHEME, "local", 9999, "");
            for (int i = 0; i < 1000; i++) {
                t.send(nowhere, ByteBuffer.allocate(10));
            }
            t.destroy();
            return t.outboundCounters().lost();
        }
    }

    @Test
    void lossIsReproducibleFromTheSeedAndNearTheRate() throws IOException {
        long a = countLosses(7);
        assertEquals(a, countLosses(7), "same seed, same losses");
        assertTrue(a > 220 && a < 380, "about 30 % of 1000 lost: " + a);
    }

    @Test
    void datagramsAboveTheMtuAreDroppedAndOthersPassUnchanged() throws Exception {
        Endpoint to = receiver(Impairment.NONE, 1);
        ImpairedTransport tx = new ImpairedTransport(network.newTransport(), Impairment.NONE.withMtu(100), Impairment.NONE, 2);
        tx.start((s, d) -> { });
        byte[] small = new byte[100];
        small[5] = 9;
        tx.send(to, ByteBuffer.wrap(new byte[101]));
        tx.send(to, ByteBuffer.wrap(small));
        await(1);
        Thread.sleep(20);
        assertEquals(1, received.size());
        assertArrayEquals(small, received.get(0));
        assertEquals(1, tx.outboundCounters().oversize());
    }

    @Test
    void corruptionFlipsExactlyOneBit() throws Exception {
        Endpoint to = receiver(Impairment.NONE.withCorruption(1.0), 3);
        ImpairedTransport tx = new ImpairedTransport(network.newTransport(), Impairment.NONE, Impairment.NONE, 4);
        tx.start((s, d) -> { });
        byte[] sent = new byte[64];
        tx.send(to, ByteBuffer.wrap(sent));
        await(1);
        int bits = 0;
        for (byte b : received.get(0)) {
            bits += Integer.bitCount(b & 0xFF);
        }
        assertEquals(1, bits);
    }

    @Test
    void duplicationDeliversTwiceAndReorderingLetsLaterDatagramsOvertake() throws Exception {
        Endpoint to = receiver(Impairment.NONE, 5);
        ImpairedTransport tx = new ImpairedTransport(network.newTransport(),
                Impairment.NONE.withDuplication(1.0), Impairment.NONE, 6);
        tx.start((s, d) -> { });
        tx.send(to, ByteBuffer.wrap(new byte[] {1}));
        await(2);
        assertEquals(2, received.size());
        received.clear();
        tx.outbound(Impairment.NONE.withReordering(1.0, Duration.ofMillis(50)));
        tx.send(to, ByteBuffer.wrap(new byte[] {2}));
        tx.outbound(Impairment.NONE);
        tx.send(to, ByteBuffer.wrap(new byte[] {3}));
        await(2);
        assertEquals(3, received.get(0)[0], "the held-back datagram is overtaken");
        assertEquals(2, received.get(1)[0]);
    }

    @Test
    void sendingOnAStoppedTransportFailsLikeTheDelegate() throws IOException {
        ImpairedTransport tx = new ImpairedTransport(network.newTransport(), Impairment.NONE, Impairment.NONE, 8);
        Endpoint to = new Endpoint(InMemoryNetwork.SCHEME, "local", 1, "");
        assertThrows(IllegalStateException.class, () -> tx.send(to, ByteBuffer.allocate(1)));
        tx.start((s, d) -> { });
        assertThrows(IllegalArgumentException.class, () -> tx.send(to, ByteBuffer.allocate(70_000)));
    }
}
