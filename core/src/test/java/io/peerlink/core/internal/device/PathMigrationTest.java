package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathInfo;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.core.internal.session.Session;
import io.peerlink.testkit.InMemoryNetwork;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A link's session moves between paths mid-transfer, over real UDP sockets and across
 * transports, without losing, duplicating or reordering a message.
 */
class PathMigrationTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private static final Endpoint MEM_BIND = new Endpoint(InMemoryNetwork.SCHEME, "local", 0, "");
    private static final String MEM = MemTransportProviders.First.class.getName();
    private final List<Device> devices = new ArrayList<>();

    private Device track(Device d) {
        devices.add(d);
        return d;
    }

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    /** The accepting side's link, and the events both links saw. */
    private static final class Pair {
        final PeerLink dialer;
        final PeerLink listener;
        final List<LinkEvent> dialerEvents = new CopyOnWriteArrayList<>();
        final List<LinkEvent> listenerEvents = new CopyOnWriteArrayList<>();
        final CompletableFuture<PathInfo> listenerMoved = new CompletableFuture<>();

        Pair(Device a, Device b, Endpoint target, NumberedTransfer transfer) throws Exception {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(link -> {
                transfer.receiveOn(link.channel());
                accepted.complete(link);
            }));
            dialer = a.connect(target).toCompletableFuture().get(5, TimeUnit.SECONDS);
            listener = accepted.get(5, TimeUnit.SECONDS);
            dialer.addListener(dialerEvents::add);
            listener.addListener(e -> {
                listenerEvents.add(e);
                if (e instanceof LinkEvent.PathChanged c) {
                    listenerMoved.complete(c.to());
                }
            });
        }
    }

    @Test
    void migratesBetweenTwoUdpSocketsMidTransferWithoutLossOrDuplication() throws Exception {
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).udp(LOOPBACK).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
        NumberedTransfer transfer = new NumberedTransfer(600, 16 << 10, 1);
        Pair pair = new Pair(a, b, b.localEndpoints().get(0), transfer);
        Endpoint second = a.localEndpoints().get(1);
        CompletableFuture<Void> sending = transfer.sendOn(pair.dialer.channel());
        assertTrue(transfer.after(150).await(20, TimeUnit.SECONDS), "transfer under way");

        PathInfo now = pair.dialer.switchPath(second, pair.dialer.path().remote()).toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertEquals(PathState.ACTIVE, now.state());
        assertEquals(second, pair.dialer.path().local());
        assertTrue(now.rtt().compareTo(Duration.ZERO) > 0, "validation measured an RTT");
        PathInfo followed = pair.listenerMoved.get(5, TimeUnit.SECONDS);
        int receivedWhenMoved = transfer.received();
        assertEquals(second, followed.remote(), "the peer followed to the new path");
        assertTrue(receivedWhenMoved < transfer.messages(), "moved while messages were still flowing: " + receivedWhenMoved);
        sending.get(30, TimeUnit.SECONDS);
        transfer.awaitIntact(30);
        assertEquals(second, pair.listener.path().remote());
        LinkEvent.PathChanged change = (LinkEvent.PathChanged) pair.dialerEvents.get(0);
        assertEquals(a.localEndpoints().get(0), change.from().local());
        assertEquals(second, change.to().local());
        assertTrue(pair.dialer.paths().stream().anyMatch(p -> p.state() == PathState.STANDBY
                && p.local().equals(a.localEndpoints().get(0))), "old path kept as standby: " + pair.dialer.paths());
    }

    @Test
    void migratesFromUdpToAnotherTransportMidTransfer() throws Exception {
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(MEM_BIND, MEM).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(MEM_BIND, MEM).build());
        NumberedTransfer transfer = new NumberedTransfer(400, 8 << 10, 1);
        Pair pair = new Pair(a, b, b.localEndpoints().get(0), transfer);
        CompletableFuture<Void> sending = transfer.sendOn(pair.dialer.channel());
        assertTrue(transfer.after(100).await(20, TimeUnit.SECONDS), "transfer under way");

        pair.dialer.switchPath(a.localEndpoints().get(1), b.localEndpoints().get(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);

        assertEquals(InMemoryNetwork.SCHEME, pair.dialer.path().remote().scheme());
        assertEquals(a.localEndpoints().get(1), pair.listenerMoved.get(5, TimeUnit.SECONDS).remote());
        sending.get(30, TimeUnit.SECONDS);
        transfer.awaitIntact(30);
    }

    @Test
    void followsANatRebindingWithoutTheMovingSideNoticing() throws Exception {
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
        try (UdpProxy nat = new UdpProxy(b.localEndpoints().get(0).toSocketAddress())) {
            NumberedTransfer transfer = new NumberedTransfer(600, 16 << 10, 1);
            Pair pair = new Pair(a, b, Endpoint.udp(nat.front()), transfer);
            assertEquals(Endpoint.udp(nat.back()), pair.listener.path().remote());
            CompletableFuture<Void> sending = transfer.sendOn(pair.dialer.channel());
            assertTrue(transfer.after(150).await(20, TimeUnit.SECONDS), "transfer under way");

            nat.rebind();

            PathInfo rebound = pair.listenerMoved.get(10, TimeUnit.SECONDS);
            assertEquals(Endpoint.udp(nat.back()), rebound.remote());
            sending.get(30, TimeUnit.SECONDS);
            transfer.awaitIntact(30);
            assertTrue(pair.dialerEvents.stream().noneMatch(e -> e instanceof LinkEvent.PathChanged),
                    "the dialer's own path never changed: " + pair.dialerEvents);
        }
    }

    @Test
    void aPathNobodyAnswersOnFailsAndTheLinkStays() throws Exception {
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).udp(LOOPBACK).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
        NumberedTransfer transfer = new NumberedTransfer(1, 100);
        Pair pair = new Pair(a, b, b.localEndpoints().get(0), transfer);
        PathInfo before = pair.dialer.path();
        try (DatagramSocket silent = new DatagramSocket(LOOPBACK)) {
            Endpoint nowhere = Endpoint.udp(new InetSocketAddress("127.0.0.1", silent.getLocalPort()));
            CompletableFuture<PathInfo> switching = pair.dialer.switchPath(a.localEndpoints().get(1), nowhere).toCompletableFuture();

            ExecutionException e = awaitValidationFailure(switching, pair.dialer);

            assertEquals(io.peerlink.UnreachableException.class, e.getCause().getClass());
            assertTrue(e.getCause().getMessage().contains("no PATH_RESPONSE to " + Session.MAX_CHALLENGES + " challenges"),
                    e.getCause().getMessage());
            // Every challenge went out (padded to QUIC's minimum MTU), and nothing else went there.
            silent.setSoTimeout(500);
            List<Integer> sizes = new ArrayList<>();
            DatagramPacket packet = new DatagramPacket(new byte[2048], 2048);
            try {
                while (true) {
                    silent.receive(packet);
                    sizes.add(packet.getLength());
                }
            } catch (SocketTimeoutException drained) {
                // every datagram the path got was read
            }
            assertEquals(Collections.nCopies(Session.MAX_CHALLENGES, 1200), sizes, "datagrams the silent path got");
        }
        assertEquals(before.local(), pair.dialer.path().local());
        assertTrue(pair.dialer.paths().stream().anyMatch(p -> p.state() == PathState.FAILED));
        transfer.sendOn(pair.dialer.channel()).get(5, TimeUnit.SECONDS);
        transfer.awaitIntact(5);
    }

    /**
     * Waits for a path validation nobody answers to fail. It fails after {@link Session#MAX_CHALLENGES}
     * challenges, each resent after {@code max(50 ms, 2 x smoothed RTT)}, doubling
     * (docs/protocol-paths.md): 63 such intervals, about 3 s on loopback. But on an idle link the
     * estimate may still be the initial 333 ms (no sample yet), or a single sample a loaded machine
     * stretched, and it stays so: the validation then lasts up to 63 x 2 x that. So the wait follows
     * that schedule for the largest estimate the link reported meanwhile, twice over plus 5 s for
     * timers that run late on a loaded machine, rather than a fixed time (15 s failed under load
     * with an estimate of 339 ms).
     */
    private static ExecutionException awaitValidationFailure(CompletableFuture<PathInfo> validation, PeerLink link)
            throws InterruptedException {
        long start = System.nanoTime();
        long largestRtt = 0;
        while (true) {
            largestRtt = Math.max(largestRtt, link.channel().stats().smoothedRtt().toNanos());
            long interval = Math.max(TimeUnit.MILLISECONDS.toNanos(50), 2 * largestRtt);
            long bound = 2 * ((1L << Session.MAX_CHALLENGES) - 1) * interval + TimeUnit.SECONDS.toNanos(5);
            try {
                PathInfo validated = validation.get(20, TimeUnit.MILLISECONDS);
                throw new AssertionError("a path nobody answers on was validated: " + validated);
            } catch (ExecutionException failed) {
                return failed;
            } catch (TimeoutException notYet) {
                if (System.nanoTime() - start > bound) {
                    throw new AssertionError("the path neither failed nor was validated within "
                            + TimeUnit.NANOSECONDS.toMillis(bound) + " ms (largest smoothed RTT "
                            + TimeUnit.NANOSECONDS.toMillis(largestRtt) + " ms): " + link.paths());
                }
            }
        }
    }
}
