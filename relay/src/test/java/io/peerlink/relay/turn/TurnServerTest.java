package io.peerlink.relay.turn;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/** Our TURN client against our embedded TURN server, over UDP and TCP. */
class TurnServerTest {
    static String randomSecret() {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }

    private String secret;
    private TurnServer server;

    @BeforeEach
    void start() throws Exception {
        secret = randomSecret();
        server = TurnServer.start(TurnServerConfig.builder(secret).realm("embedded.test").allowLoopbackPeers(true)
                .maxLifetime(Duration.ofSeconds(120)).build());
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private TurnCredentials credentials(String device) {
        return TurnCredentials.mint(secret, device, Instant.now().plusSeconds(600));
    }

    @Test
    void twoUdpClientsRelayByteExact() throws Exception {
        CoturnInteropTest.exchange(TurnClient.Protocol.UDP, TurnClient.Protocol.UDP, server.udpAddress(), credentials("a"), credentials("b"));
    }

    @Test
    void tcpClientRelaysToUdpClientByteExact() throws Exception {
        CoturnInteropTest.exchange(TurnClient.Protocol.TCP, server.tcpAddress(), TurnClient.Protocol.UDP, server.udpAddress(),
                credentials("a"), credentials("b"));
    }

    /**
     * The receive thread tells where a burst ends: every datagram delivered is followed by a
     * burst end before the client waits again (none is left pending once the traffic stops), a
     * burst never exceeds 64 deliveries, and a burst end with nothing delivered does not happen.
     * Over a UDP leg and over a TCP leg (frames cut from the chunked stream buffer), 2,000
     * datagrams of varied sizes, byte-exact and in order.
     */
    @Test
    void burstEndFollowsEveryBurstOfRelayedData() throws Exception {
        for (TurnClient.Protocol receiverLeg : new TurnClient.Protocol[] {TurnClient.Protocol.UDP, TurnClient.Protocol.TCP}) {
            InetSocketAddress receiverServer = receiverLeg == TurnClient.Protocol.UDP ? server.udpAddress() : server.tcpAddress();
            try (TurnClient a = TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(), credentials("burst-a"), null);
                 TurnClient b = TurnClient.connect(receiverLeg, receiverServer, credentials("burst-b"), null)) {
                InetSocketAddress relayedA = a.allocate();
                InetSocketAddress relayedB = b.allocate();
                java.util.concurrent.atomic.AtomicInteger delivered = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicInteger sinceBurstEnd = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicInteger bursts = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicInteger longestBurst = new java.util.concurrent.atomic.AtomicInteger();
                java.util.concurrent.atomic.AtomicInteger emptyBursts = new java.util.concurrent.atomic.AtomicInteger();
                java.util.List<String> wrong = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
                b.onData(checking(delivered, TurnServerTest::datagram, wrong, sinceBurstEnd::incrementAndGet));
                b.onBurstEnd(() -> {
                    int n = sinceBurstEnd.getAndSet(0);
                    if (n == 0) {
                        emptyBursts.incrementAndGet();
                    }
                    longestBurst.accumulateAndGet(n, Math::max);
                    bursts.incrementAndGet();
                });
                b.bindChannel(relayedA);
                a.bindChannel(relayedB);
                int count = 2_000;
                for (int i = 0; i < count; i++) {
                    a.send(relayedB, java.nio.ByteBuffer.wrap(datagram(i)));
                    if (i % 100 == 99) {
                        Thread.sleep(2); // room for the relay: a loss here would be the test's, not the client's
                    }
                }
                long deadline = System.nanoTime() + 10_000_000_000L;
                while ((delivered.get() < count || sinceBurstEnd.get() > 0) && System.nanoTime() < deadline) {
                    Thread.sleep(5);
                }
                assertEquals(count, delivered.get(), receiverLeg + ": datagrams delivered");
                assertEquals(java.util.List.of(), wrong, receiverLeg + ": byte-exact and in order");
                assertEquals(0, sinceBurstEnd.get(), receiverLeg + ": every delivery is followed by a burst end");
                assertEquals(0, emptyBursts.get(), receiverLeg + ": a burst end without deliveries");
                assertTrue(longestBurst.get() <= 64, receiverLeg + ": longest burst " + longestBurst.get());
                assertTrue(bursts.get() >= count / 64, receiverLeg + ": bursts " + bursts.get());
            }
        }
    }

