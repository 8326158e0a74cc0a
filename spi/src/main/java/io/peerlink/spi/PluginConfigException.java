package io.peerlink.spi;

import java.util.Objects;

/**
 * A plug-in's configuration is missing or wrong. The message is one line that names the full key
 * and says what is wrong, e.g. {@code authenticator.hmac-file.secrets: is required but not set};
 * a host prints it and stops.
 */
public final class PluginConfigException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** The full configuration key at fault. */
    private final String key;

    /**
     * @param key the full key at fault, e.g. {@code authenticator.hmac-file.secrets}
     * @param problem what is wrong and what to do, e.g. {@code cannot read /etc/x: no such file}
     * @throws NullPointerException if an argument is null
     */
    public PluginConfigException(String key, String problem) {
        super(Objects.requireNonNull(key, "key") + ": " + Objects.requireNonNull(problem, "problem"));
        this.key = key;
    }

    /**
     * @param key the full key at fault
     * @param problem what is wrong and what to do
     * @param cause the underlying failure
     * @throws NullPointerException if key or problem is null
     */
    public PluginConfigException(String key, String problem, Throwable cause) {
        super(Objects.requireNonNull(key, "key") + ": " + Objects.requireNonNull(problem, "problem"), cause);
        this.key = key;
    }

    /** @return the full configuration key at fault */
    public String key() {
        return key;
    }
}
