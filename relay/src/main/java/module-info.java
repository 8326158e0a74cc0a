/**
 * PeerLink's relay: a TURN (RFC 8656) client that works against any standard TURN server
 * (coturn included) over UDP, TCP or TLS, TURN REST API credentials, and an embedded TURN
 * server with limits on by default (docs/relay.md).
 */
module io.peerlink.relay {
    requires transitive io.peerlink.protocol;

    exports io.peerlink.relay.turn;
}
