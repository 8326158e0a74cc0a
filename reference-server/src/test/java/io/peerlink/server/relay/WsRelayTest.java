package io.peerlink.server.relay;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.rendezvous.WsRelay;
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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WebSocket relay (docs/relay.md, "WebSocket relay"): real devices whose UDP cannot reach each
 * other (a firewall between their ports) and no TURN server link through their rendezvous
 * WebSockets, the path is RELAY over {@code wsrelay}, the transfer is byte-exact, the server's
 * counters grow by it; a direct path opening later replaces it; the TURN limits ({@code turn.*})
 * apply: a link over its byte cap or rate is cut down while other pairs keep relaying, and a device
 * over its per-device quota cannot relay with one more peer.
 */
class WsRelayTest {
    private static final String TOKEN = "ws-relay-test-operator-token";
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private ReferenceServer server;
    private ServerConfig.Builder serverConfig;

    @AfterEach
    void closeAll() throws Exception {
        GatedUdpProvider.BLOCKED.clear();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private void startServer(ServerConfig.Builder config) throws Exception {
        Path file = dir.resolve("allow-list");
        StringBuilder ids = new StringBuilder();
        for (String name : List.of("a", "b", "c", "d")) {
            ids.append(DeviceIdentity.loadOrCreate(dir.resolve(name + ".key")).id()).append('\n');
        }
        Files.writeString(file, ids);
        // No TURN: the WebSocket is the only relay.
        serverConfig = config;
        server = ReferenceServer.start(config.turnPort(-1).bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(file).statusToken(TOKEN).build());
        toClose.add(server);
    }

    private WsRelay relay() {
        return server.wsRelay();
    }

    private Device device(String name) throws Exception {
        return device(name, server.controlUri());
    }

    private Device device(String name, java.net.URI rendezvous) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(rendezvous)
                .stunServer(server.stunAddress())
                .transport(Endpoint.parse("gated-udp://127.0.0.1:0"), GatedUdpProvider.class.getName())
                .connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        GatedUdpProvider.BLOCKED.add(d.localEndpoints().get(0).port()); // no UDP between devices
        return d;
    }

    private record Pair(PeerLink a, PeerLink b, List<LinkEvent.PathChanged> aChanges, List<ByteBuffer> received) {
    }

    private Pair link(Device a, Device b) throws Exception {
        CompletableFuture<PeerLink> incoming = new CompletableFuture<>();
        List<ByteBuffer> received = Collections.synchronizedList(new ArrayList<>());
        b.onIncoming(req -> req.accept().whenComplete((l, e) -> {
            if (l != null) {
                l.channel().onMessage((m, how) -> received.add(copy(m)));
                incoming.complete(l);
            } else {
                incoming.completeExceptionally(e);
            }
        }));
        PeerLink la = a.connect(b.id()).toCompletableFuture().get(20, TimeUnit.SECONDS);
        List<LinkEvent.PathChanged> changes = new CopyOnWriteArrayList<>();
        la.addListener(e -> {
            if (e instanceof LinkEvent.PathChanged pc) {
                changes.add(pc);
            }
        });
        return new Pair(la, incoming.get(15, TimeUnit.SECONDS), changes, received);
    }

    private static ByteBuffer copy(ByteBuffer m) {
        ByteBuffer c = ByteBuffer.allocate(m.remaining());
        c.put(m.duplicate()).flip();
        return c;
    }

    /** Message i: 1,000 bytes, its index then bytes derived from it, so a transfer checks byte-exact. */
    private static ByteBuffer message(int i) {
        ByteBuffer m = ByteBuffer.allocate(1000);
        m.putInt(0, i);
        for (int k = 4; k < 1000; k++) {
            m.put(k, (byte) (i * 31 + k));
        }
        return m;
    }

    private static CompletableFuture<?> send(PeerLink from, int first, int count) {
        CompletableFuture<?> last = null;
        for (int i = first; i < first + count; i++) {
            last = from.channel().send(message(i)).toCompletableFuture();
        }
        return last;
    }

