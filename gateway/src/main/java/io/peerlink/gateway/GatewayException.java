package io.peerlink.gateway;

import java.util.Objects;

/** Why a platform-side operation on a gateway failed. */
public final class GatewayException extends RuntimeException {

    public enum Reason {
        /** The gateway is not connected and authenticated. */
        GATEWAY_OFFLINE,
        /** The device was never registered through that gateway. */
        UNKNOWN_DEVICE,
        /** The gateway did not acknowledge within the command's timeout. */
        COMMAND_TIMEOUT,
        /** The gateway disconnected before acknowledging. */
        DISCONNECTED,
        /** The JSON given to the API is not a JSON object. */
        BAD_JSON,
        /** The server was closed. */
        CLOSED,
        /** Several nodes: the shared state (Redis) cannot be reached; nothing was changed. */
        STATE_UNAVAILABLE
    }

    private final Reason reason;

    public GatewayException(Reason reason, String message) {
        super(message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
