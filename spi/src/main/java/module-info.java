/**
 * The PeerLink SPI: what plugin authors implement. Transports ({@link io.peerlink.spi.TransportProvider},
 * {@link io.peerlink.spi.Transport}) and admission control ({@link io.peerlink.spi.Authenticator},
 * {@link io.peerlink.spi.AccessPolicy}). Verify an implementation with the conformance suite
 * (peerlink-conformance-tests). No third-party types appear here.
 */
module io.peerlink.spi {
    requires transitive io.peerlink.api;

    exports io.peerlink.spi;

    uses io.peerlink.spi.TransportProvider;
    uses io.peerlink.spi.Authenticator;
    uses io.peerlink.spi.AccessPolicy;
    uses io.peerlink.spi.ControlCarrierProvider;
}
