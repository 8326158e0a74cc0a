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
            assertTrue(acks.get(i).isDone() && !acks.get(i).isCompletedExceptionally(), "send " + i + " acknowledged");
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
        bob.onIncoming(request -> request.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
            byte[] got = new byte[m.remaining()];
            m.get(got);
            received.put(ByteBuffer.wrap(got).getInt(0), got);
        })));
        PeerLink link = alice.connect(b).toCompletableFuture().get(15, TimeUnit.SECONDS);
        for (int i = 0; i < N; i++) {
            link.channel().send(message(i));
        }
        long t0 = System.nanoTime();
        CompletableFuture<CloseReason> closing = link.close().toCompletableFuture();
        long returnedAfter = System.nanoTime() - t0;
        assertEquals(CloseReason.NORMAL, closing.get(15, TimeUnit.SECONDS).code());
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
}
