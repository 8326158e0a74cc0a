package io.peerlink.server.auth;

import io.peerlink.server.ServerConfig;

/**
 * Optional interface for an {@link io.peerlink.spi.Authenticator} or
 * {@link io.peerlink.spi.AccessPolicy} found by {@link java.util.ServiceLoader} that needs the
 * server configuration (e.g. a file path). The server calls {@link #configure(ServerConfig)} once,
 * before the first use; a failure there stops the server from starting.
 */
public interface ServerConfigurable {
    /**
     * @param config the server configuration
     * @throws IllegalStateException if the configuration is unusable; the message says what to fix
     */
    void configure(ServerConfig config);
}
