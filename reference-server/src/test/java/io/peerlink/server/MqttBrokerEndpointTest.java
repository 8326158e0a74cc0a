package io.peerlink.server;

import io.peerlink.Endpoint;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.mqtt.MqttBrokerService;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.mqtt.MqttConnectionRefusedException;
import io.peerlink.transport.mqtt.MqttOptions;
import io.peerlink.transport.mqtt.MqttTransportProvider;
import io.peerlink.transport.mqtt.MqttVersion;
import io.peerlink.transport.mqtt.moquette.EmbeddedMqttBroker;
import io.peerlink.transport.mqtt.moquette.MqttIdentityLogin;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference server hosts the embedded MQTT broker as a service when {@code mqtt.port} is set;
 * real MQTT transports (Paho) log in with identity tokens and the server's own allow-list decides.
 */
class MqttBrokerEndpointTest {

    private final List<Transport> transports = new ArrayList<>();

    @AfterEach
    void close() {
        transports.forEach(Transport::destroy);
    }

    private Transport transport(EmbeddedMqttBroker broker, DeviceIdentity id) {
        Transport t = new MqttTransportProvider().create(TransportConfig.bind(endpoint(broker, id))
                .set(MqttOptions.PROTOCOL_VERSION, MqttVersion.MQTT_3_1_1)
                .set(MqttOptions.USERNAME, id.id().value())
                .set(MqttOptions.PASSWORD_SOURCE, MqttIdentityLogin.passwordSource(id, broker.audience()))
                .build());
        transports.add(t);
        return t;
    }

    private static Endpoint endpoint(EmbeddedMqttBroker broker, DeviceIdentity id) {
        return Endpoint.parse("mqtt://127.0.0.1:" + broker.port() + "/" + id.id().value());
    }

