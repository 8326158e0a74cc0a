/**
 * The default PeerLink runtime. Exports nothing: applications use {@code io.peerlink}, plugins
 * use {@code io.peerlink.spi}; everything here is internal.
 */
module io.peerlink.core {
    requires transitive io.peerlink.spi;
    requires java.net.http;
    requires jakarta.json.bind;

    // JSON-B reads and writes the rendezvous wire frame reflectively.
    opens io.peerlink.core.internal.rendezvous.protocol to org.eclipse.yasson;

    uses io.peerlink.spi.TransportProvider;

    provides io.peerlink.runtime.PeerLinkProvider with io.peerlink.core.internal.device.CorePeerLinkProvider;
}
