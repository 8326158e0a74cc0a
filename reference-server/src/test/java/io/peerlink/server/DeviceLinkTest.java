package io.peerlink.server;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Real devices (the public API, real UDP sockets, STUN from the link socket) linking through a
 * real reference server on loopback: the whole rendezvous path short of NATs, which the NAT lab
 * covers.
 */
class DeviceLinkTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
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

    private void startServer(String allowList) throws Exception {
        Path file = dir.resolve("allow-list");
        Files.writeString(file, allowList);
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(file).build());
        toClose.add(server);
    }

    private Device device(String name) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(LOOPBACK).connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(Rendezvous.State.REGISTERED, d.rendezvous().state());
        return d;
    }

    @Test
    void devicesLinkThroughTheRendezvousAndExchangeData() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a + " home\n" + b + " home\n");
        Device alice = device("a");
        Device bob = device("b");
        byte[] data = new byte[200_000];
        new Random(1).nextBytes(data);
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        bob.onIncoming(request -> {
            assertEquals(a, request.from());
            request.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
                byte[] got = new byte[m.remaining()];
                m.get(got);
                received.complete(got);
            }));
        });
        assertTrue(alice.rendezvous().isOnline(b).toCompletableFuture().get(5, TimeUnit.SECONDS));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertEquals(b, link.peer());
        assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind(), "loopback host candidates come first");
        link.channel().send(ByteBuffer.wrap(data)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertArrayEquals(data, received.get(15, TimeUnit.SECONDS));
        assertEquals(1, server.introductions());
        link.close();
    }

    @Test
    void rejectionOfflineAndOtherNetworksAreReportedWithTheirReason() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        DeviceId c = identity("c");
        DeviceId offline = identity("offline");
        startServer(a + " home\n" + b + " home\n" + c + " office\n" + offline + " home\n");
        Device alice = device("a");
        Device bob = device("b");
        device("c");
        bob.onIncoming(request -> request.reject("busy"));
        assertEquals(UnreachableException.Reason.REJECTED, reason(alice, b));
        // Allowed but never admitted: the server has never seen it.
        assertEquals(UnreachableException.Reason.UNKNOWN, reason(alice, offline));
        Device gone = device("offline");
        gone.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.connectedDevices() > 3 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(UnreachableException.Reason.OFFLINE, reason(alice, offline));
        // Another network's device is reported exactly like one that does not exist (no existence oracle).
        assertEquals(UnreachableException.Reason.UNKNOWN, reason(alice, c));
    }

    /** A flood of garbage at the STUN port while devices register and link: nothing else is disturbed. */
    @Test
    void garbageFloodAtTheStunPortDoesNotDisturbDevices() throws Exception {
        DeviceId a = identity("a");
        DeviceId b = identity("b");
        startServer(a + " home\n" + b + " home\n");
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong sent = new AtomicLong();
        Thread flood = new Thread(() -> {
            Random random = new Random(3);
            byte[] junk = new byte[548];
            try (DatagramChannel ch = DatagramChannel.open()) {
                // Bounded in count and time; loopback only.
                long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (flooding.get() && sent.get() < 2_000_000 && System.nanoTime() < end) {
                    random.nextBytes(junk);
                    junk[0] = (byte) (random.nextBoolean() ? 0x00 : 0x01);   // looks like STUN at first glance
                    ch.send(ByteBuffer.wrap(junk, 0, 20 + random.nextInt(500)), server.stunAddress());
                    sent.incrementAndGet();
                }
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }, "stun-flood");
        flood.start();
        try {
            Device alice = device("a");
            Device bob = device("b");
            bob.onIncoming(request -> request.accept());
            PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
            assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind());
            assertTrue(link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS).toNanos() > 0);
        } finally {
            flooding.set(false);
            flood.join();
        }
        assertTrue(sent.get() > 1000, "the flood ran: " + sent.get() + " datagrams");
    }

    private static UnreachableException.Reason reason(Device from, DeviceId to) {
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> from.connect(to).toCompletableFuture().get(15, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause(), () -> Arrays.toString(e.getStackTrace()));
        return u.reason();
    }
}
