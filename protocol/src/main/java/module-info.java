/**
 * Wire formats that PeerLink devices and servers share: the rendezvous control protocol
 * (docs/protocol-rendezvous.md), STUN Binding (RFC 8489) and the device identity (an Ed25519
 * key file and its signatures). The reference server and the core runtime both use these
 * packages; nothing here depends on either.
 */
module io.peerlink.protocol {
    requires transitive io.peerlink.api;
    // Transitive: the exported message types carry JSON-B annotations, adapters and serializers
    // (whose signatures name JSON-P's parser and generator).
    requires transitive jakarta.json;
    requires transitive jakarta.json.bind;

    exports io.peerlink.protocol.rendezvous;
    exports io.peerlink.protocol.stun;
    exports io.peerlink.protocol.identity;

    // JSON-B (Yasson, a run-time dependency) reads and writes the message records reflectively.
    // Unqualified: a qualified opens to a module javac cannot see is a warning.
    opens io.peerlink.protocol.rendezvous;
}
