/**
 * PeerLink's UDP transport: one {@link java.nio.channels.DatagramChannel} per transport, a single
 * receive thread, non-blocking sends, and IP TTL control for NAT hole-punch openers (through JNA,
 * on Linux and macOS, without any JVM flag). Found through
 * {@link io.peerlink.spi.TransportProvider} under the scheme {@code udp}.
 */
module io.peerlink.transport.udp {
    requires transitive io.peerlink.spi;
    requires com.sun.jna;

    exports io.peerlink.transport.udp;

    provides io.peerlink.spi.TransportProvider with io.peerlink.transport.udp.UdpTransportProvider;
}
