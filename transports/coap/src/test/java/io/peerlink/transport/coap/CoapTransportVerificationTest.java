package io.peerlink.transport.coap;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.WireInjector;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;

/** The CoAP transport passes the conformance suite over real loopback sockets. */
class CoapTransportVerificationTest extends TransportVerification {

    @Override
    protected Transport createTransport() {
        return new CoapTransportProvider().create(TransportConfig.bind(Endpoint.parse("coap://127.0.0.1:0")).build());
    }

    /** An IPv6 destination is beyond an IPv4 socket. */
    @Override
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint("coap", "::1", 5683, "/pl");
    }

    /** Raw datagrams from a plain JDK socket: not CoAP at all, or CoAP that is not ours. */
    @Override
    protected WireInjector wireInjector() {
        return (target, raw) -> {
            try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                socket.send(new DatagramPacket(raw, raw.length, target.toSocketAddress()));
            }
        };
    }
}
