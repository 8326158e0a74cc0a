package io.peerlink.server;

import java.util.Objects;

/**
 * The server's configuration is wrong. The message is one line: the key at fault, what is wrong,
 * where the value came from and what to do, e.g.
 * {@code http.port: expected an integer, got 'eighty' (from environment variable PEERLINK_HTTP_PORT)}.
 */
public final class ServerConfigException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    /** The key at fault. */
    private final String key;

    /**
     * @param key the key at fault
     * @param problem what is wrong and what to do
     */
    public ServerConfigException(String key, String problem) {
        super(Objects.requireNonNull(key, "key") + ": " + Objects.requireNonNull(problem, "problem"));
        this.key = key;
    }

    /** @return the key at fault */
    public String key() {
        return key;
    }
}