    /**
     * Batched UDP legs at both ends: a sends runs of equal-sized datagrams (segmented by the
     * kernel) mixed with datagrams of varying sizes, the server reads them coalesced and sends the
     * frames for b in batches, b reads segmented runs in one read and cuts them into frames. Every
     * datagram must arrive once, byte-exact and in order.
     */
    @Test
    void batchedLegsRelaySegmentedRunsByteExactAndInOrder() throws Exception {
        try (TurnClient a = TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(), credentials("batch-a"), null, true);
             TurnClient b = TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(), credentials("batch-b"), null, true)) {
            assumeBatchingAvailable(a.batchesSends(),
                    "no batched system calls in this JVM: " + io.peerlink.transport.udp.BatchedDatagramChannel.unavailableReason());
            InetSocketAddress relayedA = a.allocate();
            InetSocketAddress relayedB = b.allocate();
            java.util.concurrent.atomic.AtomicInteger delivered = new java.util.concurrent.atomic.AtomicInteger();
            java.util.List<String> wrong = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            b.onData(checking(delivered, TurnServerTest::batchDatagram, wrong, () -> { }));
            b.bindChannel(relayedA);
            a.bindChannel(relayedB);
            int count = 4_096;
            java.nio.ByteBuffer[] batch = new java.nio.ByteBuffer[64];
            for (int i = 0; i < count; i += batch.length) {
                for (int k = 0; k < batch.length; k++) {
                    batch[k] = java.nio.ByteBuffer.wrap(batchDatagram(i + k));
                }
                assertEquals(batch.length, a.trySendBatch(relayedB, batch, 0, batch.length), "datagrams accepted by the kernel");
                // At most 4 batches in flight: a loss here would be the test's, not the relay's.
                long deadline = System.nanoTime() + 10_000_000_000L;
                while (delivered.get() < i - 3 * batch.length && System.nanoTime() < deadline) {
                    Thread.sleep(1);
                }
            }
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (delivered.get() < count && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(count, delivered.get(), "datagrams delivered");
            assertEquals(java.util.List.of(), wrong, "byte-exact and in order");
            TurnLeg.Udp leg = (TurnLeg.Udp) b.leg();
            assertTrue(leg.coalescedFrames > leg.coalescedReads,
                    "b never read a segmented run: " + leg.coalescedReads + " reads, " + leg.coalescedFrames + " frames");
        }
    }

    /**
     * A batching UDP leg reads through {@code recvmsg}, not the JDK; an ICMP port unreachable
     * (nobody listens at the server's port any more) must still reach the trouble handler, which
     * makes the {@code turn} transport check its allocation at once instead of at the next interval.
     */
    @Test
    void aBatchingUdpLegReportsPortUnreachableAsTrouble() throws Exception {
        TurnServer gone = TurnServer.start(TurnServerConfig.builder(secret).realm("embedded.test").build());
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, gone.udpAddress(), credentials("icmp"), null, true)) {
            assumeBatchingAvailable(c.batchesSends(),
                    "no batched system calls in this JVM: " + io.peerlink.transport.udp.BatchedDatagramChannel.unavailableReason());
            java.util.concurrent.CountDownLatch trouble = new java.util.concurrent.CountDownLatch(1);
            c.onTrouble(trouble::countDown);
            c.allocate();
            gone.close();
            try {
                c.refresh(1_000); // the Refresh meets a closed port: ICMP port unreachable
            } catch (java.io.IOException expected) {
                // No answer: what the trouble handler is for.
            }
            assertTrue(trouble.await(5, java.util.concurrent.TimeUnit.SECONDS), "no trouble reported after an ICMP port unreachable");
            assertFalse(c.isClosed(), "an ICMP error is not the end of the leg");
        } finally {
            gone.close();
        }
    }

    /** Datagram {@code n} of the batched test: 1,200 bytes for 100 of every 128, else 1 to 1,300 bytes. */
    private static byte[] batchDatagram(int n) {
        byte[] d = n % 128 < 100 ? new byte[1_200] : datagram(n);
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) (n * 31 + i);
        }
        return d;
    }

    /**
     * A data handler that counts deliveries and records each one that is not, byte for byte,
     * {@code expected} of its index; then runs {@code afterEach}.
     */
    private static java.util.function.BiConsumer<InetSocketAddress, java.nio.ByteBuffer> checking(
            java.util.concurrent.atomic.AtomicInteger delivered, java.util.function.IntFunction<byte[]> expected,
            java.util.List<String> wrong, Runnable afterEach) {
        return (peer, data) -> {
            int n = delivered.getAndIncrement();
            byte[] want = expected.apply(n);
            byte[] got = new byte[data.remaining()];
            data.get(got);
            if (!java.util.Arrays.equals(want, got)) {
                wrong.add("datagram " + n + ": " + got.length + " bytes, expected " + want.length);
            }
            afterEach.run();
        };
    }

    /** Datagram {@code n}: 1 to 1,300 bytes derived from n. */
    private static byte[] datagram(int n) {
        byte[] d = new byte[1 + (n * 37) % 1_300];
        for (int i = 0; i < d.length; i++) {
            d[i] = (byte) (n * 31 + i);
        }
        return d;
    }

    @Test
    void lifetimeIsCappedAndCloseReleasesTheAllocation() throws Exception {
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(), credentials("life"), null)) {
            c.allocate(7200);
            assertEquals(120, c.lifetimeSeconds());
            assertEquals(1, server.stats().allocations());
        }
        // close() sent Refresh(LIFETIME=0); the server thread processes it asynchronously.
        for (int i = 0; i < 100 && server.stats().allocations() > 0; i++) {
            Thread.sleep(20);
        }
        assertEquals(0, server.stats().allocations());
    }

    @Test
    void wrongSecretAndExpiredCredentialsGet401() throws Exception {
        TurnCredentials forged = TurnCredentials.mint(randomSecret(), "forger", Instant.now().plusSeconds(600));
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(), forged, null)) {
            assertEquals(401, assertThrows(TurnException.class, c::allocate).code());
        }
        TurnCredentials expired = TurnCredentials.mint(secret, "late", Instant.now().minusSeconds(1));
        try (TurnClient c = TurnClient.connect(TurnClient.Protocol.TCP, server.tcpAddress(), expired, null)) {
            assertEquals(401, assertThrows(TurnException.class, c::allocate).code());
        }
    }

    @Test
    void coturnCredentialsFormatIsWhatTheServerChecks() {
        TurnCredentials c = TurnCredentials.mint("0123456789abcdef", "dev1", Instant.ofEpochSecond(1_700_000_000));
        assertEquals("1700000000:dev1", c.username());
        // base64(HMAC-SHA1("0123456789abcdef", "1700000000:dev1")), computed independently with openssl.
        assertEquals("XJalGN5R/DOx/nQkAbaxlwHoSSQ=", c.password());
        assertEquals(Instant.ofEpochSecond(1_700_000_000), TurnCredentials.expiry(c.username()));
        assertEquals("dev1", TurnCredentials.userId(c.username()));
        assertThrows(IllegalArgumentException.class, () -> TurnCredentials.expiry("alice"));
    }

    @Test
    void configurationNeverPrintsTheSecret() {
        assertFalse(TurnServerConfig.builder(secret).build().toString().contains(secret));
    }

    @Test
    void reservationTokenIsAnUnknownComprehensionRequiredAttributeAnswered420() throws Exception {
        try (java.net.DatagramSocket s = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            s.setSoTimeout(5000);
            byte[] txid = io.peerlink.protocol.stun.StunClient.newTransactionId();
            byte[] evenPort = new io.peerlink.protocol.stun.StunWriter(0x0003, txid).requestedTransport(17)
                    .attribute(0x0022, new byte[8]).build(null, true);
            s.send(new java.net.DatagramPacket(evenPort, evenPort.length, server.udpAddress()));
            java.net.DatagramPacket p = new java.net.DatagramPacket(new byte[1500], 1500);
            s.receive(p);
            io.peerlink.protocol.stun.TurnMessage m = new io.peerlink.protocol.stun.TurnMessage();
            m.decode(java.nio.ByteBuffer.wrap(p.getData(), 0, p.getLength()));
            assertEquals(420, m.errorCode());
            assertArrayEquals(new byte[] {0x00, 0x22}, m.bytes(io.peerlink.protocol.stun.Stun.ATTR_UNKNOWN_ATTRIBUTES));
        }
    }

    static InetSocketAddress loopback(int port) {
        return new InetSocketAddress("127.0.0.1", port);
    }
    /** Skips where this JVM or kernel cannot batch (a developer's platform); under {@code CI=true} that is a failure. */
    private static void assumeBatchingAvailable(boolean available, String why) {
        if (!available && "true".equals(System.getenv("CI"))) {
            org.junit.jupiter.api.Assertions.fail("CI=true but " + why);
        }
        org.junit.jupiter.api.Assumptions.assumeTrue(available, why);
    }
}
