package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.IncomingRequest;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;
import io.peerlink.testkit.ImpairedTransport;
import io.peerlink.testkit.Impairment;
import io.peerlink.transport.udp.UdpTransportProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Links are set up with the Noise XX handshake bound to both device identities, and every packet
 * after it is sealed. The attacks of issue 6 on direct set-up, performed.
 */
class SecureLinkTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    private Device device() {
        Device d = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(3)).build();
        devices.add(d);
        return d;
    }

    private Device device(Transport transport, Duration connectTimeout) {
        DeviceBuilderImpl b = (DeviceBuilderImpl) PeerLinks.device().ephemeralIdentity().connectTimeout(connectTimeout);
        Device d = b.transport(transport).build();
        devices.add(d);
        return d;
    }

    private static Transport udp() {
        return new UdpTransportProvider().create(TransportConfig.bind(Endpoint.udp(LOOPBACK)).build());
    }

    @Test
    void aForgedDirectRequestClaimingATrustedIdGetsNothing() throws Exception {
        Device target = device();
        Device friend = device();
        List<IncomingRequest> requests = new CopyOnWriteArrayList<>();
        target.onIncoming(req -> {
            requests.add(req);
            if (req.from().equals(friend.id())) {
                req.accept();
            } else {
                req.reject("unknown device");
            }
        });
        InetSocketAddress to = target.localEndpoints().get(0).toSocketAddress();
        List<byte[]> answers = new CopyOnWriteArrayList<>();
        try (DatagramSocket attacker = new DatagramSocket(LOOPBACK)) {
            attacker.setSoTimeout(300);
            // The 77-byte HELLO of the old set-up, claiming the trusted friend's ID.
            ByteBuffer hello = ByteBuffer.allocate(77);
            hello.put((byte) 0x54).putLong(0).putLong(0x1234).putLong(99).put(friend.id().value().getBytes(StandardCharsets.US_ASCII));
            attacker.send(new DatagramPacket(hello.array(), 77, to));
            // A handshake started as anyone (message 1 carries no identity) and a forged message 3.
            Random random = new Random(5);
            byte[] ephemeral = new byte[32];
            random.nextBytes(ephemeral);
            ByteBuffer init = SetupPacket.handshake(SetupPacket.HS_INIT, 0, 0x777, ephemeral);
            attacker.send(new DatagramPacket(init.array(), init.remaining(), to));
            byte[] buf = new byte[2048];
            DatagramPacket in = new DatagramPacket(buf, buf.length);
            long serverCid = 0;
            try {
                attacker.receive(in);
                answers.add(java.util.Arrays.copyOf(buf, in.getLength()));
                serverCid = SetupPacket.readHandshake(ByteBuffer.wrap(buf, 0, in.getLength())).sourceCid();
            } catch (java.net.SocketTimeoutException e) {
                // no answer at all is fine too
            }
            byte[] forged = new byte[200];
            random.nextBytes(forged);
            ByteBuffer fin = SetupPacket.handshake(SetupPacket.HS_FIN, serverCid, 0x777, forged);
            attacker.send(new DatagramPacket(fin.array(), fin.remaining(), to));
            try {
                while (true) {
                    attacker.receive(in);
                    answers.add(java.util.Arrays.copyOf(buf, in.getLength()));
                }
            } catch (java.net.SocketTimeoutException e) {
                // done
            }
        }
        assertTrue(requests.isEmpty(), "no request reached the application: " + requests);
        for (byte[] a : answers) {
            assertEquals(SetupPacket.HS_RESP, a[0] & 0xff, "the only answer is the handshake's message 2");
        }
        // The real friend is told apart by its proven identity.
        PeerLink link = friend.connect(target.localEndpoints().get(0), target.id()).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(target.id(), link.peer());
        assertEquals(1, requests.size());
        assertEquals(friend.id(), requests.get(0).from());
    }

    @Test
    void anotherDeviceAnsweringForTheExpectedOneFailsTheHandshake() throws Exception {
        // A rendezvous (or anyone) that hands out a substitute's endpoint or keys for the expected
        // device: the substitute cannot prove the expected identity.
        Device a = device();
        Device expected = device();
        Device substitute = device();
        List<IncomingRequest> seenBySubstitute = new CopyOnWriteArrayList<>();
        substitute.onIncoming(req -> {
            seenBySubstitute.add(req);
            req.accept();
        });
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.connect(substitute.localEndpoints().get(0), expected.id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause());
        assertEquals(UnreachableException.Reason.WRONG_PEER, u.reason());
        Thread.sleep(200);
        assertTrue(seenBySubstitute.isEmpty(), "the initiator never proved its identity to the substitute");
    }

    @Test
    void everyHandshakeCompletesUnderThirtyPercentLossEachWay() throws Exception {
        Impairment lossy = Impairment.NONE.withLoss(0.30);
        int trials = 20;
        long lost = 0;
        for (int trial = 0; trial < trials; trial++) {
            ImpairedTransport ta = new ImpairedTransport(udp(), lossy, Impairment.NONE, 1000 + trial);
            ImpairedTransport tb = new ImpairedTransport(udp(), lossy, Impairment.NONE, 2000 + trial);
            Device a = device(ta, Duration.ofSeconds(20));
            Device b = device(tb, Duration.ofSeconds(20));
            CompletableFuture<String> got = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage(
                    (m, how) -> got.complete(StandardCharsets.UTF_8.decode(m).toString()))));
            PeerLink link = a.connect(b.localEndpoints().get(0), b.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            link.channel().send(ByteBuffer.wrap(("trial " + trial).getBytes(StandardCharsets.UTF_8)));
            assertEquals("trial " + trial, got.get(30, TimeUnit.SECONDS), "trial " + trial);
            lost += ta.outboundCounters().lost() + tb.outboundCounters().lost();
            a.close();
            b.close();
        }
        assertTrue(lost >= trials, "datagrams were lost: " + lost);
    }

    /** Records every datagram it sends. */
    private static final class Recording implements Transport {
        private final Transport delegate;
        final List<byte[]> sent = new CopyOnWriteArrayList<>();

        Recording(Transport delegate) {
            this.delegate = delegate;
        }

        @Override public void start(DatagramHandler handler) throws IOException { delegate.start(handler); }
        @Override public void stop() { delegate.stop(); }
        @Override public void destroy() { delegate.destroy(); }
        @Override public State state() { return delegate.state(); }
        @Override public Endpoint localEndpoint() { return delegate.localEndpoint(); }
        @Override public TransportCapabilities capabilities() { return delegate.capabilities(); }
        @Override public boolean supports(Endpoint remote) { return delegate.supports(remote); }

        @Override
        public boolean send(Endpoint remote, ByteBuffer datagram) {
            byte[] copy = new byte[datagram.remaining()];
            datagram.duplicate().get(copy);
            sent.add(copy);
            return delegate.send(remote, datagram);
        }
    }

    @Test
    void aCanarySentOverALinkNeverAppearsOnTheWire() throws Exception {
        Recording ta = new Recording(udp());
        Recording tb = new Recording(udp());
        Device a = device(ta, Duration.ofSeconds(3));
        Device b = device(tb, Duration.ofSeconds(3));
        byte[] canary = "CANARY-7f3a-peerlink-must-be-sealed".getBytes(StandardCharsets.US_ASCII);
        CompletableFuture<byte[]> got = new CompletableFuture<>();
        b.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
            byte[] bytes = new byte[m.remaining()];
            m.get(bytes);
            got.complete(bytes);
            link.channel().send(ByteBuffer.wrap(canary));
        })));
        PeerLink link = a.connect(b.localEndpoints().get(0), b.id()).toCompletableFuture().get(5, TimeUnit.SECONDS);
        CompletableFuture<byte[]> echoed = new CompletableFuture<>();
        link.channel().onMessage((m, how) -> {
            byte[] bytes = new byte[m.remaining()];
            m.get(bytes);
            echoed.complete(bytes);
        });
        link.channel().send(ByteBuffer.wrap(canary)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(new String(canary, StandardCharsets.US_ASCII), new String(got.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        assertEquals(new String(canary, StandardCharsets.US_ASCII), new String(echoed.get(5, TimeUnit.SECONDS), StandardCharsets.US_ASCII));
        assertTrue(ta.sent.size() > 3 && tb.sent.size() > 3);
        for (List<byte[]> wire : List.of(ta.sent, tb.sent)) {
            for (byte[] d : wire) {
                assertFalse(contains(d, canary), "canary in clear in a datagram of " + d.length + " bytes");
                assertFalse(contains(d, a.id().value().getBytes(StandardCharsets.US_ASCII)), "device ID in clear");
            }
        }
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    @Test
    void unknownDirectPeerGetsALinkOnlyIfTheApplicationAcceptsItsVerifiedId() throws Exception {
        Device target = device();
        Device stranger = device();
        List<DeviceId> asked = new CopyOnWriteArrayList<>();
        target.onIncoming(req -> {
            asked.add(req.from());
            req.reject("not on my list");
        });
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> stranger.connect(target.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS));
        assertEquals(UnreachableException.Reason.REJECTED, ((UnreachableException) e.getCause()).reason());
        assertEquals(List.of(stranger.id()), asked);
    }
}
