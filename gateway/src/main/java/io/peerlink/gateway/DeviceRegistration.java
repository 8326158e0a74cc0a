package io.peerlink.gateway;

import java.util.Objects;

/** A gateway registered a device behind it; {@code metadataJson} is the object it sent ({@code {}} if none). */
public record DeviceRegistration(String gatewayId, String deviceId, String metadataJson) {
    public DeviceRegistration {
        Objects.requireNonNull(gatewayId, "gatewayId");
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(metadataJson, "metadataJson");
    }
}
