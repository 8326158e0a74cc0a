package io.peerlink.server.auth;

import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.PluginConfig;

import java.util.Objects;

/**
 * A plug-in as a third party writes it, against the SPI only: {@code configured-network} admits
 * every device into the network named by its setting {@code authenticator.configured-network.network}
 * and refuses to start without it. Registered for this module's tests in META-INF/services.
 */
public final class ConfiguredNetworkAuthenticator implements Authenticator {
    private volatile String network;

    /** ServiceLoader. */
    public ConfiguredNetworkAuthenticator() {
    }

    @Override
    public String name() {
        return "configured-network";
    }

    @Override
    public void configure(PluginConfig config) {
        network = config.require("network");
    }

    @Override
    public AuthResult authenticate(AuthRequest request) {
        Objects.requireNonNull(request, "request");
        return new AuthResult.Admitted(Objects.requireNonNull(network, "configure() was not called"));
    }
}
