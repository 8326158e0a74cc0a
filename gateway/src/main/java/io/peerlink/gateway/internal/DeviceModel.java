package io.peerlink.gateway.internal;

import io.peerlink.gateway.ModelState;

import org.json.JSONObject;

/**
 * Desired and reported state of one device. Desired is the platform's: every write wins and
 * increments the version. Reported is the gateway's: a write must name the version it replaces
 * (optimistic concurrency), so two gateway processes racing for one device cannot silently
 * overwrite each other.
 */
final class DeviceModel {

    private final String deviceId;
    private String desired = "{}";
    private long desiredVersion;
    private String reported = "{}";
    private long reportedVersion;

    DeviceModel(String deviceId) {
        this.deviceId = deviceId;
    }

    synchronized ModelState setDesired(JSONObject value) {
        desired = value.toString();
        desiredVersion++;
        return snapshot();
    }

    /** Applies a report based on {@code baseVersion}; returns null when the base is not the current version. */
    synchronized ModelState report(long baseVersion, JSONObject value) {
        if (baseVersion != reportedVersion) {
            return null;
        }
        reported = value.toString();
        reportedVersion++;
        return snapshot();
    }

    synchronized ModelState snapshot() {
        return new ModelState(deviceId, desired, desiredVersion, reported, reportedVersion);
    }

    static JSONObject toJson(ModelState m) {
        return new JSONObject()
                .put("deviceId", m.deviceId())
                .put("desired", new JSONObject(m.desiredJson()))
                .put("desiredVersion", m.desiredVersion())
                .put("reported", new JSONObject(m.reportedJson()))
                .put("reportedVersion", m.reportedVersion());
    }
}
