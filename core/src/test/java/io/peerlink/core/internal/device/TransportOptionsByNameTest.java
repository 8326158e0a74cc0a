package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLinkException;
import io.peerlink.PeerLinks;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * {@code Device.Builder.transport(bind, options)} through the public API with the real UDP
 * transport: options reach the transport, and every mistake is one clear {@link PeerLinkException}
 * from {@code build()}.
 */
class TransportOptionsByNameTest {
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void close() {
        devices.forEach(Device::close);
    }

    private Device build(Device.Builder b) {
        Device d = b.build();
        devices.add(d);
        return d;
    }

    private static int freeUdpPort() throws Exception {
        try (DatagramSocket s = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    @Test
    void anOptionGivenByNameReachesTheTransport() throws Exception {
        int port = freeUdpPort();
        Endpoint bind = Endpoint.parse("udp://127.0.0.1:" + port);
        // udp.reuseAddress is observable: with it, two sockets may bind one port; without, the second bind fails.
        build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.reuseAddress", "true")));
        Device second = build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.reuseAddress", true,
                "udp.receiveBufferSize", "262144")));
        assertEquals(port, second.localEndpoints().get(0).port());
        PeerLinkException refused = assertThrows(PeerLinkException.class,
                () -> build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.reuseAddress", "false"))));
        assertTrue(refused.getMessage().contains(bind.toString()), refused.getMessage());
    }

    @Test
    void aNamedProviderTakesOptionsToo() {
        Device d = build(PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("udp://127.0.0.1:0"),
                "io.peerlink.transport.udp.UdpTransportProvider", Map.of("udp.ttlControl", "false")));
        assertEquals("udp", d.localEndpoints().get(0).scheme());
    }

    @Test
    void anUnknownOptionFailsBuildNamingItTheEndpointAndTheKnownOnes() {
        Endpoint bind = Endpoint.parse("udp://127.0.0.1:0");
        PeerLinkException e = assertThrows(PeerLinkException.class,
                () -> build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.recieveBufferSize", "1024"))));
        assertTrue(e.getMessage().contains("unknown option 'udp.recieveBufferSize'"), e.getMessage());
        assertTrue(e.getMessage().contains(bind.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("udp.receiveBufferSize, udp.sendBufferSize, udp.reuseAddress, udp.ttlControl"), e.getMessage());
    }

    @Test
    void aValueThatDoesNotConvertOrThatTheTransportRefusesFailsBuild() {
        Endpoint bind = Endpoint.parse("udp://127.0.0.1:0");
        PeerLinkException text = assertThrows(PeerLinkException.class,
                () -> build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.reuseAddress", "maybe"))));
        assertTrue(text.getMessage().contains("udp.reuseAddress") && text.getMessage().contains("'maybe'")
                && text.getMessage().contains("true or false"), text.getMessage());
        PeerLinkException refused = assertThrows(PeerLinkException.class,
                () -> build(PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("udp.receiveBufferSize", "-1"))));
        assertTrue(refused.getMessage().contains("refused") && refused.getMessage().contains("udp.receiveBufferSize"), refused.getMessage());
    }

    @Test
    void theBuilderRejectsNullAndEmptyNamesAtOnce() {
        Endpoint bind = Endpoint.parse("udp://127.0.0.1:0");
        Map<String, Object> nullValue = new HashMap<>();
        nullValue.put("udp.reuseAddress", null);
        assertThrows(NullPointerException.class, () -> PeerLinks.device().transport(bind, nullValue));
        Map<String, Object> nullName = new HashMap<>();
        nullName.put(null, "x");
        assertThrows(NullPointerException.class, () -> PeerLinks.device().transport(bind, nullName));
        assertThrows(NullPointerException.class, () -> PeerLinks.device().transport(bind, (Map<String, ?>) null));
        assertThrows(IllegalArgumentException.class, () -> PeerLinks.device().transport(bind, Map.of("", "x")));
    }

    @Test
    void theOptionsMapIsCopied() {
        Map<String, Object> options = new HashMap<>(Map.of("udp.reuseAddress", "true"));
        Device.Builder b = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("udp://127.0.0.1:0"), options);
        options.put("udp.bogus", "1");
        assertEquals("udp", build(b).localEndpoints().get(0).scheme());
    }
}
