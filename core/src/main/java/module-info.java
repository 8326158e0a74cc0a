/**
 * The default PeerLink runtime. Exports nothing: applications use {@code io.peerlink}, plugins
 * use {@code io.peerlink.spi}; everything here is internal. Wire formats shared with servers
 * come from {@code io.peerlink.protocol}.
 */
module io.peerlink.core {
    requires transitive io.peerlink.spi;
    requires io.peerlink.protocol;
    requires java.net.http;

    uses io.peerlink.spi.TransportProvider;
    uses io.peerlink.spi.ControlCarrierProvider;

    provides io.peerlink.runtime.PeerLinkProvider with io.peerlink.core.internal.device.CorePeerLinkProvider;
}
