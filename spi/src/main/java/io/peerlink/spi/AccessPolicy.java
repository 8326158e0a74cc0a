package io.peerlink.spi;

import io.peerlink.DeviceId;

/**
 * Decides whether one admitted device may reach another. The default policy
 * ({@code same-network}) allows it when both were admitted into the same network. Must be
 * thread-safe and fast.
 */
public interface AccessPolicy {

    /** @return the name the server configuration selects this policy by */
    String name();

    /**
     * Receives this policy's configuration, the keys under {@code access-policy.<name>.}
     * (docs/spi-guide.md, "Configuring a plug-in"). Called exactly once, before the first
     * {@link #mayConnect}; the default does nothing.
     *
     * @param config the values under this plug-in's prefix
     * @throws PluginConfigException if the configuration is unusable; the host prints the message and does not start
     * @throws NullPointerException if config is null
     */
    default void configure(PluginConfig config) {
        java.util.Objects.requireNonNull(config, "config");
    }

    /**
     * @param from the requesting device
     * @param fromNetwork the network it was admitted into
     * @param to the target device
     * @param toNetwork the network the target was admitted into
     * @return true if {@code from} may reach {@code to}
     */
    boolean mayConnect(DeviceId from, String fromNetwork, DeviceId to, String toNetwork);
}