    @Test
    void offByDefault() throws Exception {
        assertEquals(-1, ServerConfig.builder().build().mqtt().port());
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).open(true).build())) {
            assertEquals(-1, server.mqttPort());
            assertTrue(!server.services().contains("mqtt"));
        }
    }

    @Test
    void listedDevicesExchangeDatagramsThroughTheHostedBrokerAndOthersAreRefused(@TempDir Path dir) throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        DeviceIdentity bob = DeviceIdentity.ephemeral();
        DeviceIdentity carol = DeviceIdentity.ephemeral();
        Path list = Files.writeString(dir.resolve("allow-list"), alice.id() + " lab\n" + bob.id() + " lab\n");
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(list).mqtt(new ServerConfig.Mqtt(0, null, null)).build())) {
            assertTrue(server.services().contains("mqtt"), server.services().toString());
            EmbeddedMqttBroker broker = server.bean(MqttBrokerService.class).broker();
            assertEquals(server.mqttPort(), broker.port());

            Transport a = transport(broker, alice);
            Queue atA = new Queue();
            a.start(atA);
            Transport b = transport(broker, bob);
            Queue atB = new Queue();
            b.start(atB);
            byte[] hello = "hello bob".getBytes(StandardCharsets.UTF_8);
            assertTrue(a.send(endpoint(broker, bob), ByteBuffer.wrap(hello)));
            assertArrayEquals(hello, atB.got.poll(20, TimeUnit.SECONDS));
            assertTrue(b.send(endpoint(broker, alice), ByteBuffer.wrap(new byte[] {7})));
            assertArrayEquals(new byte[] {7}, atA.got.poll(20, TimeUnit.SECONDS));
            // The server's authenticator decided, with the network from the server's allow-list.
            assertEquals("lab", broker.networkOf(alice.id()).orElseThrow());

            Transport c = transport(broker, carol);
            MqttConnectionRefusedException refused = assertThrows(MqttConnectionRefusedException.class, () -> c.start(new Queue()));
            assertTrue(refused.permanent(), refused.getMessage());
            assertEquals(1, broker.refusedLogins());
            assertEquals(2, broker.admittedLogins());
        }
    }

    /** A client hammering the hosted broker with bad logins is refused every time but cannot flood the log. */
    @Test
    void aLoginFloodIsRefusedAndRateLimitedInTheLog() throws Exception {
        java.util.List<java.util.logging.LogRecord> records = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Handler capture = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                if (r.getMessage() != null && r.getMessage().startsWith("refused the MQTT login")) {
                    records.add(r);
                }
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger(MqttBrokerService.class.getName());
        jul.addHandler(capture);
        int attempts = 40;
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).open(true).mqtt(new ServerConfig.Mqtt(0, null, null)).build())) {
            long start = System.nanoTime();
            for (int i = 0; i < attempts; i++) {
                String id = DeviceIdentity.ephemeral().id().value();
                org.eclipse.paho.client.mqttv3.MqttClient client = new org.eclipse.paho.client.mqttv3.MqttClient(
                        "tcp://127.0.0.1:" + server.mqttPort(), id, new org.eclipse.paho.client.mqttv3.persist.MemoryPersistence());
                org.eclipse.paho.client.mqttv3.MqttConnectOptions options = new org.eclipse.paho.client.mqttv3.MqttConnectOptions();
                options.setUserName(id);
                options.setPassword(("not-a-token-" + i).toCharArray());
                options.setConnectionTimeout(10);
                assertThrows(org.eclipse.paho.client.mqttv3.MqttException.class, () -> client.connect(options));
                client.close(true);
            }
            EmbeddedMqttBroker broker = server.bean(MqttBrokerService.class).broker();
            assertEquals(attempts, broker.refusedLogins());
            double minutes = (System.nanoTime() - start) / 60e9;
            long budget = io.peerlink.server.log.RateLimitedLogger.DEFAULT_BURST
                    + (long) Math.ceil(minutes * io.peerlink.server.log.RateLimitedLogger.DEFAULT_BURST);
            assertTrue(!records.isEmpty() && records.size() <= budget, records.size() + " lines for " + attempts + " refusals, budget " + budget);
            assertTrue(budget < attempts, "the flood outpaced the budget (" + budget + "), or the test proves nothing");
        } finally {
            jul.removeHandler(capture);
        }
    }

    @Test
    void aTakenPortStopsTheStartNamingTheKey() throws Exception {
        try (java.net.ServerSocket taken = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerConfig.builder()
                    .bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).open(true)
                    .mqtt(new ServerConfig.Mqtt(taken.getLocalPort(), null, null)).build()));
            assertTrue(e.getMessage().contains("mqtt.port"), e.getMessage());
        }
    }

    /**
     * {@code mqtt.data-dir}: datagrams the broker acknowledged for devices that were offline (their persistent
     * sessions subscribed, then disconnected) are delivered when the devices log in again after a server restart
     * on the same port and data directory. Two offline devices and the sender make three session queues: Moquette
     * 0.17's default segmented queue store kept only one of them (see EmbeddedMqttBroker.start).
     */
    @Test
    void aDatagramQueuedForAnOfflineDeviceSurvivesARestartWithTheDataDirectory(@TempDir Path dir) throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        DeviceIdentity bob = DeviceIdentity.ephemeral();
        DeviceIdentity carol = DeviceIdentity.ephemeral();
        Path list = Files.writeString(dir.resolve("allow-list"), alice.id() + " lab\n" + bob.id() + " lab\n" + carol.id() + " lab\n");
        Path data = Files.createDirectories(dir.resolve("mqtt-data"));
        byte[] toBob = "queued for bob".getBytes(StandardCharsets.UTF_8);
        byte[] toCarol = "queued for carol".getBytes(StandardCharsets.UTF_8);
        int port;
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(list).mqtt(new ServerConfig.Mqtt(0, data, "peerlink-test")).build())) {
            EmbeddedMqttBroker broker = server.bean(MqttBrokerService.class).broker();
            port = broker.port();
            for (DeviceIdentity offline : List.of(bob, carol)) {
                Transport t = transport(broker, offline);
                t.start(new Queue()); // subscribes the inbox in a persistent session
                t.stop();
            }
            Transport a = transport(broker, alice);
            a.start(new Queue());
            sendAcknowledged(a, endpoint(broker, bob), toBob);
            sendAcknowledged(a, endpoint(broker, carol), toCarol);
            a.stop();
        }
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(list).mqtt(new ServerConfig.Mqtt(port, data, "peerlink-test")).build())) {
            EmbeddedMqttBroker broker = server.bean(MqttBrokerService.class).broker();
            assertEquals(port, broker.port());
            Queue atB = new Queue();
            transport(broker, bob).start(atB);
            Queue atC = new Queue();
            transport(broker, carol).start(atC);
            assertArrayEquals(toBob, atB.got.poll(20, TimeUnit.SECONDS), "bob's queued datagram did not survive the restart");
            assertArrayEquals(toCarol, atC.got.poll(20, TimeUnit.SECONDS), "carol's queued datagram did not survive the restart");
        }
    }

    /** Sends and waits for the broker's PUBACK: from then on the broker has the datagram. */
    private static void sendAcknowledged(Transport from, Endpoint to, byte[] datagram) throws Exception {
        java.util.concurrent.CompletableFuture<Void> acked = new java.util.concurrent.CompletableFuture<>();
        assertTrue(from.send(to, ByteBuffer.wrap(datagram), new io.peerlink.spi.SendCallback() {
            @Override
            public void completed() {
                acked.complete(null);
            }

            @Override
            public void failed(Throwable cause) {
                acked.completeExceptionally(cause);
            }
        }));
        acked.get(20, TimeUnit.SECONDS);
    }

    private static final class Queue implements DatagramHandler {
        final BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();

        @Override
        public void onDatagram(Endpoint source, ByteBuffer datagram) {
            byte[] bytes = new byte[datagram.remaining()];
            datagram.get(bytes);
            got.add(bytes);
        }
    }
}
