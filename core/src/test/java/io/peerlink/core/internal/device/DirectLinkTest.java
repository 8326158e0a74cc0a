package io.peerlink.core.internal.device;

import io.peerlink.ChannelClosedException;
import io.peerlink.CloseReason;
import io.peerlink.Delivery;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.link.SetupPacket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** Two real devices on loopback UDP sockets, linked without a rendezvous server. */
class DirectLinkTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    private Device device() {
        Device d = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(2)).build();
        devices.add(d);
        return d;
    }

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    @Test
    void linksDirectlyAndDeliversMessagesInOrderByteForByte() throws Exception {
        Device a = device();
        Device b = device();
        ByteArrayOutputStream received = new ByteArrayOutputStream();
        CompletableFuture<Void> done = new CompletableFuture<>();
        byte[] data = new byte[3 << 20];
        new Random(7).nextBytes(data);
        b.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
            byte[] chunk = new byte[m.remaining()];
            m.get(chunk);
            received.writeBytes(chunk);
            if (received.size() == data.length) {
                done.complete(null);
            }
        })));
        PeerLink link = a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(b.id(), link.peer());
        assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind());
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int off = 0; off < data.length; off += 100_000) {
            int n = Math.min(100_000, data.length - off);
            acks.add(link.channel().send(ByteBuffer.wrap(data, off, n), Delivery.ORDERED).toCompletableFuture());
        }
        CompletableFuture.allOf(acks.toArray(CompletableFuture[]::new)).get(20, TimeUnit.SECONDS);
        done.get(20, TimeUnit.SECONDS);
        assertArrayEquals(data, received.toByteArray());
        Duration rtt = link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(false, rtt.isNegative());
        link.close();
    }

    @Test
    void rejectedRequestFailsWithReasonRejected() {
        Device a = device();
        Device b = device();
        b.onIncoming(req -> req.reject("not today"));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause());
        assertEquals(UnreachableException.Reason.REJECTED, u.reason());
    }

    /**
     * An on-path attacker sees the handshake's connection IDs and forges the listener's HELLO_REJECT
     * the moment the dialer's message 3 passes, in today's format with a made-up MAC and in the
     * MAC-less format of before: the dialer drops both and links once the listener accepts.
     */
    @Test
    void forgedRejectionIsIgnoredAndTheDialLinks() throws Exception {
        Device a = device();
        Device b = device();
        b.onIncoming(req -> CompletableFuture.delayedExecutor(300, TimeUnit.MILLISECONDS).execute(req::accept));
        CompletableFuture<Void> forged = new CompletableFuture<>();
        try (UdpProxy attacker = new UdpProxy(b.localEndpoints().get(0).toSocketAddress())) {
            attacker.divert(d -> {
                if (d.length > 17 && (d[0] & 0xff) == SetupPacket.HS_FIN && !forged.isDone()) {
                    long dialerCid = ByteBuffer.wrap(d, 9, 8).getLong();
                    byte[] reason = "forged".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
                    ByteBuffer withMac = ByteBuffer.allocate(18 + reason.length + SetupPacket.MAC_LENGTH);
                    withMac.put((byte) SetupPacket.HELLO_REJECT).putLong(dialerCid).putLong(0).put((byte) reason.length).put(reason);
                    byte[] madeUp = new byte[SetupPacket.MAC_LENGTH];
                    new Random().nextBytes(madeUp);
                    withMac.put(madeUp);
                    byte[] macLess = Arrays.copyOf(withMac.array(), 18 + reason.length);
                    try {
                        attacker.sendToClient(withMac.array());
                        attacker.sendToClient(macLess);
                        forged.complete(null);
                    } catch (IOException e) {
                        forged.completeExceptionally(e);
                    }
                }
                return false;
            }, d -> { });
            PeerLink link = a.connect(Endpoint.udp(attacker.front())).toCompletableFuture().get(5, TimeUnit.SECONDS);
            forged.get(0, TimeUnit.SECONDS);
            assertEquals(b.id(), link.peer());
            assertEquals(false, link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS).isNegative());
        }
    }

    @Test
    void deviceWithoutHandlerRejects() {
        Device a = device();
        Device b = device();
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(UnreachableException.Reason.REJECTED, ((UnreachableException) e.getCause()).reason());
    }

    @Test
    void silentEndpointTimesOut() throws Exception {
        Device a = device();
        try (DatagramSocket silent = new DatagramSocket(LOOPBACK)) {
            Endpoint e = Endpoint.udp(new InetSocketAddress("127.0.0.1", silent.getLocalPort()));
            ExecutionException ex = assertThrows(ExecutionException.class,
                    () -> a.connect(e).toCompletableFuture().get(10, TimeUnit.SECONDS));
            assertEquals(UnreachableException.Reason.TIMEOUT, ((UnreachableException) ex.getCause()).reason());
        }
    }

    @Test
    void closingTheDeviceFailsAPendingConnectAtOnce() throws Exception {
        Device a = device();
        try (DatagramSocket silent = new DatagramSocket(LOOPBACK)) {
            Endpoint e = Endpoint.udp(new InetSocketAddress("127.0.0.1", silent.getLocalPort()));
            CompletableFuture<PeerLink> pending = a.connect(e).toCompletableFuture();
            a.close();
            ExecutionException ex = assertThrows(ExecutionException.class, () -> pending.get(1, TimeUnit.SECONDS));
            ChannelClosedException closed = assertInstanceOf(ChannelClosedException.class, ex.getCause());
            assertEquals(CloseReason.SHUTDOWN, closed.reason().code());
        }
    }

    @Test
    void builderRefusesMissingIdentityOrTransport() {
        assertThrows(IllegalStateException.class, () -> PeerLinks.device().udp(LOOPBACK).build());
        assertThrows(IllegalStateException.class, () -> PeerLinks.device().ephemeralIdentity().build());
    }

    @Test
    void closedDeviceRefusesConnect() {
        Device a = device();
        a.close();
        assertThrows(IllegalStateException.class, () -> a.connect(Endpoint.udp(new InetSocketAddress("127.0.0.1", 9))));
    }

    @Test
    void rendezvousIsUnavailableWithoutServer() {
        Device a = device();
        assertThrows(IllegalStateException.class, a::rendezvous);
    }
}
