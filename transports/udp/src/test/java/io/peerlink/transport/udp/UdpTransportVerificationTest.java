package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.TtlWitness;
import io.peerlink.tck.WireInjector;

import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;

/** The UDP transport passes the conformance suite over real loopback sockets. */
class UdpTransportVerificationTest extends TransportVerification {

    @Override
    protected Transport createTransport() {
        return new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
    }

    /** T1.10: a transport bound to the port an earlier one had. */
    @Override
    protected Transport createTransportBoundTo(Endpoint local) {
        return new UdpTransportProvider().create(TransportConfig.bind(local).build());
    }

    /** An IPv6 destination is beyond an IPv4 socket: a sharper T3.2 than an unknown scheme. */
    @Override
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint("udp", "::1", 9, "");
    }

    @Override
    protected TtlWitness createTtlWitness() {
        return RecvTtlWitness.openOrNull();
    }

    /** Raw datagrams from a plain JDK socket, i.e. from a sender that is not PeerLink at all. */
    @Override
    protected WireInjector wireInjector() {
        return (target, raw) -> {
            try (DatagramSocket socket = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                socket.send(new DatagramPacket(raw, raw.length, target.toSocketAddress()));
            }
        };
    }
}
