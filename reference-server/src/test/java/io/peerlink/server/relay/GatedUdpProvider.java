package io.peerlink.server.relay;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.ReceiveContext;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;
import io.peerlink.transport.udp.UdpTransportProvider;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Scheme {@code gated-udp}: a real UDP transport whose datagrams to or from a blocked port are
 * dropped in both directions, the way a firewall between two devices would — STUN and TURN
 * (other ports) pass. Tests name it by class name; its local endpoint is the UDP socket's.
 */
public final class GatedUdpProvider implements TransportProvider {
    /** Remote ports whose datagrams are dropped, in and out (all gated transports of this JVM). */
    public static final Set<Integer> BLOCKED = ConcurrentHashMap.newKeySet();

    /** For ServiceLoader. */
    public GatedUdpProvider() {
    }

    @Override
    public String scheme() {
        return "gated-udp";
    }

    @Override
    public Transport create(TransportConfig config) {
        Endpoint bind = config.bindEndpoint();
        Transport udp = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.of("udp", bind.toSocketAddress())).build());
        return new Transport() {
            @Override
            public void start(DatagramHandler handler) throws IOException {
                udp.start(new DatagramHandler() {
                    @Override
                    public void onDatagram(Endpoint source, ByteBuffer datagram) {
                        if (!BLOCKED.contains(source.port())) {
                            handler.onDatagram(source, datagram);
                        }
                    }

                    @Override
                    public void onDatagram(Endpoint source, ByteBuffer datagram, ReceiveContext context) {
                        if (!BLOCKED.contains(source.port())) {
                            handler.onDatagram(source, datagram, context);
                        }
                    }

                    @Override
                    public void onBurstEnd() {
                        handler.onBurstEnd(); // a UDP transport declaring receiveBursts says when a burst ends
                    }

                    @Override
                    public void onLocalEndpointChanged(Endpoint previous, Endpoint current) {
                        handler.onLocalEndpointChanged(previous, current);
                    }

                    @Override
                    public void onTransportFailure(Throwable failure) {
                        handler.onTransportFailure(failure);
                    }
                });
            }

            @Override
            public void stop() {
                udp.stop();
            }

            @Override
            public void destroy() {
                udp.destroy();
            }

            @Override
            public State state() {
                return udp.state();
            }

            @Override
            public Endpoint localEndpoint() {
                return udp.localEndpoint();
            }

            @Override
            public TransportCapabilities capabilities() {
                return udp.capabilities();
            }

            @Override
            public boolean supports(Endpoint remote) {
                return udp.supports(remote);
            }

            @Override
            public boolean send(Endpoint remote, ByteBuffer datagram) {
                return BLOCKED.contains(remote.port()) || udp.send(remote, datagram);
            }

            @Override
            public boolean send(Endpoint remote, ByteBuffer datagram, int ttl) {
                return BLOCKED.contains(remote.port()) || udp.send(remote, datagram, ttl);
            }

            @Override
            public String toString() {
                return "gated " + udp;
            }
        };
    }
}
