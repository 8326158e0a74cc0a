package com.example.peerlink.tcpframed;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.tck.FailureInjector;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.WireInjector;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

/** The example transport passes the whole conformance suite, with every hook supplied. */
class TcpFramedTransportVerificationTest extends TransportVerification {

    @Override
    protected Transport createTransport() {
        return new TcpFramedTransportProvider().create(TransportConfig.bind(Endpoint.parse("tcpf://127.0.0.1:0")).build());
    }

    /** T1.10: the same provider, bound to the port an earlier transport had. */
    @Override
    protected Transport createTransportBoundTo(Endpoint local) {
        return new TcpFramedTransportProvider().create(TransportConfig.bind(local).build());
    }

    /** T1.12: the listening socket closed by someone else. */
    @Override
    protected FailureInjector failureInjector() {
        return t -> ((TcpFramedTransport) t).closeListenerUnderneath();
    }

    /** T8.3/T8.4: a plain TCP connection that says hello, then writes the raw bytes below our framing. */
    @Override
    protected WireInjector wireInjector() {
        return (target, raw) -> {
            try (SocketChannel c = SocketChannel.open(target.toSocketAddress())) {
                ByteBuffer out = ByteBuffer.allocate(4 + raw.length).putShort((short) 0x504C).putShort((short) 1).put(raw).flip();
                while (out.hasRemaining()) {
                    c.write(out);
                }
            }
        };
    }
}
