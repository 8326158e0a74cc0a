package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.IncomingRequest;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The "HELLO table fill" attack of issue 6, performed: more spoofed direct link requests (handshake
 * message 1 from made-up connection IDs) than the table holds. The table stays bounded, its entries expire, a live link keeps
 * working throughout, and a genuine request succeeds once the spoofed ones have expired.
 */
class HelloTableFloodTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    @Test
    void spoofedHellosAreBoundedAndExpire() throws Exception {
        DeviceBuilderImpl builder = (DeviceBuilderImpl) PeerLinks.device().ephemeralIdentity().udp(LOOPBACK);
        // Long enough for the flood to be processed (each request costs the listener a key agreement and
        // a signature) before the first entries expire.
        builder.pendingRequestTimeout = Duration.ofSeconds(25);
        // No admission rate limit here: the test is about the table's bound and expiry.
        builder.incomingRequestsPerSecond = 1e9;
        // Nor cookies: a listener under load would answer these with a cookie and keep nothing
        // (HandshakeCookieTest); this test fills the table on purpose.
        builder.cookieFreeRequestsPerSecond = Double.POSITIVE_INFINITY;
        DeviceImpl target = (DeviceImpl) builder.build();
        Device friend = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(3)).build();
        devices.add(target);
        devices.add(friend);
        List<IncomingRequest> seen = new CopyOnWriteArrayList<>();
        NumberedTransfer before = new NumberedTransfer(50, 1000);
        target.onIncoming(req -> {
            seen.add(req);
            req.accept().thenAccept(link -> before.receiveOn(link.channel()));
        });
        PeerLink live = friend.connect(target.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS);

        int flood = SecureSetup.MAX_PENDING_REQUESTS + 30;
        try (DatagramSocket attacker = new DatagramSocket(LOOPBACK)) {
            InetSocketAddress to = target.localEndpoints().get(0).toSocketAddress();
            Random random = new Random(1);
            for (int i = 0; i < flood; i++) {
                byte[] ephemeral = new byte[32];
                random.nextBytes(ephemeral);
                ByteBuffer init = SetupPacket.handshake(SetupPacket.HS_INIT, 0, random.nextLong() | 1, ephemeral);
                attacker.send(new DatagramPacket(init.array(), init.remaining(), to));
                if (i % 16 == 0) {
                    Thread.sleep(2); // stay below the socket buffer: the bound is the table's, not the kernel's
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (target.pendingRequests().get(20, TimeUnit.SECONDS) < SecureSetup.MAX_PENDING_REQUESTS && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(SecureSetup.MAX_PENDING_REQUESTS, target.pendingRequests().get(20, TimeUnit.SECONDS), "the table is full, not larger");
        assertEquals(1, seen.size(), "no spoofed request reaches the application: none proved an identity");

        // The live link is unaffected.
        before.sendOn(live.channel()).get(5, TimeUnit.SECONDS);
        before.awaitIntact(5);

        // While the table is full, a new genuine request is dropped like the spoofed ones ...
        Device another = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(1)).build();
        devices.add(another);
        ExecutionException dropped = assertThrows(ExecutionException.class,
                () -> another.connect(target.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertInstanceOf(UnreachableException.class, dropped.getCause());

        // ... until the spoofed entries expire.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (target.pendingRequests().get(5, TimeUnit.SECONDS) > 0 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(0, target.pendingRequests().get(5, TimeUnit.SECONDS), "every spoofed request expired");
        PeerLink fresh = another.connect(target.localEndpoints().get(0), target.id()).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(target.id(), fresh.peer());
        assertEquals(2, seen.size());
    }
}
