package io.peerlink.relay.turn;

import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.util.Objects;

/** Provides the {@code turn} transport: datagrams relayed through a TURN server allocation. */
public final class TurnTransportProvider implements TransportProvider {
    /** The scheme of the bind endpoint (the TURN server) and of peer endpoints (relayed addresses). */
    public static final String SCHEME = "turn";

    /** Public no-argument constructor for {@link java.util.ServiceLoader}. */
    public TurnTransportProvider() {
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    /**
     * @throws IllegalArgumentException if the bind endpoint is not {@code turn://<ip>:<port>}, the
     *         leg is unknown, or no credentials are configured
     */
    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        return new TurnTransport(config);
    }
}
