package io.peerlink;

import java.util.Objects;

/**
 * The path a link uses right now.
 *
 * @param kind how datagrams travel
 * @param local the local endpoint datagrams leave from
 * @param remote the endpoint datagrams are sent to
 */
public record PathInfo(PathKind kind, Endpoint local, Endpoint remote) {
    /**
     * Validates the components.
     *
     * @param kind how datagrams travel
     * @param local the local endpoint datagrams leave from
     * @param remote the endpoint datagrams are sent to
     * @throws NullPointerException if any component is null
     */
    public PathInfo {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
    }

    @Override
    public String toString() {
        return kind + " " + local + " -> " + remote;
    }
}
