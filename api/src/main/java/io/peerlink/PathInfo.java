package io.peerlink;

import java.time.Duration;
import java.util.Objects;

/**
 * A snapshot of one path of a link.
 *
 * @param kind how datagrams travel
 * @param local the local endpoint datagrams leave from (the transport's bound endpoint)
 * @param remote the endpoint datagrams are sent to
 * @param state where the path stands
 * @param rtt the round-trip time measured by its last path validation; zero if never measured
 */
public record PathInfo(PathKind kind, Endpoint local, Endpoint remote, PathState state, Duration rtt) {
    /**
     * Validates the components.
     *
     * @param kind how datagrams travel
     * @param local the local endpoint datagrams leave from
     * @param remote the endpoint datagrams are sent to
     * @param state where the path stands
     * @param rtt measured round-trip time, zero if none
     * @throws NullPointerException if any component is null
     * @throws IllegalArgumentException if rtt is negative
     */
    public PathInfo {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(local, "local");
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(rtt, "rtt");
        if (rtt.isNegative()) {
            throw new IllegalArgumentException("rtt must not be negative: " + rtt);
        }
    }

    /**
     * @param other another path snapshot
     * @return true if both describe the same path (same local and remote endpoint), whatever
     *         their state and RTT
     */
    public boolean samePath(PathInfo other) {
        return local.equals(other.local) && remote.equals(other.remote);
    }

    @Override
    public String toString() {
        return kind + " " + local + " -> " + remote + " (" + state + ")";
    }
}
