package io.peerlink.server;

import io.peerlink.ChannelClosedException;
import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Lifecycles over real devices, real UDP and a real reference server: what {@code send} accepted
 * is delivered when the device is closed right after, and {@code abort} fails what it drops.
 */
class DeviceLifecycleTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private static final int N = 40;
    private static final int BIG = 1 << 20;
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ReferenceServer server;

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private DeviceId identity(String name) {
        return DeviceIdentity.loadOrCreate(dir.resolve(name + ".key")).id();
    }

    private void startServer(DeviceId... devices) throws Exception {
        StringBuilder allow = new StringBuilder();
        for (DeviceId d : devices) {
            allow.append(d).append(" home\n");
        }
        Path file = dir.resolve("allow-list");
        Files.writeString(file, allow);
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(file).build());
        toClose.add(server);
    }

    private Device device(String name) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(LOOPBACK).connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return d;
    }

    private static ByteBuffer message(int i) {
        // message 7 is the 1 MiB one; each message carries its index in its first 4 bytes
        ByteBuffer b = ByteBuffer.allocate(i == 7 ? BIG : 100 + i);
        new Random(i).nextBytes(b.array());
        b.putInt(0, i);
        return b;
    }

    @Test
    void closingTheDeviceRightAfterSendingDeliversEveryAcceptedMessage() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        Device alice = device("a");
        Device bob = device("b");
        Map<Integer, byte[]> received = new ConcurrentHashMap<>();
        CompletableFuture<CloseReason> bobSaw = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(link -> {
            link.channel().onMessage((m, how) -> {
                byte[] got = new byte[m.remaining()];
                m.get(got);
                received.put(ByteBuffer.wrap(got).getInt(0), got);
            });
            link.channel().closed().thenAccept(bobSaw::complete);
        }));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            acks.add(link.channel().send(message(i)).toCompletableFuture());
        }
        alice.close();
        CloseReason reason = bobSaw.get(15, TimeUnit.SECONDS);
        assertEquals(CloseReason.NORMAL, reason.code(), reason.toString());
        assertEquals(N, received.size(), "messages delivered");
        for (int i = 0; i < N; i++) {
            assertArrayEquals(message(i).array(), received.get(i), "message " + i);
            acks.get(i).get(5, TimeUnit.SECONDS);   // acknowledged: the stage completed normally
        }
        assertEquals(CloseReason.NORMAL, link.channel().closed().toCompletableFuture().get(1, TimeUnit.SECONDS).code());
    }

    @Test
    void linkCloseReturnsAStageAndDeliversEverything() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        Device alice = device("a");
        Device bob = device("b");
        Map<Integer, byte[]> received = new ConcurrentHashMap<>();
        CompletableFuture<CloseReason> bobSaw = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(link -> {
            link.channel().onMessage((m, how) -> {
                byte[] got = new byte[m.remaining()];
                m.get(got);
                received.put(ByteBuffer.wrap(got).getInt(0), got);
            });
            link.channel().closed().thenAccept(bobSaw::complete);
        }));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        for (int i = 0; i < N; i++) {
            link.channel().send(message(i));
        }
        long t0 = System.nanoTime();
        CompletableFuture<CloseReason> closing = link.close().toCompletableFuture();
        long returnedAfter = System.nanoTime() - t0;
        assertEquals(CloseReason.NORMAL, closing.get(15, TimeUnit.SECONDS).code());
        // Alice's stage means bob acknowledged everything; bob's handler has seen it all once
        // his closed() completes (it comes after the link's last message).
        assertEquals(CloseReason.NORMAL, bobSaw.get(15, TimeUnit.SECONDS).code());
        assertEquals(N, received.size());
        // Not a timing assertion on the close itself: close() must return before the 1 MiB is
        // acknowledged, which it cannot do if it waited for it.
        assertTrue(returnedAfter < TimeUnit.SECONDS.toNanos(5), "close() returned without waiting");
    }

    @Test
    void abortFailsEveryPendingSendInsteadOfDroppingIt() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        Device alice = device("a");
        Device bob = device("b");
        CompletableFuture<CloseReason> bobSaw = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(link -> link.channel().closed().thenAccept(bobSaw::complete)));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            acks.add(link.channel().send(message(i)).toCompletableFuture());
        }
        alice.abort();
        for (CompletableFuture<Void> ack : acks) {
            try {
                ack.get(5, TimeUnit.SECONDS);
            } catch (java.util.concurrent.ExecutionException e) {
                ChannelClosedException c = assertInstanceOf(ChannelClosedException.class, e.getCause());
                assertEquals(CloseReason.ABORTED, c.reason().code(), c.reason().toString());
            }
        }
        // The sends behind the 1 MiB message cannot all be acknowledged a few microseconds later.
        assertTrue(acks.get(N - 1).isCompletedExceptionally(), "the last send failed rather than vanished");
        CloseReason seen = bobSaw.get(5, TimeUnit.SECONDS);
        assertEquals(CloseReason.ABORTED, seen.code(), seen.toString());
        assertTrue(seen.byPeer());
    }

    /**
     * A peer killed mid-link (its own JVM, SIGKILL): the server tells the surviving side, whose
     * link closes with PEER_OFFLINE instead of waiting out the 60 s idle timeout. (How fast is a
     * benchmark: PeerOfflineDetection.)
     */
    @Test
    void aKilledPeerClosesTheLinkWithPeerOffline() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        Device alice = device("a");
        Process bob = startPeerProcess("b");
        try {
            PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
            link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(60, link.channel().options().idleTimeout().toSeconds(), "the idle timeout is not what closes it");
            bob.destroyForcibly();
            CloseReason reason = link.channel().closed().toCompletableFuture().get(20, TimeUnit.SECONDS);
            assertEquals(CloseReason.PEER_OFFLINE, reason.code(), reason.toString());
            assertTrue(reason.message().contains("offline"), reason.message());
        } finally {
            bob.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /** A peer that only loses the server keeps its links: the peer answers the confirming PING. */
    @Test
    void aPeerThatOnlyLostTheServerKeepsItsLink() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        Device alice = device("a");
        Device bob = device("b");
        bob.onIncoming(request -> request.accept());
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        java.util.concurrent.BlockingQueue<io.peerlink.Rendezvous.State> states = new java.util.concurrent.LinkedBlockingQueue<>();
        bob.rendezvous().onStateChange(states::add);
        // Stop the server: bob's (and alice's) control connections drop, the link does not.
        server.close();
        assertEquals(io.peerlink.Rendezvous.State.RECONNECTING, states.poll(10, TimeUnit.SECONDS));
        link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertTrue(link.channel().isOpen());
    }

    /** With the server down, connect fails at once with NO_RENDEZVOUS and "connection refused" as the cause. */
    @Test
    void withTheServerDownConnectFailsFastWithTheCause() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a, b);
        java.net.URI uri = server.controlUri();
        InetSocketAddress stun = server.stunAddress();
        server.close();
        Device alice = PeerLinks.device().identity(dir.resolve("a.key")).rendezvous(uri).stunServer(stun)
                .udp(LOOPBACK).build();
        toClose.add(alice);
        java.util.concurrent.ExecutionException e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> alice.connect(b).toCompletableFuture().get(20, TimeUnit.SECONDS));
        io.peerlink.UnreachableException u = assertInstanceOf(io.peerlink.UnreachableException.class, e.getCause());
        assertEquals(io.peerlink.UnreachableException.Reason.NO_RENDEZVOUS, u.reason(), u.toString());
        assertTrue(u.getCause() != null && u.getCause().getMessage().contains("connection refused"), String.valueOf(u.getCause()));
        // And again later, while the device keeps reconnecting in the background.
        e = org.junit.jupiter.api.Assertions.assertThrows(
                java.util.concurrent.ExecutionException.class, () -> alice.connect(b).toCompletableFuture().get(20, TimeUnit.SECONDS));
        u = assertInstanceOf(io.peerlink.UnreachableException.class, e.getCause());
        assertEquals(io.peerlink.UnreachableException.Reason.NO_RENDEZVOUS, u.reason(), u.toString());
        assertTrue(u.getMessage().contains("connection refused"), u.getMessage());
    }

    private Process startPeerProcess(String name) throws Exception {
        Path javaBin = Path.of(System.getProperty("java.home"), "bin", "java");
        ProcessBuilder pb = new ProcessBuilder(javaBin.toString(), "-cp", System.getProperty("java.class.path"),
                PeerProcess.class.getName(), dir.resolve(name + ".key").toString(), server.controlUri().toString(),
                server.stunAddress().getHostString(), String.valueOf(server.stunAddress().getPort()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        java.io.BufferedReader out = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8));
        CompletableFuture<Void> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try {
                StringBuilder seen = new StringBuilder();
                for (String line; (line = out.readLine()) != null; ) {
                    seen.append(line).append('\n');
                    if (line.equals("ready")) {
                        ready.complete(null);
                    }
                }
                ready.completeExceptionally(new AssertionError("peer process ended before registering:\n" + seen));
            } catch (java.io.IOException e) {
                ready.completeExceptionally(e);
            }
        }, "peer-process-output");
        reader.setDaemon(true);
        reader.start();
        ready.get(30, TimeUnit.SECONDS);
        return p;
    }
}
