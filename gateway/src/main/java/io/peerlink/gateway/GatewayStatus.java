package io.peerlink.gateway;

import java.time.Instant;
import java.util.Objects;

/** A gateway came online (authenticated) or went offline (disconnected or missed its heartbeats). */
public record GatewayStatus(String gatewayId, State state, String reason, Instant at) {

    public enum State { ONLINE, OFFLINE }

    public GatewayStatus {
        Objects.requireNonNull(gatewayId, "gatewayId");
        Objects.requireNonNull(state, "state");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(at, "at");
    }
}
