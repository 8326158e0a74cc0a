package io.peerlink.server.relay;

import io.peerlink.testkit.Coturn;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Path racing with real TURN relaying through the reference server's embedded TURN server on
 * loopback: two devices whose direct UDP path is cut (a firewall between their ports, STUN and
 * TURN still pass) link through the relay; a direct path that opens later takes over; a direct
 * path that dies fails over to the relayed standby. Every message arrives once and in order.
 */
class RelayRacingTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ReferenceServer server;

    @AfterEach
    void closeAll() throws Exception {
        GatedUdpProvider.BLOCKED.clear();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private void startServer() throws Exception {
        startServer(ServerConfig.builder().turnAllowLoopbackPeers(true));
    }

    private void startServer(ServerConfig.Builder config) throws Exception {
        Path file = dir.resolve("allow-list");
        Files.writeString(file, DeviceIdentity.loadOrCreate(dir.resolve("a.key")).id() + "\n"
                + DeviceIdentity.loadOrCreate(dir.resolve("b.key")).id() + "\n");
        server = ReferenceServer.start(config.bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1).allowListFile(file).build());
        toClose.add(server);
    }

    private Device device(String name) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress())
                .transport(Endpoint.parse("gated-udp://127.0.0.1:0"), GatedUdpProvider.class.getName())
                .connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return d;
    }

    /** {@code receivedAt}: nanoTime of each message's arrival, in the order of {@code received}. */
    private record Pair(PeerLink a, PeerLink b, List<LinkEvent.PathChanged> aChanges, List<ByteBuffer> received, List<Long> receivedAt) {
    }

    private Pair link(Device a, Device b) throws Exception {
        CompletableFuture<PeerLink> incoming = new CompletableFuture<>();
        List<ByteBuffer> received = Collections.synchronizedList(new ArrayList<>());
        List<Long> receivedAt = Collections.synchronizedList(new ArrayList<>());
        b.onIncoming(req -> req.accept().whenComplete((l, e) -> {
            if (l != null) {
                l.channel().onMessage((m, how) -> {
                    synchronized (received) {
                        receivedAt.add(System.nanoTime());
                        received.add(copy(m));
                    }
                });
                incoming.complete(l);
            } else {
                incoming.completeExceptionally(e);
            }
        }));
        PeerLink la = a.connect(b.id()).toCompletableFuture().get(15, TimeUnit.SECONDS);
        List<LinkEvent.PathChanged> changes = new CopyOnWriteArrayList<>();
        la.addListener(e -> {
            if (e instanceof LinkEvent.PathChanged pc) {
                changes.add(pc);
            }
        });
        return new Pair(la, incoming.get(15, TimeUnit.SECONDS), changes, received, receivedAt);
    }

    private static ByteBuffer copy(ByteBuffer m) {
        ByteBuffer c = ByteBuffer.allocate(m.remaining());
        c.put(m.duplicate()).flip();
        return c;
    }

    private static void send(PeerLink from, int first, int count) throws Exception {
        CompletableFuture<?> last = null;
        for (int i = first; i < first + count; i++) {
            ByteBuffer m = ByteBuffer.allocate(1000);
            m.putInt(0, i);
            last = from.channel().send(m).toCompletableFuture();
        }
        last.get(30, TimeUnit.SECONDS);
    }

    private static void assertInOrder(List<ByteBuffer> received, int count) throws Exception {
        await(() -> received.size() >= count, Duration.ofSeconds(20), () -> "received " + received.size() + " of " + count);
        Thread.sleep(100);
        assertEquals(count, received.size(), "no duplicates");
        for (int i = 0; i < count; i++) {
            assertEquals(i, received.get(i).getInt(0), "message " + i + " in order");
        }
    }

    private static void await(BooleanSupplier condition, Duration timeout, java.util.function.Supplier<String> what) throws Exception {
        long end = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > end) {
                throw new AssertionError("timed out: " + what.get());
            }
            Thread.sleep(20);
        }
    }

    private static void block(Device... devices) {
        for (Device d : devices) {
            GatedUdpProvider.BLOCKED.add(d.localEndpoints().get(0).port());
        }
    }

    @Test
    void linksThroughTheEmbeddedTurnServerWhenNoDirectPathWorks() throws Exception {
        startServer();
        Device a = device("a");
        Device b = device("b");
        block(a, b);
        Pair p = link(a, b);
        assertEquals(PathKind.RELAY, p.a().path().kind(), p.a().paths().toString());
        assertEquals(PathKind.RELAY, p.b().path().kind(), p.b().paths().toString());
        assertEquals("turn", p.a().path().local().scheme());
        long before = server.turnServer().stats().relayedBytes();
        send(p.a(), 0, 300);
        assertInOrder(p.received(), 300);
        assertTrue(server.turnServer().stats().relayedBytes() - before >= 300 * 1000,
                "the TURN server relayed the transfer: " + server.turnServer().stats());
    }

    @Test
    void linksThroughAnExternalCoturnWithCredentialsTheRendezvousMinted() throws Exception {
        Coturn coturn = Coturn.start(List.of());
        toClose.add(coturn);
        startServer(ServerConfig.builder().turnPort(-1).externalTurn(List.of(new ServerConfig.ExternalTurn(
                List.of("turn:127.0.0.1:" + coturn.port() + "?transport=udp", "turn:127.0.0.1:" + coturn.port() + "?transport=tcp"),
                coturn.secret()))));
        Device a = device("a");
        Device b = device("b");
        block(a, b);
        Pair p = link(a, b);
        assertEquals(PathKind.RELAY, p.a().path().kind(), p.a().paths().toString());
        assertEquals(PathKind.RELAY, p.b().path().kind(), p.b().paths().toString());
        assertEquals(coturn.address().getAddress().getHostAddress(), p.a().path().local().host());
        send(p.a(), 0, 300);
        assertInOrder(p.received(), 300);
    }

    /**
     * Both devices relay through one coturn that restarts mid-transfer: each TURN transport
     * allocates again (new relayed addresses) and the link set-up that made the allocation
     * trickles the new address to the peer through the rendezvous, which stays up; each side adds
     * the peer's new relayed address as a path, validates it and fails over to it. Every message
     * arrives once and in order.
     */
    @Test
    void bothDevicesRelayedThroughACoturnThatRestartsKeepTheirLink() throws Exception {
        Coturn[] coturn = {Coturn.start(List.of())};
        toClose.add(() -> coturn[0].close());
        startServer(ServerConfig.builder().turnPort(-1).externalTurn(List.of(new ServerConfig.ExternalTurn(
                List.of("turn:127.0.0.1:" + coturn[0].port() + "?transport=udp"), coturn[0].secret()))));
        bothRelayedKeepTheirLinkAcross(() -> coturn[0] = coturn[0].restart());
    }

    /**
     * The same through the reference server's embedded TURN server, whose listeners restart on the
     * same ports (every allocation, permission and channel lost, as in a crash) while messages
     * flow: the transports allocate again with the credentials of the introduction (the
     * rendezvous still holds the link's permitted peers), bind their channels to the peer's
     * address and trickle the new relayed addresses.
     */
    @Test
    void bothDevicesRelayedThroughTheEmbeddedTurnServerThatRestartsKeepTheirLink() throws Exception {
        startServer();
        TurnRelays relays = server.bean(TurnRelays.class);
        int allocationsBefore = relays.embedded().stats().allocations();
        bothRelayedKeepTheirLinkAcross(relays::restartEmbedded);
        assertTrue(relays.embedded().stats().allocations() >= 2,
                "both devices allocated on the restarted server: " + relays.embedded().stats() + ", before " + allocationsBefore);
    }

    @FunctionalInterface
    private interface Restart {
        void run() throws Exception;
    }

    /** Links two relayed devices, sends 100 messages, restarts the relay, sends 200 more while both move to the new allocations. */
    private void bothRelayedKeepTheirLinkAcross(Restart restart) throws Exception {
        Device a = device("a");
        Device b = device("b");
        block(a, b);
        Pair p = link(a, b);
        assertEquals(PathKind.RELAY, p.a().path().kind(), p.a().paths().toString());
        assertEquals(PathKind.RELAY, p.b().path().kind(), p.b().paths().toString());
        Endpoint relayedA = p.a().path().local();
        Endpoint relayedB = p.b().path().local();
        send(p.a(), 0, 100);
        assertInOrder(p.received(), 100);

        // 200 more, 10 every 20 ms: still flowing when the relay restarts, and after.
        CompletableFuture<Void> rest = CompletableFuture.runAsync(() -> {
            try {
                for (int first = 100; first < 300; first += 10) {
                    send(p.a(), first, 10);
                    Thread.sleep(20);
                }
            } catch (Exception e) {
                throw new java.util.concurrent.CompletionException(e);
            }
        });
        await(() -> p.received().size() >= 130, Duration.ofSeconds(20), () -> "received " + p.received().size() + " of 130");
        restart.run();
        assertTrue(p.received().size() < 300, "restarted while messages were still flowing: " + p.received().size());

        await(() -> !p.a().path().remote().equals(relayedB) && !p.b().path().remote().equals(relayedA)
                        && p.a().path().kind() == PathKind.RELAY && p.b().path().kind() == PathKind.RELAY,
                Duration.ofSeconds(30), () -> "both moved to the other's new relayed address: " + p.a().paths() + " / " + p.b().paths());
        rest.get(60, TimeUnit.SECONDS);
        assertInOrder(p.received(), 300);
        long longestGap = 0;
        for (int i = 101; i < 300; i++) {
            longestGap = Math.max(longestGap, p.receivedAt().get(i) - p.receivedAt().get(i - 1));
        }
        // Messages go out 10 every 20 ms: a gap much over 20 ms is the restart's stall.
        System.out.printf(java.util.Locale.ROOT, "RESTART stall-ms=%.1f%n", longestGap / 1e6);
        assertTrue(p.aChanges().stream().anyMatch(c -> c.to().kind() == PathKind.RELAY && !c.to().remote().equals(relayedB)),
                "A's PathChanged to B's new relayed address: " + p.aChanges());
    }

    @Test
    void aDirectPathThatOpensLateReplacesTheRelay() throws Exception {
        startServer();
        Device a = device("a");
        Device b = device("b");
        block(a, b);
        Pair p = link(a, b);
        assertEquals(PathKind.RELAY, p.a().path().kind());
        GatedUdpProvider.BLOCKED.clear(); // the punch gets through now, while the direct checks still run (3 s)
        send(p.a(), 0, 100);
        await(() -> p.a().path().kind() != PathKind.RELAY && p.b().path().kind() != PathKind.RELAY, Duration.ofSeconds(10),
                () -> "paths " + p.a().paths() + " / " + p.b().paths());
        send(p.a(), 100, 200);
        assertInOrder(p.received(), 300);
        assertTrue(p.aChanges().stream().anyMatch(c -> c.from().kind() == PathKind.RELAY && c.to().kind() != PathKind.RELAY),
                "PathChanged relay -> direct: " + p.aChanges());
    }

    @Test
    void aDirectPathThatDiesFailsOverToTheRelayedStandby() throws Exception {
        startServer();
        Device a = device("a");
        Device b = device("b");
        Pair p = link(a, b);
        // Direct wins, or (on a loaded machine) the relay opened first and the direct path took over.
        await(() -> p.a().path().kind() != PathKind.RELAY && p.b().path().kind() != PathKind.RELAY, Duration.ofSeconds(10),
                () -> "direct path: " + p.a().paths() + " / " + p.b().paths());
        // The relayed path keeps racing in the background and stays validated as the standby.
        await(() -> p.a().paths().stream().anyMatch(i -> i.kind() == PathKind.RELAY
                        && (i.state() == PathState.VALIDATED || i.state() == PathState.STANDBY))
                        && p.b().paths().stream().anyMatch(i -> i.kind() == PathKind.RELAY
                        && (i.state() == PathState.VALIDATED || i.state() == PathState.STANDBY)),
                Duration.ofSeconds(10), () -> "relayed standby: " + p.a().paths() + " / " + p.b().paths());
        send(p.a(), 0, 100);
        block(a, b); // the direct path stops answering mid-link
        send(p.a(), 100, 200);
        assertInOrder(p.received(), 300);
        assertEquals(PathKind.RELAY, p.a().path().kind(), p.a().paths().toString());
        assertTrue(p.aChanges().stream().anyMatch(c -> c.from().kind() != PathKind.RELAY && c.to().kind() == PathKind.RELAY),
                "PathChanged direct -> relay: " + p.aChanges());
    }
}
