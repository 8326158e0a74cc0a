package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Interoperability with Mosquitto 2 and its command-line clients as independent peers:
 * password authentication, publishing observed by {@code mosquitto_sub}, datagrams injected by
 * {@code mosquitto_pub}, and queued delivery to a device that was offline. Every test runs with
 * MQTT 5 and MQTT 3.1.1.
 */
class MosquittoInteropTest {

    private static Mosquitto broker;
    private final List<Transport> transports = new ArrayList<>();

    @BeforeAll
    static void startBroker() throws Exception {
        broker = Mosquitto.create();
        for (String user : List.of("alice", "bob", "carol", "dave", "erin", "frank")) {
            broker.user(user, Fixtures.USER_PASSWORD);
        }
        broker.start();
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (broker != null) {
            broker.close();
        }
    }

    @AfterEach
    void destroyTransports() {
        transports.forEach(Transport::destroy);
    }

    private Transport transport(String user, MqttVersion version) {
        Transport t = Fixtures.create(Fixtures.login(broker, user, version).set(MqttOptions.CLIENT_ID, user + "-" + version));
        transports.add(t);
        return t;
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void anonymousClientIsRefusedWithTheBrokersReason(MqttVersion version) {
        Transport anonymous = Fixtures.create(Fixtures.config(broker, "anon", version));
        transports.add(anonymous);
        MqttConnectionRefusedException e = assertThrows(MqttConnectionRefusedException.class, () -> anonymous.start(new Received()));
        // Mosquitto 2 refuses a client without credentials as "not authorised" (3.1.1 return code 5, MQTT 5 0x87).
        assertEquals(version == MqttVersion.MQTT_5 ? 0x87 : 5, e.reasonCode(), e.getMessage());
        assertEquals("Not authorized", e.reasonName());
        assertTrue(e.permanent(), "retrying without credentials cannot help");
        assertTrue(e.getMessage().contains("refused the connection of client 'anon'") && e.getMessage().contains("Not authorized"), e.getMessage());
        assertEquals(Transport.State.CREATED, anonymous.state(), "a refused start leaves the transport CREATED");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void wrongPasswordIsRefusedWithTheBrokersReason(MqttVersion version) {
        Transport wrong = Fixtures.create(Fixtures.config(broker, "alice", version)
                .set(MqttOptions.USERNAME, "alice").set(MqttOptions.PASSWORD, "not-the-password"));
        transports.add(wrong);
        MqttConnectionRefusedException e = assertThrows(MqttConnectionRefusedException.class, () -> wrong.start(new Received()));
        assertTrue(e.permanent(), e.getMessage());
        // Mosquitto 2.0 answers a wrong password with "not authorised" too, not "bad user name or password".
        assertEquals(version == MqttVersion.MQTT_5 ? 0x87 : 5, e.reasonCode(), e.getMessage());
        assertTrue(e.getMessage().startsWith("broker 127.0.0.1:" + broker.port() + " refused the connection of client 'alice'"), e.getMessage());
        assertEquals(Transport.State.CREATED, wrong.state());
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void mosquittoCommandLineClientsAreRefusedToo(MqttVersion version) throws Exception {
        Path payload = Files.createTempFile("payload", ".bin");
        Files.writeString(payload, "x");
        String protocol = version == MqttVersion.MQTT_5 ? "mqttv5" : "mqttv311";
        Mosquitto.Result anonymous = Fixtures.mosquittoPub(broker, null, null, "peerlink/in/bob/alice", payload, "-V", protocol);
        Mosquitto.Result wrong = Fixtures.mosquittoPub(broker, "alice", "wrong", "peerlink/in/bob/alice", payload, "-V", protocol);
        Files.delete(payload);
        assertTrue(anonymous.exitCode() != 0 && anonymous.output().toLowerCase().contains("not authori"), anonymous.toString());
        assertTrue(wrong.exitCode() != 0, wrong.toString());
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void mosquittoSubObservesWhatTheTransportPublishes(MqttVersion version) throws Exception {
        Transport alice = transport("alice", version);
        alice.start(new Received());
        int mark = broker.log().length();
        Fixtures.Sub sub = Fixtures.mosquittoSub(broker, "bob", "peerlink/in/bob/+", 3);
        broker.awaitSubscription("sub-bob", "peerlink/in/bob/+", mark);
        Endpoint bob = Fixtures.endpoint(broker, "bob");
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 1; i <= 3; i++) {
            CompletableFuture<Void> ack = new CompletableFuture<>();
            assertTrue(alice.send(bob, ByteBuffer.wrap(("hello-" + i + "-" + version).getBytes(StandardCharsets.UTF_8)), callback(ack)));
            acks.add(ack);
        }
        for (CompletableFuture<Void> ack : acks) {
            ack.get(20, TimeUnit.SECONDS); // the broker's PUBACK completed the send
        }
        String out = sub.awaitOutput(Mosquitto.timeout());
        assertEquals(List.of("peerlink/in/bob/alice hello-1-" + version, "peerlink/in/bob/alice hello-2-" + version,
                "peerlink/in/bob/alice hello-3-" + version), out.lines().toList());
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void mosquittoPubInjectsDatagramsTheTransportReceives(MqttVersion version) throws Exception {
        Transport bob = transport("bob", version);
        Received atBob = new Received();
        bob.start(atBob);
        byte[] every = new byte[256];
        for (int i = 0; i < every.length; i++) {
            every[i] = (byte) i;
        }
        Path payload = Files.createTempFile("payload", ".bin");
        Files.write(payload, every);
        Mosquitto.Result pub = Fixtures.mosquittoPub(broker, "carol", Fixtures.USER_PASSWORD, "peerlink/in/bob/carol", payload,
                "-V", version == MqttVersion.MQTT_5 ? "mqttv5" : "mqttv311");
        Files.delete(payload);
        assertEquals(0, pub.exitCode(), pub.output());
        Received.Datagram got = atBob.poll(Mosquitto.timeout());
        assertNotNull(got, "the datagram from mosquitto_pub did not arrive");
        assertArrayEquals(every, got.bytes(), "all 256 byte values arrive unchanged");
        assertEquals(Fixtures.endpoint(broker, "carol"), got.source(), "the sender level of the topic is the source");
        assertTrue(bob.supports(got.source()), "a reply can go back to the source");
        assertTrue(got.context().authenticatedPeer().isEmpty(), "without BROKER_ENFORCES_SENDER the sender is not vouched for");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void offlineDeviceReceivesWhatWasQueuedWhenItReturns(MqttVersion version) throws Exception {
        String dave = "dave";
        Transport first = transport(dave, version);
        first.start(new Received());
        first.destroy(); // the device goes offline; its persistent session stays with the broker

        Transport erin = transport("erin", version);
        erin.start(new Received());
        Endpoint toDave = Fixtures.endpoint(broker, dave);
        int count = 50;
        List<CompletableFuture<Void>> acks = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            CompletableFuture<Void> ack = new CompletableFuture<>();
            while (!erin.send(toDave, ByteBuffer.wrap(("queued-" + i).getBytes(StandardCharsets.UTF_8)), callback(ack))) {
                Thread.sleep(1);
            }
            acks.add(ack);
        }
        for (CompletableFuture<Void> ack : acks) {
            ack.get(20, TimeUnit.SECONDS);
        }
        Path payload = Files.createTempFile("payload", ".bin");
        Files.writeString(payload, "queued-by-mosquitto_pub");
        assertEquals(0, Fixtures.mosquittoPub(broker, "frank", Fixtures.USER_PASSWORD, "peerlink/in/dave/frank", payload,
                "-V", version == MqttVersion.MQTT_5 ? "mqttv5" : "mqttv311").exitCode());
        Files.delete(payload);

        // A new transport object, as after a process restart: same client ID, same session.
        Transport again = transport(dave, version);
        Received atDave = new Received();
        again.start(atDave);
        Set<String> got = new HashSet<>();
        while (got.size() < count + 1) {
            Received.Datagram d = atDave.poll(Mosquitto.timeout());
            assertNotNull(d, "only " + got.size() + " of " + (count + 1) + " queued datagrams arrived: " + got);
            got.add(new String(d.bytes(), StandardCharsets.UTF_8));
        }
        for (int i = 0; i < count; i++) {
            assertTrue(got.contains("queued-" + i), "missing queued-" + i);
        }
        assertTrue(got.contains("queued-by-mosquitto_pub"));
    }

    static SendCallback callback(CompletableFuture<Void> done) {
        return new SendCallback() {
            @Override
            public void completed() {
                done.complete(null);
            }

            @Override
            public void failed(Throwable cause) {
                done.completeExceptionally(cause);
            }
        };
    }
}
