package io.peerlink.transport.coap;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.tck.TransportVerification;

import java.security.SecureRandom;
import java.util.HexFormat;

/** coaps (DTLS 1.2, pre-shared key, Scandium) passes the conformance suite. */
class CoapsTransportVerificationTest extends TransportVerification {
    /** Generated per run: no key material in the repository. */
    private static final String SECRET = HexFormat.of().formatHex(SecureRandom.getSeed(16));

    @Override
    protected Transport createTransport() {
        return new CoapsTransportProvider().create(TransportConfig.bind(Endpoint.parse("coaps://127.0.0.1:0"))
                .set(CoapOptions.PSK_IDENTITY, "peerlink-tck").set(CoapOptions.PSK_SECRET, SECRET).build());
    }

    @Override
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint("coap", "127.0.0.1", 5683, "/pl");
    }

    /** Raw junk at the DTLS socket: DTLS drops it, the transport keeps serving. */
    @Override
    protected io.peerlink.tck.WireInjector wireInjector() {
        return (target, raw) -> {
            try (java.net.DatagramSocket socket = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
                socket.send(new java.net.DatagramPacket(raw, raw.length, target.toSocketAddress()));
            }
        };
    }

    /** DTLS handshakes take a few round trips; flooding is bounded by the handshake, so fewer datagrams. */
    @Override
    protected int floodDatagrams() {
        return 5_000;
    }
}
