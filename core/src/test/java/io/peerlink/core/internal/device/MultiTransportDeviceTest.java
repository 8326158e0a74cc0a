package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.PeerLinks;
import io.peerlink.testkit.InMemoryNetwork;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Devices with several transports, chosen by endpoint scheme with explicit provider precedence. */
class MultiTransportDeviceTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private static final Endpoint MEM_BIND = new Endpoint(InMemoryNetwork.SCHEME, "local", 0, "");
    private final List<Device> devices = new ArrayList<>();

    private Device track(Device d) {
        devices.add(d);
        return d;
    }

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    private static CompletableFuture<String> acceptAndReceiveOne(Device d) {
        CompletableFuture<String> got = new CompletableFuture<>();
        d.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage(
                (m, how) -> got.complete(StandardCharsets.UTF_8.decode(m).toString()))));
        return got;
    }

    @Test
    void deviceWithTwoUdpTransportsAcceptsLinksOnEach() throws Exception {
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK)
                .transport(Endpoint.udp(LOOPBACK)).connectTimeout(Duration.ofSeconds(3)).build());
        assertEquals(2, b.localEndpoints().size());
        for (Endpoint target : b.localEndpoints()) {
            Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).build());
            CompletableFuture<String> got = acceptAndReceiveOne(b);
            PeerLink link = a.connect(target).toCompletableFuture().get(5, TimeUnit.SECONDS);
            assertEquals(target, link.path().remote());
            assertEquals(PathState.ACTIVE, link.path().state());
            link.channel().send(ByteBuffer.wrap(("to " + target).getBytes(StandardCharsets.UTF_8)));
            assertEquals("to " + target, got.get(5, TimeUnit.SECONDS));
        }
    }

    @Test
    void linksOverTheTransportOfTheEndpointsScheme() throws Exception {
        String provider = MemTransportProviders.First.class.getName();
        Device a = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(MEM_BIND, provider).build());
        Device b = track(PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(MEM_BIND, provider).build());
        Endpoint bMem = b.localEndpoints().get(1);
        assertEquals(InMemoryNetwork.SCHEME, bMem.scheme());
        CompletableFuture<String> got = acceptAndReceiveOne(b);
        PeerLink link = a.connect(bMem).toCompletableFuture().get(5, TimeUnit.SECONDS);
        assertEquals(a.localEndpoints().get(1), link.path().local());
        assertEquals(PathKind.DIRECT_PRIVATE, link.path().kind());
        link.channel().send(ByteBuffer.wrap("over mem".getBytes(StandardCharsets.UTF_8)));
        assertEquals("over mem", got.get(5, TimeUnit.SECONDS));
    }

    @Test
    void twoProvidersForOneSchemeAreAnErrorNamingBoth() {
        PeerLinkException e = assertThrows(PeerLinkException.class,
                () -> track(PeerLinks.device().ephemeralIdentity().transport(MEM_BIND).build()));
        assertTrue(e.getMessage().contains(MemTransportProviders.First.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains(MemTransportProviders.Second.class.getName()), e.getMessage());
        assertTrue(e.getMessage().contains("transport(bind, providerClassName)"), e.getMessage());
    }

    @Test
    void applicationPicksOneOfSeveralProvidersByName() {
        Device d = track(PeerLinks.device().ephemeralIdentity()
                .transport(MEM_BIND, MemTransportProviders.Second.class.getName()).build());
        assertEquals(InMemoryNetwork.SCHEME, d.localEndpoints().get(0).scheme());
    }

    @Test
    void unknownSchemeOrProviderIsAnErrorListingWhatWasFound() {
        PeerLinkException noScheme = assertThrows(PeerLinkException.class, () -> track(PeerLinks.device().ephemeralIdentity()
                .transport(new Endpoint("carrier-pigeon", "local", 1, "")).build()));
        assertTrue(noScheme.getMessage().contains("no transport for scheme 'carrier-pigeon'"), noScheme.getMessage());
        assertTrue(noScheme.getMessage().contains("UdpTransportProvider"), noScheme.getMessage());
        PeerLinkException noProvider = assertThrows(PeerLinkException.class, () -> track(PeerLinks.device().ephemeralIdentity()
                .transport(Endpoint.udp(LOOPBACK), "com.example.NoSuchProvider").build()));
        assertTrue(noProvider.getMessage().contains("UdpTransportProvider"), noProvider.getMessage());
    }

    @Test
    void aTransportThatCannotBindReleasesTheOthers() throws Exception {
        try (java.net.DatagramSocket taken = new java.net.DatagramSocket(LOOPBACK)) {
            InetSocketAddress busy = new InetSocketAddress("127.0.0.1", taken.getLocalPort());
            InetSocketAddress free;
            try (java.net.DatagramSocket probe = new java.net.DatagramSocket(LOOPBACK)) {
                free = new InetSocketAddress("127.0.0.1", probe.getLocalPort());
            }
            PeerLinkException e = assertThrows(PeerLinkException.class,
                    () -> track(PeerLinks.device().ephemeralIdentity().udp(free).udp(busy).build()));
            assertTrue(e.getMessage().contains(busy.getPort() + ""), e.getMessage());
            // The first transport was released: its port can be bound again.
            try (java.net.DatagramSocket again = new java.net.DatagramSocket(free)) {
                assertEquals(free.getPort(), again.getLocalPort());
            }
        }
    }
}
