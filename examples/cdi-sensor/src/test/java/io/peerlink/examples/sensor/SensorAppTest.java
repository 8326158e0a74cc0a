package io.peerlink.examples.sensor;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PeerLinks;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Runs {@link SensorApp#main} against a real reference server and a collector device. */
class SensorAppTest {
    private static final List<String> PROPERTIES = List.of("peerlink.identity", "peerlink.rendezvous", "peerlink.udp",
            "peerlink.stun", "sensor.collector", "sensor.readings", "sensor.interval");
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        PROPERTIES.forEach(System::clearProperty);
    }

    /** Creates the key file, so the allow-list can name the device before it first runs. */
    private DeviceId identity(String name) {
        try (Device d = PeerLinks.device().identity(dir.resolve(name + ".key"))
                .udp(new InetSocketAddress("127.0.0.1", 0)).build()) {
            return d.id();
        }
    }

    @Test
    void sensorSendsItsReadingsToTheCollectorAndClosesItsDevice() throws Exception {
        DeviceId sensor = identity("sensor");
        DeviceId collectorId = identity("collector");
        Path allowList = dir.resolve("allow-list");
        Files.writeString(allowList, sensor + " plant\n" + collectorId + " plant\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(0).coapPort(-1).allowListFile(allowList).build());
        toClose.add(server);

        BlockingQueue<String> readings = new LinkedBlockingQueue<>();
        Device collector = PeerLinks.device().identity(dir.resolve("collector.key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0)).build();
        toClose.add(collector);
        collector.onIncoming(request -> {
            if (request.from().equals(sensor)) {
                request.accept().thenAccept(link -> link.channel().onMessage(
                        (m, how) -> readings.add(StandardCharsets.UTF_8.decode(m).toString())));
            } else {
                request.reject("not a sensor of this plant");
            }
        });
        collector.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

        System.setProperty("peerlink.identity", dir.resolve("sensor.key").toString());
        System.setProperty("peerlink.rendezvous", server.controlUri().toString());
        System.setProperty("peerlink.udp", "127.0.0.1:0");
        System.setProperty("peerlink.stun", "127.0.0.1:" + server.stunAddress().getPort());
        System.setProperty("sensor.collector", collectorId.toString());
        System.setProperty("sensor.readings", "3");
        System.setProperty("sensor.interval", "PT0.05S");
        SensorApp.main(new String[0]);

        for (int i = 1; i <= 3; i++) {
            String reading = readings.poll(10, TimeUnit.SECONDS);
            assertNotNull(reading, "reading " + i + " did not arrive");
            assertTrue(reading.matches("reading " + i + " temperature=\\d+\\.\\d\\d"), reading);
        }
        // The container closed the sensor's device on the way out: only the collector stays online.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (server.connectedDevices() > 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, server.connectedDevices());
    }
}
