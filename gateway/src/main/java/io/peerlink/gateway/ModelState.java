package io.peerlink.gateway;

import java.util.Objects;

/**
 * The platform's virtual model of one device: desired state (written by the platform) and
 * reported state (written by the gateway), each with its own version. Versions start at 0
 * (empty object) and increase by one on each accepted write; see docs/gateway.md for the
 * conflict rule.
 */
public record ModelState(String deviceId, String desiredJson, long desiredVersion, String reportedJson,
                         long reportedVersion) {
    public ModelState {
        Objects.requireNonNull(deviceId, "deviceId");
        Objects.requireNonNull(desiredJson, "desiredJson");
        Objects.requireNonNull(reportedJson, "reportedJson");
    }
}
