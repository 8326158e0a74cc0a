package io.peerlink.relay.turn;

import io.peerlink.testkit.Coturn;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathInfo;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A link on a relayed path survives its TURN server restarting: the turn transport notices (a
 * Refresh answered 437, or ICMP port unreachable while the server is down), allocates again and
 * reports its new relayed endpoint; the peer sees authenticated packets from the new relayed
 * address, validates it and moves there. If the relay does not come back, the transport stops and
 * the link falls back to its other validated path. Real Devices, real embedded server, real coturn.
 */
class RelayRestartTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private <T extends AutoCloseable> T track(T c) {
        closeables.add(c);
        return c;
    }

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private static String secret() {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }

    private static TurnServer embedded(String secret, int udpPort) throws Exception {
        return TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true).udpPort(udpPort).tcpPort(-1).build());
    }

    private static Endpoint turnServer(InetSocketAddress server) {
        return Endpoint.parse("turn://127.0.0.1:" + server.getPort());
    }

    /** Both links, and where the listener's path moved. */
    private static final class Pair {
        final PeerLink dialer;
        final PeerLink listener;
        final List<LinkEvent.PathChanged> dialerChanges = new CopyOnWriteArrayList<>();
        final List<LinkEvent.PathChanged> listenerChanges = new CopyOnWriteArrayList<>();

        Pair(Device a, Device b, Endpoint target, NumberedTransfer transfer) throws Exception {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(link -> {
                transfer.receiveOn(link.channel());
                accepted.complete(link);
            }));
            dialer = a.connect(target).toCompletableFuture().get(10, TimeUnit.SECONDS);
            listener = accepted.get(10, TimeUnit.SECONDS);
            dialer.addListener(e -> {
                if (e instanceof LinkEvent.PathChanged c) {
                    dialerChanges.add(c);
                }
            });
            listener.addListener(e -> {
                if (e instanceof LinkEvent.PathChanged c) {
                    listenerChanges.add(c);
                }
            });
        }
    }

    /** A relays through {@code server}; B is a plain UDP device; A dials B through the relay. */
    private void survivesRestart(InetSocketAddress server, ThrowingRunnable restart) throws Exception {
        Device a = track(PeerLinks.device().ephemeralIdentity()
                .transport(turnServer(server), TestTurnTransports.class.getName()).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
        Endpoint relayedBefore = a.localEndpoints().get(0);
        NumberedTransfer transfer = new NumberedTransfer(600, 8 << 10, 2);
        Pair pair = new Pair(a, b, Endpoint.of("turn", b.localEndpoints().get(0).toSocketAddress()), transfer);
        assertEquals(relayedBefore.toSocketAddress(), pair.listener.path().remote().toSocketAddress(),
                "B hears A from A's relayed address");
        CompletableFuture<Void> sending = transfer.sendOn(pair.dialer.channel());
        assertTrue(transfer.after(100).await(30, TimeUnit.SECONDS), "transfer under way");

        restart.run();

        assertTrue(transfer.received() < transfer.messages(), "restarted while messages were still flowing: " + transfer.received());
        sending.get(90, TimeUnit.SECONDS);
        transfer.awaitIntact(60);
        Endpoint relayedAfter = a.localEndpoints().get(0);
        assertNotEquals(relayedBefore, relayedAfter, "the turn transport reports a new relayed endpoint");
        assertEquals(relayedAfter.toSocketAddress(), pair.listener.path().remote().toSocketAddress(),
                "B moved to A's new relayed address: " + pair.listener.paths());
        assertTrue(pair.listenerChanges.stream().anyMatch(c -> c.to().remote().toSocketAddress().equals(relayedAfter.toSocketAddress())),
                "B saw PathChanged to the new relayed address: " + pair.listenerChanges);
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @Test
    void aLinkOnARelayedPathSurvivesTheEmbeddedServerRestarting() throws Exception {
        String secret = secret();
        TestTurnTransports.configure(secret, 500, 15_000);
        TurnServer[] server = {embedded(secret, 0)};
        closeables.add(() -> server[0].close());
        InetSocketAddress address = server[0].udpAddress();
        survivesRestart(address, () -> {
            server[0].close();
            Thread.sleep(300);
            server[0] = embedded(secret, address.getPort());
        });
        assertTrue(server[0].stats().allocations() >= 1, "A allocated on the restarted server");
    }

    @Test
    void aLinkOnARelayedPathSurvivesCoturnRestarting() throws Exception {
        Coturn[] coturn = {Coturn.start(List.of())};
        closeables.add(() -> coturn[0].close());
        TestTurnTransports.configure(coturn[0].secret(), 500, 15_000);
        survivesRestart(coturn[0].address(), () -> coturn[0] = coturn[0].restart());
    }

    @Test
    void aLinkFallsBackToItsDirectPathWhenTheRelayDoesNotComeBack() throws Exception {
        String secret = secret();
        TestTurnTransports.configure(secret, 500, 1_500);
        TurnServer server = embedded(secret, 0);
        closeables.add(server);
        Endpoint turn = turnServer(server.udpAddress());
        String provider = TestTurnTransports.class.getName();
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(turn, provider).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(turn, provider).build());
        NumberedTransfer transfer = new NumberedTransfer(600, 8 << 10, 2);
        Pair pair = new Pair(a, b, b.localEndpoints().get(0), transfer);
        PathInfo relayed = pair.dialer.switchPath(a.localEndpoints().get(1), b.localEndpoints().get(1))
                .toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals("turn", relayed.local().scheme());
        CompletableFuture<Void> sending = transfer.sendOn(pair.dialer.channel());
        assertTrue(transfer.after(100).await(30, TimeUnit.SECONDS), "transfer under way");

        server.close();

        assertTrue(transfer.received() < transfer.messages(), "relay gone while messages were still flowing: " + transfer.received());
        sending.get(90, TimeUnit.SECONDS);
        transfer.awaitIntact(60);
        assertEquals("udp", pair.dialer.path().local().scheme(), "A fell back to the direct path: " + pair.dialer.paths());
        assertEquals("udp", pair.listener.path().local().scheme(), "B fell back too: " + pair.listener.paths());
        LinkEvent.PathChanged fallback = pair.dialerChanges.get(pair.dialerChanges.size() - 1);
        assertEquals("turn", fallback.from().local().scheme());
        assertEquals("udp", fallback.to().local().scheme());
    }

    /** A started TURN transport on a fresh embedded server, the server's address, the first relayed endpoint and every change reported. */
    private record Relayed(String secret, TurnServer[] server, InetSocketAddress address, io.peerlink.spi.Transport turn,
                           Endpoint before, List<Endpoint[]> changes) {
    }

    /** A {@link Relayed} with a check interval of a minute: only {@code onNetworkChanged} makes it re-allocate soon. */
    private Relayed relayed() throws Exception {
        String secret = secret();
        TestTurnTransports.configure(secret, 60_000, 15_000);
        TurnServer[] server = {embedded(secret, 0)};
        closeables.add(() -> server[0].close());
        InetSocketAddress address = server[0].udpAddress();
        io.peerlink.spi.Transport turn = new TestTurnTransports().create(io.peerlink.spi.TransportConfig.bind(turnServer(address)).build());
        closeables.add(turn::destroy);
        List<Endpoint[]> changes = new CopyOnWriteArrayList<>();
        turn.start(new io.peerlink.spi.DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, java.nio.ByteBuffer datagram) {
            }

            @Override
            public void onLocalEndpointChanged(Endpoint previous, Endpoint current) {
                changes.add(new Endpoint[] {previous, current});
            }
        });
        return new Relayed(secret, server, address, turn, turn.localEndpoint(), changes);
    }

    private static void awaitChange(List<Endpoint[]> changes) throws InterruptedException {
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (changes.isEmpty() && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertTrue(!changes.isEmpty(), "onLocalEndpointChanged within 10 s");
    }

    /**
     * A device's network changed (docs/protocol-paths.md, "A device changes its address"): the core
     * calls {@code onNetworkChanged} and the TURN transport allocates again at once instead of
     * finding out at its next periodic check. Here the old allocation is gone because the server
     * restarted (what a move looks like to the server: the allocation's 5-tuple no longer
     * exists); the check interval is a minute, so only the hook explains a new allocation within
     * seconds.
     */
    @Test
    void aNetworkChangeMakesTheTurnTransportReplaceItsAllocationAtOnce() throws Exception {
        Relayed r = relayed();
        r.server()[0].close();
        r.server()[0] = embedded(r.secret(), r.address().getPort());
        Thread.sleep(500);
        assertTrue(r.changes().isEmpty(), "nothing noticed the restart by itself within 500 ms (check interval 60 s)");

        long start = System.nanoTime();
        r.turn().onNetworkChanged();
        awaitChange(r.changes());
        long millis = (System.nanoTime() - start) / 1_000_000;
        Endpoint[] change = r.changes().get(0);
        assertEquals(r.before(), change[0]);
        assertEquals(r.turn().localEndpoint(), change[1]);
        assertNotEquals(r.before(), change[1], "a new relayed endpoint");
        assertTrue(millis < 5_000, "replaced within " + millis + " ms of the hook");
        assertEquals(1, r.server()[0].stats().allocations(), "allocated on the restarted server");
    }

    /**
     * A device moving: the first network change (the old address removed) starts a re-allocation
     * that the server's address swallows (here a socket that reads and never answers, standing in
     * for a device with no route); the second (the new address up) must start a fresh one at once
     * and abandon the first rather than wait for its retransmission (500 ms) and then allocate a
     * second time. One new allocation, one {@code onLocalEndpointChanged}, from the restarted server.
     */
    @Test
    void aSecondNetworkChangeAbandonsTheReallocationUnderWay() throws Exception {
        Relayed r = relayed();
        r.server()[0].close();
        java.net.DatagramSocket blackHole = new java.net.DatagramSocket(r.address());
        java.util.concurrent.atomic.AtomicInteger swallowed = new java.util.concurrent.atomic.AtomicInteger();
        Thread reader = new Thread(() -> {
            byte[] buffer = new byte[2048];
            while (!blackHole.isClosed()) {
                try {
                    blackHole.receive(new java.net.DatagramPacket(buffer, buffer.length));
                    swallowed.incrementAndGet();
                } catch (java.io.IOException closed) {
                    return;
                }
            }
        });
        reader.start();
        r.turn().onNetworkChanged();
        long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (swallowed.get() == 0 && System.nanoTime() < end) {
            Thread.sleep(5);
        }
        assertTrue(swallowed.get() >= 1, "the first attempt's Allocate went unanswered");
        blackHole.close();
        reader.join(5_000);
        r.server()[0] = embedded(r.secret(), r.address().getPort());

        r.turn().onNetworkChanged();
        awaitChange(r.changes());
        Thread.sleep(1_500); // the abandoned attempt's retransmission (at 500 ms) would have come by now
        assertEquals(1, r.changes().size(), "one replacement: the first attempt was abandoned, not finished and replaced again");
        assertEquals(r.before(), r.changes().get(0)[0]);
        assertEquals(r.turn().localEndpoint(), r.changes().get(0)[1]);
        assertNotEquals(r.before(), r.changes().get(0)[1]);
        assertEquals(1, r.server()[0].stats().allocations(), "one allocation on the restarted server");
    }
}
