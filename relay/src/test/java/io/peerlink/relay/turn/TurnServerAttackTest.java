package io.peerlink.relay.turn;

import io.peerlink.protocol.stun.StunClient;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Random;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Each attack issue 7 names, performed against the embedded server while an honest pair keeps
 * relaying through it byte-exact ({@link HonestPair}).
 */
class TurnServerAttackTest {
    private final String secret = TurnServerTest.randomSecret();

    private TurnServer start(Consumer<TurnServerConfig.Builder> limits) throws Exception {
        TurnServerConfig.Builder b = TurnServerConfig.builder(secret).allowLoopbackPeers(true);
        limits.accept(b);
        return TurnServer.start(b.build());
    }

    private TurnClient client(TurnServer server, String device) throws Exception {
        return client(server, device, false);
    }

    private TurnClient client(TurnServer server, String device, boolean batching) throws Exception {
        return TurnClient.connect(TurnClient.Protocol.UDP, server.udpAddress(),
                TurnCredentials.mint(secret, device, Instant.now().plusSeconds(600)), null, batching);
    }

    @Test
    void allocationsBeyondTheDeviceQuotaGet486() throws Exception {
        try (TurnServer server = start(b -> b.maxAllocationsPerUser(2));
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             TurnClient g1 = client(server, "greedy"); TurnClient g2 = client(server, "greedy"); TurnClient g3 = client(server, "greedy")) {
            g1.allocate();
            g2.allocate();
            assertEquals(486, assertThrows(TurnException.class, g3::allocate).code());
            honest.stopAndCheck();
        }
    }

    /**
     * Attacker pair: a sends {@code count} datagrams of 1,200 bytes to b through a channel; returns
     * bytes b received. {@code batched}: a's leg sends them in batches of 32 with {@code sendmmsg}
     * and UDP segmentation offload, so that the server reads runs of them in one coalesced read
     * and must still charge every datagram on its own.
     */
    private static long blast(TurnClient a, TurnClient b, int count, int pauseEvery, boolean batched) throws Exception {
        AtomicLong received = new AtomicLong();
        b.onData((peer, data) -> received.addAndGet(data.remaining()));
        InetSocketAddress relayA = a.allocate();
        InetSocketAddress relayB = b.allocate();
        b.createPermission(relayA.getAddress());
        a.bindChannel(relayB);
        byte[] payload = new byte[1200];
        if (batched) {
            ByteBuffer[] batch = new ByteBuffer[32];
            for (int i = 0; i < count; i += batch.length) {
                int n = Math.min(batch.length, count - i);
                for (int k = 0; k < n; k++) {
                    batch[k] = ByteBuffer.wrap(payload);
                }
                a.trySendBatch(relayB, batch, 0, n);
                if (pauseEvery > 0) {
                    Thread.sleep(1);
                }
            }
        } else {
            for (int i = 0; i < count; i++) {
                a.send(relayB, ByteBuffer.wrap(payload));
                if (pauseEvery > 0 && i % pauseEvery == 0) {
                    Thread.sleep(1);
                }
            }
        }
        Thread.sleep(500);
        return received.get();
    }

    @Test
    void bytesBeyondTheAllocationCapAreNotRelayed() throws Exception {
        bytesBeyondTheAllocationCap(false);
    }

    @Test
    void bytesBeyondTheAllocationCapAreNotRelayedFromSegmentedBatches() throws Exception {
        bytesBeyondTheAllocationCap(true);
    }

    private void bytesBeyondTheAllocationCap(boolean batched) throws Exception {
        long cap = 100_000;
        try (TurnServer server = start(b -> b.maxBytesPerAllocation(cap));
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             TurnClient a = client(server, "hog-a", batched); TurnClient b = client(server, "hog-b", batched)) {
            assumeBatching(a, batched);
            long received = blast(a, b, 400, 10, batched);
            assertTrue(received <= cap, "relayed " + received + " bytes past a cap of " + cap);
            assertTrue(received > 0, "nothing relayed at all");
            assertTrue(server.stats().droppedFrames() > 0);
            honest.stopAndCheck();
        }
    }

    @Test
    void bytesBeyondTheAllocationRateAreNotRelayed() throws Exception {
        bytesBeyondTheAllocationRate(false);
    }

    @Test
    void bytesBeyondTheAllocationRateAreNotRelayedFromSegmentedBatches() throws Exception {
        bytesBeyondTheAllocationRate(true);
    }

    private void bytesBeyondTheAllocationRate(boolean batched) throws Exception {
        long rate = 200_000;
        try (TurnServer server = start(b -> b.bytesPerSecondPerAllocation(rate));
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             TurnClient a = client(server, "fast-a", batched); TurnClient b = client(server, "fast-b", batched)) {
            assumeBatching(a, batched);
            long started = System.nanoTime();
            long received = blast(a, b, 2000, 0, batched);
            double seconds = (System.nanoTime() - started) / 1e9;
            // A token bucket holds one second of burst and refills at the rate: an upper bound, not a timing target.
            long bound = (long) (rate + rate * seconds) + 1200;
            assertTrue(received <= bound, "relayed " + received + " bytes in " + seconds + " s, bucket allows " + bound);
            assertTrue(received < 2000L * 1200, "the rate limit did not drop anything");
            assertTrue(server.stats().droppedFrames() > 0);
            honest.stopAndCheck();
        }
    }

