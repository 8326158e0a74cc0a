package io.peerlink.spi;

/**
 * Decides which devices a rendezvous server admits, after the server has verified the device's
 * signature over a fresh nonce. Implementations must be thread-safe and fast (they run on the
 * control connection's thread); found by {@link java.util.ServiceLoader} and selected by
 * {@link #name()} in the server configuration.
 */
public interface Authenticator {

    /** @return the name the server configuration selects this authenticator by, e.g. {@code allow-list} */
    String name();

    /**
     * Receives this authenticator's configuration, the keys under {@code authenticator.<name>.}
     * (docs/spi-guide.md, "Configuring a plug-in"). The host calls it exactly once, after the
     * no-argument constructor and before the first {@link #authenticate}; a plug-in that needs no
     * configuration keeps this default, which does nothing.
     *
     * @param config the values under this plug-in's prefix
     * @throws PluginConfigException if the configuration is unusable; the host prints the message and does not start
     * @throws NullPointerException if config is null
     */
    default void configure(PluginConfig config) {
        java.util.Objects.requireNonNull(config, "config");
    }

    /**
     * @param request the proven device identity and its claims
     * @return admitted (with its network) or denied (with a reason); never null
     * @throws NullPointerException if request is null
     */
    AuthResult authenticate(AuthRequest request);
}
