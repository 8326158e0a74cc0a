package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.testkit.InMemoryNetwork;
import io.peerlink.testkit.InMemoryTransport;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The core reads what transports declare: datagram size and whether a path is relayed. */
class TransportCapabilitiesUseTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();
    private final InMemoryNetwork network = new InMemoryNetwork();

    @AfterEach
    void close() {
        devices.forEach(Device::close);
        network.close();
    }

    /** An in-memory transport that declares itself relayed and records its largest datagram. */
    private static final class Declaring implements Transport {
        private final InMemoryTransport delegate;
        private final TransportCapabilities capabilities;
        final AtomicInteger largestSent = new AtomicInteger();

        Declaring(InMemoryTransport delegate, boolean relayed, int maxDatagram) {
            this.delegate = delegate;
            this.capabilities = TransportCapabilities.builder().maxDatagramSize(maxDatagram).relayed(relayed)
                    .reliable(true).ordered(true).build();
        }

        @Override public void start(DatagramHandler handler) throws IOException { delegate.start(handler); }
        @Override public void stop() { delegate.stop(); }
        @Override public void destroy() { delegate.destroy(); }
        @Override public State state() { return delegate.state(); }
        @Override public Endpoint localEndpoint() { return delegate.localEndpoint(); }
        @Override public TransportCapabilities capabilities() { return capabilities; }
        @Override public boolean supports(Endpoint remote) { return delegate.supports(remote); }

        @Override
        public boolean send(Endpoint remote, ByteBuffer datagram) {
            if (datagram.remaining() > capabilities.maxDatagramSize()) {
                throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds the declared maximum");
            }
            largestSent.accumulateAndGet(datagram.remaining(), Math::max);
            return delegate.send(remote, datagram);
        }
    }

    /** A relayed transport whose endpoints have the WebSocket relay's scheme, {@code wsrelay}: the last resort's rank. */
    private static final class WsRelayLike implements Transport {
        private final Declaring delegate;

        WsRelayLike(Declaring delegate) {
            this.delegate = delegate;
        }

        private static Endpoint ws(Endpoint e) {
            return new Endpoint("wsrelay", e.host(), e.port(), e.path());
        }

        private Endpoint mem(Endpoint e) {
            return new Endpoint(delegate.localEndpoint().scheme(), e.host(), e.port(), e.path());
        }

        @Override public void start(DatagramHandler handler) throws IOException {
            delegate.start((source, datagram) -> handler.onDatagram(ws(source), datagram));
        }
        @Override public void stop() { delegate.stop(); }
        @Override public void destroy() { delegate.destroy(); }
        @Override public State state() { return delegate.state(); }
        @Override public Endpoint localEndpoint() { return ws(delegate.localEndpoint()); }
        @Override public TransportCapabilities capabilities() { return delegate.capabilities(); }
        @Override public boolean supports(Endpoint remote) { return "wsrelay".equals(remote.scheme()) && delegate.supports(mem(remote)); }
        @Override public boolean send(Endpoint remote, ByteBuffer datagram) { return delegate.send(mem(remote), datagram); }
    }

    private Device device(Transport extra) {
        return device(new Transport[] {extra});
    }

    private Device device(Transport... extra) {
        DeviceBuilderImpl b = (DeviceBuilderImpl) PeerLinks.device().ephemeralIdentity().udp(LOOPBACK);
        for (Transport t : extra) {
            b.transport(t);
        }
        Device d = b.build();
        devices.add(d);
        return d;
    }

    @Test
    void packetsNeverExceedTheDeclaredDatagramSize() throws Exception {
        Declaring ta = new Declaring(network.newTransport(65507), false, 600);
        Declaring tb = new Declaring(network.newTransport(65507), false, 600);
        Device a = device(ta);
        Device b = device(tb);
        NumberedTransfer transfer = new NumberedTransfer(20, 20_000);
        b.onIncoming(req -> req.accept().thenAccept(link -> transfer.receiveOn(link.channel())));
        PeerLink link = a.connect(b.localEndpoints().get(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        transfer.sendOn(link.channel()).get(20, TimeUnit.SECONDS);
        transfer.awaitIntact(20);
        assertTrue(ta.largestSent.get() <= 600 && ta.largestSent.get() > 500, "largest datagram " + ta.largestSent.get());
        assertTrue(tb.largestSent.get() <= 600, "largest datagram " + tb.largestSent.get());
    }

    @Test
    void aValidatedDirectPathReplacesARelayedOne() throws Exception {
        Device a = device(new Declaring(network.newTransport(), true, 1400));
        Device b = device(new Declaring(network.newTransport(), true, 1400));
        NumberedTransfer transfer = new NumberedTransfer(300, 8 << 10, 1);
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        b.onIncoming(req -> req.accept().thenAccept(link -> {
            transfer.receiveOn(link.channel());
            accepted.complete(link);
        }));
        PeerLink link = a.connect(b.localEndpoints().get(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(PathKind.BROKERED, link.path().kind());
        CompletableFuture<LinkEvent.PathChanged> upgraded = new CompletableFuture<>();
        link.addListener(e -> {
            if (e instanceof LinkEvent.PathChanged c) {
                upgraded.complete(c);
            }
        });
        CompletableFuture<Void> sending = transfer.sendOn(link.channel());
        assertTrue(transfer.after(50).await(20, TimeUnit.SECONDS));

        // Only added, not switched to: the session prefers the unrelayed path by itself.
        link.addPath(a.localEndpoints().get(0), b.localEndpoints().get(0)).toCompletableFuture().get(5, TimeUnit.SECONDS);

        LinkEvent.PathChanged change = upgraded.get(5, TimeUnit.SECONDS);
        assertEquals(PathKind.BROKERED, change.from().kind());
        assertEquals(PathKind.DIRECT_PRIVATE, change.to().kind());
        sending.get(30, TimeUnit.SECONDS);
        transfer.awaitIntact(30);
        assertEquals(a.localEndpoints().get(0), accepted.get().path().remote(), "the peer followed to the direct path");
        assertEquals(PathState.ACTIVE, link.path().state());
        assertEquals("udp", link.path().local().scheme());
    }

    @Test
    void aValidatedRelayedPathReplacesTheWebSocketRelay() throws Exception {
        Device a = device(new WsRelayLike(new Declaring(network.newTransport(), true, 1400)), new Declaring(network.newTransport(), true, 1400));
        Device b = device(new WsRelayLike(new Declaring(network.newTransport(), true, 1400)), new Declaring(network.newTransport(), true, 1400));
        NumberedTransfer transfer = new NumberedTransfer(300, 8 << 10, 1);
        b.onIncoming(req -> req.accept().thenAccept(link -> transfer.receiveOn(link.channel())));
        PeerLink link = a.connect(b.localEndpoints().get(1)).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(PathKind.RELAY, link.path().kind(), "a wsrelay endpoint is a RELAY path");
        assertEquals("wsrelay", link.path().local().scheme());
        CompletableFuture<LinkEvent.PathChanged> upgraded = new CompletableFuture<>();
        link.addListener(e -> {
            if (e instanceof LinkEvent.PathChanged c) {
                upgraded.complete(c);
            }
        });
        CompletableFuture<Void> sending = transfer.sendOn(link.channel());
        assertTrue(transfer.after(50).await(20, TimeUnit.SECONDS));

        // Only added: a relayed path of a better rank (a TURN relay, a broker) replaces the last resort by itself.
        link.addPath(a.localEndpoints().get(2), b.localEndpoints().get(2)).toCompletableFuture().get(5, TimeUnit.SECONDS);

        LinkEvent.PathChanged change = upgraded.get(5, TimeUnit.SECONDS);
        assertEquals("wsrelay", change.from().local().scheme());
        assertEquals(PathKind.BROKERED, change.to().kind());
        sending.get(30, TimeUnit.SECONDS);
        transfer.awaitIntact(30);
        assertEquals(a.localEndpoints().get(2), link.path().local());
    }
}