    private static void assumeBatching(TurnClient a, boolean batched) {
        if (batched) {
            assumeBatchingAvailable(a.batchesSends(),
                    "no batched system calls in this JVM: " + io.peerlink.transport.udp.BatchedDatagramChannel.unavailableReason());
        }
    }

    @Test
    void permissionsToPrivatePeersAre403() throws Exception {
        try (TurnServer server = start(b -> { });
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             TurnClient c = client(server, "prober")) {
            c.allocate();
            for (String ip : new String[] {"10.0.0.1", "192.168.1.1", "172.16.0.1", "169.254.1.1", "100.64.0.1", "0.0.0.0", "fd00::1", "fe80::1"}) {
                InetAddress peer = InetAddress.getByName(ip);
                assertEquals(403, assertThrows(TurnException.class, () -> c.createPermission(peer), ip).code(), ip);
            }
            assertEquals(403, assertThrows(TurnException.class,
                    () -> c.bindChannel(new InetSocketAddress(InetAddress.getByName("10.1.2.3"), 5000))).code());
            honest.stopAndCheck();
        }
    }

    @Test
    void loopbackPeersAre403ByDefault() throws Exception {
        try (TurnServer server = TurnServer.start(TurnServerConfig.builder(secret).build());
             TurnClient c = client(server, "local")) {
            c.allocate();
            assertEquals(403, assertThrows(TurnException.class, () -> c.createPermission(InetAddress.getLoopbackAddress())).code());
        }
    }

    @Test
    void permissionsToPeersTheRendezvousDidNotIntroduceAre403() throws Exception {
        InetAddress introduced = InetAddress.getByName("127.0.0.9");
        try (TurnServer server = start(b -> b.permissionPolicy((user, peer) -> !user.endsWith(":mallory") || peer.equals(introduced)));
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             TurnClient mallory = client(server, "mallory")) {
            mallory.allocate();
            mallory.createPermission(introduced);
            assertEquals(403, assertThrows(TurnException.class, () -> mallory.createPermission(InetAddress.getLoopbackAddress())).code());
            honest.stopAndCheck();
        }
    }

    @Test
    void garbageFloodIsDroppedAndRequestsPerIpAreCapped() throws Exception {
        try (TurnServer server = start(b -> b.requestsPerSecondPerIp(50));
             HonestPair honest = new HonestPair(server.udpAddress(), secret);
             DatagramSocket attacker = new DatagramSocket(new InetSocketAddress("127.0.0.2", 0))) {
            Random random = new Random(3);
            InetSocketAddress target = server.udpAddress();
            for (int i = 0; i < 20_000; i++) {
                byte[] junk = new byte[1 + random.nextInt(1400)];
                random.nextBytes(junk);
                junk[0] = (byte) (i % 3 == 0 ? 0x40 | (junk[0] & 0x3f) : i % 3 == 1 ? junk[0] & 0x3f : junk[0]);
                attacker.send(new DatagramPacket(junk, junk.length, target));
            }
            try (Socket tcp = new Socket(server.tcpAddress().getAddress(), server.tcpAddress().getPort(), InetAddress.getByName("127.0.0.2"), 0)) {
                byte[] junk = new byte[64 * 1024];
                random.nextBytes(junk);
                junk[0] = (byte) 0xff;
                tcp.getOutputStream().write(junk);
                tcp.setSoTimeout(5000);
                // The server drops a stream it cannot frame: the read ends (EOF or reset), it does not hang.
                try {
                    assertEquals(-1, tcp.getInputStream().read());
                } catch (java.net.SocketException reset) {
                    assertNotNull(reset.getMessage());
                }
            }
            // Well-formed Binding requests from the flooding IP: the per-IP bucket answers at most its burst plus refill.
            attacker.setSoTimeout(300);
            long started = System.nanoTime();
            for (int i = 0; i < 300; i++) {
                ByteBuffer req = StunClient.request(StunClient.newTransactionId());
                attacker.send(new DatagramPacket(req.array(), req.remaining(), target));
            }
            int answers = 0;
            try {
                while (true) {
                    attacker.receive(new DatagramPacket(new byte[1500], 1500));
                    answers++;
                }
            } catch (SocketTimeoutException done) {
                // All answers are in.
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            assertTrue(answers <= 100 + 50 * seconds + 1, answers + " answers in " + seconds + " s");
            assertTrue(server.stats().droppedFrames() > 0);
            assertTrue(server.stats().refusedRequests() > 0);
            honest.stopAndCheck();
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