    private static void assertExact(List<ByteBuffer> received, int count, Duration within) throws Exception {
        await(() -> received.size() >= count, within, () -> "received " + received.size() + " of " + count);
        Thread.sleep(100);
        assertEquals(count, received.size(), "no duplicates");
        for (int i = 0; i < count; i++) {
            assertEquals(message(i), received.get(i), "message " + i + " byte-exact and in order");
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

    private static void assertOnWsRelay(PeerLink l) {
        assertEquals(PathKind.RELAY, l.path().kind(), l.paths().toString());
        assertEquals("wsrelay", l.path().local().scheme(), l.paths().toString());
        assertEquals("wsrelay", l.path().remote().scheme(), l.paths().toString());
    }

    @Test
    void linksOverTheRendezvousWebSocketWhenNoUdpPathWorks() throws Exception {
        startServer(ServerConfig.builder());
        Device a = device("a");
        Device b = device("b");
        Pair p = link(a, b);
        assertOnWsRelay(p.a());
        assertOnWsRelay(p.b());
        assertEquals("/" + b.id().value(), p.a().path().remote().path(), "addressed by the peer's device ID");
        long before = relay().relayedBytes();
        int count = 1100; // 1,100,000 bytes > 1 MiB
        send(p.a(), 0, count).get(60, TimeUnit.SECONDS);
        assertExact(p.received(), count, Duration.ofSeconds(30));
        assertTrue(relay().relayedBytes() - before >= count * 1000L, "the server relayed the transfer: " + relay().relayedBytes());
        assertEquals(0, relay().dropped(WsRelay.Drop.NOT_INTRODUCED));
        String metrics = server.metricsText();
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("peerlink_relay_bytes_total\\{relay=\"ws\",?\\} ([0-9.E]+)")
                .matcher(metrics);
        assertTrue(m.find(), metrics);
        assertTrue(Double.parseDouble(m.group(1)) >= count * 1000.0, "/metrics counts the relayed bytes: " + m.group());
        // The operator's dashboard shows the same total.
        java.net.http.HttpResponse<String> r = java.net.http.HttpClient.newHttpClient().send(
                java.net.http.HttpRequest.newBuilder(server.dashboardUri().resolve("snapshot")).header("Authorization", "Bearer " + TOKEN)
                        .build(), java.net.http.HttpResponse.BodyHandlers.ofString());
        assertEquals(200, r.statusCode(), r.body());
        java.util.regex.Matcher ws = java.util.regex.Pattern.compile("\"relayedWsBytes\":(\\d+)").matcher(r.body());
        assertTrue(ws.find(), r.body());
        assertTrue(Long.parseLong(ws.group(1)) >= count * 1000L, "dashboard: " + ws.group());
    }

    @Test
    void aDirectPathThatOpensLaterReplacesTheWebSocketRelay() throws Exception {
        startServer(ServerConfig.builder());
        Device a = device("a");
        Device b = device("b");
        Pair p = link(a, b);
        assertOnWsRelay(p.a());
        GatedUdpProvider.BLOCKED.clear(); // the punch gets through now, while the direct checks still run
        send(p.a(), 0, 100);
        await(() -> p.a().path().kind() != PathKind.RELAY && p.b().path().kind() != PathKind.RELAY, Duration.ofSeconds(10),
                () -> "paths " + p.a().paths() + " / " + p.b().paths());
        send(p.a(), 100, 200).get(30, TimeUnit.SECONDS);
        assertExact(p.received(), 300, Duration.ofSeconds(20));
        assertTrue(p.aChanges().stream().anyMatch(c -> "wsrelay".equals(c.from().local().scheme()) && c.to().kind() != PathKind.RELAY),
                "PathChanged ws-relay -> direct: " + p.aChanges());
    }

    @Test
    void aLinkOverItsByteCapIsCutWhileOtherPairsKeepRelaying() throws Exception {
        long cap = 200_000;
        startServer(ServerConfig.builder().relayLimits(cap, 8L << 20, 4));
        Device a = device("a");
        Device b = device("b");
        Device c = device("c");
        Device d = device("d");
        Pair ab = link(a, b);
        Pair cd = link(c, d);
        assertOnWsRelay(ab.a());
        assertOnWsRelay(cd.a());
        send(ab.a(), 0, 1000); // 1 MB through a 200 kB cap
        await(() -> relay().dropped(WsRelay.Drop.OVER_LIMIT) > 0, Duration.ofSeconds(20), () -> "frames refused over the cap");
        // c and d have budgets of their own: they relay within theirs.
        send(cd.a(), 0, 150).get(30, TimeUnit.SECONDS);
        assertExact(cd.received(), 150, Duration.ofSeconds(20));
        Thread.sleep(500);
        assertTrue(ab.received().size() < 1000, "a's transfer was cut short: " + ab.received().size());
        // What a relayed to b fits in the cap of the link (both directions), plus c's 150 kB and its acknowledgements.
        assertTrue(relay().relayedBytes() <= cap + 150_000 + 20_000, "relayed " + relay().relayedBytes());
    }

    @Test
    void aLinkOverItsRateIsSlowedToIt() throws Exception {
        long rate = 100_000;
        startServer(ServerConfig.builder().relayLimits(1L << 30, rate, 4));
        Device a = device("a");
        Device b = device("b");
        Pair ab = link(a, b);
        assertOnWsRelay(ab.a());
        long before = relay().relayedBytes();
        long start = System.nanoTime();
        int count = 400; // 400 kB at 100 kB/s with 100 kB of burst: at least 3 s
        send(ab.a(), 0, count).get(60, TimeUnit.SECONDS);
        assertExact(ab.received(), count, Duration.ofSeconds(60));
        double seconds = (System.nanoTime() - start) / 1e9;
        long relayed = relay().relayedBytes() - before;
        assertTrue(relay().dropped(WsRelay.Drop.OVER_LIMIT) > 0, "frames over the rate were refused");
        assertTrue(seconds >= (relayed - 2.0 * rate) / rate, relayed + " bytes in " + seconds + " s at " + rate + " B/s");
    }

    @Test
    void aDeviceOverItsQuotaOfRelayedPeersCannotRelayWithOneMore() throws Exception {
        startServer(ServerConfig.builder().relayLimits(1L << 30, 8L << 20, 1));
        Device a = device("a");
        Device b = device("b");
        Device c = device("c");
        Pair ab = link(a, b);
        assertOnWsRelay(ab.a());
        c.onIncoming(req -> req.accept());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.connect(c.id()).toCompletableFuture().get(30, TimeUnit.SECONDS));
        assertInstanceOf(UnreachableException.class, e.getCause(), String.valueOf(e.getCause()));
        assertEquals(UnreachableException.Reason.NO_PATH, ((UnreachableException) e.getCause()).reason());
        assertTrue(relay().dropped(WsRelay.Drop.OVER_LIMIT) > 0);
        // The link within the quota keeps relaying.
        send(ab.a(), 0, 200).get(30, TimeUnit.SECONDS);
        assertExact(ab.received(), 200, Duration.ofSeconds(20));
    }

    /**
     * The rendezvous server restarts mid-transfer (same port, nothing remembered): both devices
     * reconnect, report their links again, and the new server relays the rest of the transfer; the
     * datagrams lost during the gap are retransmitted by the reliable channel.
     */
    @Test
    void aRelayedLinkSurvivesTheServerRestartingMidTransfer() throws Exception {
        startServer(ServerConfig.builder());
        Device a = device("a");
        Device b = device("b");
        Pair p = link(a, b);
        assertOnWsRelay(p.a());
        int port = server.controlUri().getPort();
        send(p.a(), 0, 600);
        await(() -> p.received().size() >= 150, Duration.ofSeconds(30), () -> "received " + p.received().size());
        server.close();
        toClose.remove(server);
        await(() -> a.rendezvous().state() != io.peerlink.Rendezvous.State.REGISTERED, Duration.ofSeconds(10), () -> "a noticed");
        server = ReferenceServer.start(serverConfig.httpPort(port).build());
        toClose.add(server);
        long restarted = System.nanoTime();
        send(p.a(), 600, 600);
        assertExact(p.received(), 1200, Duration.ofSeconds(60));
        System.out.printf("WsRelayTest: server restarted; the rest of the transfer arrived %.0f ms later (load %s)%n",
                (System.nanoTime() - restarted) / 1e6, java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim());
        assertTrue(p.a().channel().isOpen() && p.b().channel().isOpen(), "link open");
        assertOnWsRelay(p.a());
        assertOnWsRelay(p.b());
        assertTrue(relay().relayedBytes() > 0, "the restarted server relayed the rest: " + relay().relayedBytes());
    }

    /**
     * One device's control connection is cut mid-transfer (its TCP through a forwarder the test
     * closes): the server tells the peer it went offline, the device reconnects at once and reports
     * its links, and the link carries on over the relay of its new connection, byte-exact.
     */
    @Test
    void aRelayedLinkSurvivesItsDevicesControlConnectionBeingCut() throws Exception {
        startServer(ServerConfig.builder());
        try (TcpForwarder forwarder = new TcpForwarder(new java.net.InetSocketAddress("127.0.0.1", server.controlUri().getPort()))) {
            java.net.URI via = server.controlUri();
            via = new java.net.URI(via.getScheme(), null, "127.0.0.1", forwarder.port(), via.getPath(), null, null);
            Device a = device("a", via);
            Device b = device("b");
            Pair p = link(a, b);
            assertOnWsRelay(p.a());
            send(p.a(), 0, 600);
            await(() -> p.received().size() >= 150, Duration.ofSeconds(30), () -> "received " + p.received().size());
            long before = relay().relayedBytes();
            long cut = System.nanoTime();
            forwarder.cut();
            await(() -> forwarder.accepted() >= 2 && a.rendezvous().state() == io.peerlink.Rendezvous.State.REGISTERED,
                    Duration.ofSeconds(10), () -> "a reconnected: " + forwarder.accepted() + " " + a.rendezvous().state());
            long back = System.nanoTime();
            send(p.a(), 600, 600);
            assertExact(p.received(), 1200, Duration.ofSeconds(60));
            System.out.printf("WsRelayTest: cut; registered again after %.0f ms; the rest arrived %.0f ms after that (load %s)%n",
                    (back - cut) / 1e6, (System.nanoTime() - back) / 1e6,
                    java.nio.file.Files.readString(Path.of("/proc/loadavg")).trim());
            assertTrue(p.a().channel().isOpen() && p.b().channel().isOpen(), "link open");
            assertOnWsRelay(p.a());
            assertOnWsRelay(p.b());
            assertTrue(relay().relayedBytes() - before >= 600 * 1000L, "relayed after the cut: " + (relay().relayedBytes() - before));
        }
    }

    /** Forwards TCP connections to a target; {@link #cut()} closes the ones open now (new ones are forwarded again). */
    static final class TcpForwarder implements AutoCloseable {
        private final java.net.ServerSocket listener = new java.net.ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress());
        private final List<java.net.Socket> open = new CopyOnWriteArrayList<>();
        private final java.util.concurrent.atomic.AtomicInteger accepted = new java.util.concurrent.atomic.AtomicInteger();

        TcpForwarder(java.net.InetSocketAddress target) throws java.io.IOException {
            Thread t = new Thread(() -> {
                while (!listener.isClosed()) {
                    try {
                        java.net.Socket in = listener.accept();
                        java.net.Socket out = new java.net.Socket(target.getAddress(), target.getPort());
                        accepted.incrementAndGet();
                        open.add(in);
                        open.add(out);
                        pump(in, out);
                        pump(out, in);
                    } catch (java.io.IOException e) {
                        // closed, or the target refused: the device's connect fails and it retries
                    }
                }
            }, "tcp-forwarder");
            t.setDaemon(true);
            t.start();
        }

        private static void pump(java.net.Socket from, java.net.Socket to) {
            Thread t = new Thread(() -> {
                byte[] buf = new byte[16384];
                try (from; to) {
                    int n;
                    while ((n = from.getInputStream().read(buf)) >= 0) {
                        to.getOutputStream().write(buf, 0, n);
                    }
                } catch (java.io.IOException e) {
                    // cut
                }
            }, "tcp-forwarder-pump");
            t.setDaemon(true);
            t.start();
        }

        int port() {
            return listener.getLocalPort();
        }

        int accepted() {
            return accepted.get();
        }

        void cut() throws java.io.IOException {
            for (java.net.Socket s : open) {
                s.close();
            }
            open.clear();
        }

        @Override
        public void close() throws java.io.IOException {
            listener.close();
            cut();
        }
    }
}
