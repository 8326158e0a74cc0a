package io.peerlink.examples.sensor;

import io.peerlink.DeviceId;

import java.time.Duration;

/**
 * What the sensor does, from system properties.
 *
 * @param collector the collector device ({@code sensor.collector}, required)
 * @param readings how many readings to send ({@code sensor.readings}, default 5)
 * @param interval the pause between readings ({@code sensor.interval}, ISO-8601, default PT1S)
 */
public record SensorSettings(DeviceId collector, int readings, Duration interval) {

    /** @throws IllegalArgumentException if a value is out of range */
    public SensorSettings {
        if (readings < 1) {
            throw new IllegalArgumentException("sensor.readings must be at least 1: " + readings);
        }
        if (interval.isNegative()) {
            throw new IllegalArgumentException("sensor.interval must not be negative: " + interval);
        }
    }

    /**
     * @return the settings from system properties
     * @throws IllegalArgumentException naming the property that is missing or malformed
     */
    public static SensorSettings fromSystemProperties() {
        String collector = System.getProperty("sensor.collector");
        if (collector == null) {
            throw new IllegalArgumentException("missing system property sensor.collector: the collector's device ID");
        }
        return new SensorSettings(DeviceId.parse(collector),
                Integer.parseInt(System.getProperty("sensor.readings", "5")),
                Duration.parse(System.getProperty("sensor.interval", "PT1S")));
    }
}
