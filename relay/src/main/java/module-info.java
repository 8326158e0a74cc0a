/**
 * PeerLink's relay: a TURN (RFC 8656) client that works against any standard TURN server
 * (coturn included) over UDP, TCP or TLS, TURN REST API credentials, and an embedded TURN
 * server with limits on by default, and the client as a transport under the scheme {@code turn}
 * (docs/relay.md).
 */
module io.peerlink.relay {
    requires transitive io.peerlink.protocol;
    requires transitive io.peerlink.spi;
    requires io.peerlink.transport.udp;

    exports io.peerlink.relay.turn;

    provides io.peerlink.spi.TransportProvider with io.peerlink.relay.turn.TurnTransportProvider;
}
