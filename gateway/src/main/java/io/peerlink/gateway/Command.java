package io.peerlink.gateway;

import java.time.Duration;
import java.util.Objects;

/**
 * A platform → device command, routed through the device's gateway.
 *
 * @param paramsJson a JSON object, as text
 * @param timeout how long to wait for the gateway's acknowledgement
 */
public record Command(String gatewayId, String deviceId, String name, String paramsJson, Duration timeout) {
    public Command {
        Objects.requireNonNull(gatewayId, "gatewayId");
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(paramsJson, "paramsJson");
        Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new IllegalArgumentException("timeout must be positive: " + timeout);
        }
    }
}
