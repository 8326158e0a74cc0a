package io.peerlink.gateway;

import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * One telemetry upload accepted from a gateway for one of its registered devices.
 *
 * @param valuesJson the {@code values} object exactly as sent, as JSON text
 * @param attachment the binary attachment (e.g. a camera image), if any; the array is owned by the receiver
 */
public record Telemetry(String gatewayId, String deviceId, String valuesJson, Optional<byte[]> attachment,
                        Instant receivedAt) {
    public Telemetry {
        Objects.requireNonNull(gatewayId, "gatewayId");
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(valuesJson, "valuesJson");
        Objects.requireNonNull(attachment, "attachment");
        Objects.requireNonNull(receivedAt, "receivedAt");
    }
}
