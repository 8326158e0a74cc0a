/**
 * The PeerLink API: {@link io.peerlink.PeerLink}, {@link io.peerlink.Rendezvous},
 * {@link io.peerlink.ResourceBridge} and {@link io.peerlink.ReliableChannel}, plus the value
 * types they use. The runtime is found with {@link java.util.ServiceLoader} through
 * {@link io.peerlink.runtime.PeerLinkProvider} (and a resource bridge through
 * {@link io.peerlink.runtime.ResourceBridgeProvider}), the way JSON-B finds Yasson.
 */
module io.peerlink.api {
    exports io.peerlink;
    exports io.peerlink.runtime;

    uses io.peerlink.runtime.PeerLinkProvider;
    uses io.peerlink.runtime.ResourceBridgeProvider;
}
