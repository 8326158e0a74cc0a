package io.peerlink.examples.sensor;

import jakarta.enterprise.inject.se.SeContainer;
import jakarta.enterprise.inject.se.SeContainerInitializer;

/**
 * Starts the CDI container; {@link Sensor} does its work when the container starts, and closing
 * the container closes the device. Configure with system properties:
 *
 * <pre>
 * java -Dpeerlink.identity=sensor.key -Dpeerlink.rendezvous=ws://192.0.2.1:8080/peerlink/v1 \
 *      -Dpeerlink.udp=0.0.0.0:0 -Dsensor.collector=&lt;collector device ID&gt; \
 *      -cp ... io.peerlink.examples.sensor.SensorApp
 * </pre>
 */
public final class SensorApp {
    private SensorApp() {
    }

    /**
     * @param args none
     */
    public static void main(String[] args) {
        // Starting the container runs the Sensor bean (it observes Startup); closing it closes the device.
        SeContainer container = SeContainerInitializer.newInstance().initialize();
        try {
            System.out.println("sensor done; closing the container closes the device");
        } finally {
            container.close();
        }
    }
}
