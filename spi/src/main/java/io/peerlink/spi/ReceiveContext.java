package io.peerlink.spi;

import java.util.Objects;
import java.util.Optional;

/**
 * What a transport knows about a received datagram beyond its source endpoint. Built with
 * {@link #builder()} so that new facts can be added without breaking implementers. Immutable.
 */
public final class ReceiveContext {

    /** A context that carries nothing beyond the source endpoint. */
    public static final ReceiveContext NONE = builder().build();

    private final String authenticatedPeer;

    private ReceiveContext(Builder b) {
        this.authenticatedPeer = b.authenticatedPeer;
    }

    /** @return a builder with nothing set */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @return the sender's identity as authenticated by the transport itself (a broker login name,
     *         a DTLS certificate subject), if the transport declares
     *         {@link TransportCapabilities#peerAuthentication()}; empty otherwise. Informational:
     *         PeerLink's own handshake decides who a peer is.
     */
    public Optional<String> authenticatedPeer() {
        return Optional.ofNullable(authenticatedPeer);
    }

    @Override
    public String toString() {
        return "ReceiveContext[authenticatedPeer=" + authenticatedPeer + "]";
    }

    /** Builds a {@link ReceiveContext}. */
    public static final class Builder {
        private String authenticatedPeer;

        private Builder() {
        }

        /**
         * @param peer see {@link ReceiveContext#authenticatedPeer()}
         * @return this
         * @throws NullPointerException if peer is null
         * @throws IllegalArgumentException if peer is empty
         */
        public Builder authenticatedPeer(String peer) {
            Objects.requireNonNull(peer, "peer");
            if (peer.isEmpty()) {
                throw new IllegalArgumentException("authenticatedPeer must not be empty");
            }
            this.authenticatedPeer = peer;
            return this;
        }

        /** @return the context */
        public ReceiveContext build() {
            return new ReceiveContext(this);
        }
    }
}
