/**
 * The default PeerLink runtime. Exports nothing: applications use {@code io.peerlink}, plugins
 * use {@code io.peerlink.spi}; everything here is internal.
 */
module io.peerlink.core {
    requires transitive io.peerlink.spi;
    requires java.net.http;
    requires jakarta.json.bind;

    // JSON-B (Yasson, a run-time dependency) reads and writes the rendezvous wire frame
    // reflectively. Unqualified: a qualified opens to a module javac cannot see is a warning.
    opens io.peerlink.core.internal.rendezvous.protocol;

    uses io.peerlink.spi.TransportProvider;

    provides io.peerlink.runtime.PeerLinkProvider with io.peerlink.core.internal.device.CorePeerLinkProvider;
}
