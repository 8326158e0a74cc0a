package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.IncomingRequest;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.link.SetupPacket;
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
 * The "HELLO table fill" attack of issue 6, performed: more spoofed direct link requests than the
 * table holds, never decided. The table stays bounded, its entries expire, a live link keeps
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
        builder.pendingRequestTimeout = Duration.ofSeconds(2);
        DeviceImpl target = (DeviceImpl) builder.build();
        Device friend = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(3)).build();
        devices.add(target);
        devices.add(friend);
        List<IncomingRequest> undecided = new CopyOnWriteArrayList<>();
        Transfer before = new Transfer(50, 1000);
        target.onIncoming(req -> {
            if (req.from().equals(friend.id())) {
                req.accept().thenAccept(link -> before.receiveOn(link.channel()));
            } else {
                undecided.add(req); // the application sits on requests it does not recognise
            }
        });
        PeerLink live = friend.connect(target.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS);

        int flood = DeviceImpl.MAX_PENDING_HELLOS + 200;
        try (DatagramSocket attacker = new DatagramSocket(LOOPBACK)) {
            InetSocketAddress to = target.localEndpoints().get(0).toSocketAddress();
            Random random = new Random(1);
            for (int i = 0; i < flood; i++) {
                byte[] key = new byte[32];
                random.nextBytes(key);
                ByteBuffer hello = ByteBuffer.allocate(128);
                SetupPacket.writeHello(hello, SetupPacket.HELLO, random.nextLong() | 1, 0, random.nextLong(), DeviceId.fromPublicKey(key));
                attacker.send(new DatagramPacket(hello.array(), hello.position(), to));
                if (i % 64 == 0) {
                    Thread.sleep(1); // stay below the socket buffer: the bound is the table's, not the kernel's
                }
            }
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        // One slot holds the friend's accepted request (kept to answer its retransmitted HELLOs).
        int room = DeviceImpl.MAX_PENDING_HELLOS - 1;
        while (undecided.size() < room && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        int held = target.pendingHellos().get(5, TimeUnit.SECONDS);
        assertEquals(DeviceImpl.MAX_PENDING_HELLOS, held, "the table is full, not larger");
        assertEquals(room, undecided.size(), "requests beyond the bound never reach the application");

        // The live link is unaffected.
        before.sendOn(live.channel()).get(5, TimeUnit.SECONDS);
        before.awaitIntact(5);

        // Undecided entries expire; accepting one afterwards fails instead of opening a link.
        deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (target.pendingHellos().get(5, TimeUnit.SECONDS) > 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals(1, target.pendingHellos().get(5, TimeUnit.SECONDS), "only the friend's accepted request is left");
        ExecutionException late = assertThrows(ExecutionException.class,
                () -> undecided.get(0).accept().toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertInstanceOf(UnreachableException.class, late.getCause());

        // A new genuine request gets through.
        Device another = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build();
        devices.add(another);
        target.onIncoming(IncomingRequest::accept);
        PeerLink fresh = another.connect(target.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(target.id(), fresh.peer());
    }
}
