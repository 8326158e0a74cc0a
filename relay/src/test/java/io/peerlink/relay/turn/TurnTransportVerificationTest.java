package io.peerlink.relay.turn;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.WireInjector;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

/**
 * The {@code turn} transport passes the conformance suite through our embedded TURN server on
 * loopback (loopback peers allowed, the peers' IP permitted as the rendezvous would introduce it).
 */
class TurnTransportVerificationTest extends TransportVerification {
    private static final String SECRET = TurnServerTest.randomSecret();
    private static TurnServer server;

    @BeforeAll
    static void startServer() throws Exception {
        server = TurnServer.start(TurnServerConfig.builder(SECRET).allowLoopbackPeers(true).maxAllocationsPerUser(1000)
                .bytesPerSecondPerAllocation(1L << 30).maxBytesPerAllocation(1L << 40).requestsPerSecondPerIp(100_000).build());
    }

    @AfterAll
    static void stopServer() {
        server.close();
    }

    @Override
    protected Transport createTransport() {
        return new TurnTransportProvider().create(TransportConfig.bind(Endpoint.of("turn", server.udpAddress()))
                .set(TurnOptions.SECRET, SECRET).set(TurnOptions.DEVICE_ID, "tck").set(TurnOptions.PERMIT, "127.0.0.1").build());
    }

    /** An IPv6 peer is beyond an IPv4 relay. */
    @Override
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint("turn", "::1", 9, "");
    }

    /**
     * Raw datagrams from a plain JDK socket (not PeerLink, not TURN) to the relayed address: the
     * relay forwards them inside Data indications or ChannelData, which the client must survive.
     */
    @Override
    protected WireInjector wireInjector() {
        return (target, raw) -> {
            try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                socket.send(new DatagramPacket(raw, raw.length, InetAddress.getByName(target.host()), target.port()));
            }
        };
    }
}
