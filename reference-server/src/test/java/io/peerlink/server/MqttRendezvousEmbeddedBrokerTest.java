package io.peerlink.server;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.mqtt.MqttBrokerService;
import io.peerlink.testkit.MqttWillProbe;
import io.peerlink.transport.mqtt.moquette.EmbeddedMqttBroker;
import io.peerlink.transport.mqtt.moquette.MqttIdentityLogin;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendezvous over the reference server's embedded Moquette broker (docs/protocol-rendezvous.md,
 * "The MQTT carrier"): with only {@code mqtt.port} set, a device whose rendezvous and only transport
 * is {@code mqtt://127.0.0.1:<port>} registers, links to a WebSocket device by ID, and 256 KiB
 * arrive byte-exact; another device's valid login (Paho) can neither write into the first device's
 * up-topic nor subscribe to its down-topic; wrong passwords are refused.
 */
class MqttRendezvousEmbeddedBrokerTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private static Map<String, Object> login(DeviceIdentity id, EmbeddedMqttBroker broker) {
        return Map.of("mqtt.protocolVersion", "MQTT_3_1_1", "mqtt.username", id.id().value(),
                "mqtt.passwordSource", MqttIdentityLogin.passwordSource(id, broker.audience()), "mqtt.brokerEnforcesSender", "true");
    }

    @Test
    void aDeviceOnTheEmbeddedBrokerRegistersAndLinksAndOthersCannotUseItsTopics() throws Exception {
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(dir.resolve("alice.key"));
        DeviceIdentity bob = DeviceIdentity.loadOrCreate(dir.resolve("bob.key"));
        DeviceIdentity mallory = DeviceIdentity.loadOrCreate(dir.resolve("mallory.key"));
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).mqtt(new ServerConfig.Mqtt(0, null, null)).build());
        toClose.add(server);
        assertTrue(server.services().contains("mqtt-rendezvous"), "on by default with mqtt.port: " + server.services());
        EmbeddedMqttBroker broker = server.bean(MqttBrokerService.class).broker();
        String host = "127.0.0.1:" + broker.port();

        // Bob: the WebSocket rendezvous, UDP, and an inbox on the embedded broker.
        Device b = PeerLinks.device().identity(dir.resolve("bob.key")).rendezvous(server.controlUri()).stunServer(server.stunAddress())
                .udp(LOOPBACK).transport(Endpoint.parse("mqtt://" + host + "/" + bob.id().value()), login(bob, broker))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(b);
        b.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        b.onIncoming(request -> request.accept().whenComplete((link, e) -> {
            if (e != null) {
                accepted.completeExceptionally(e);
                return;
            }
            link.channel().onMessage((message, delivery) -> {
                byte[] bytes = new byte[message.remaining()];
                message.get(bytes);
                received.complete(bytes);
            });
            accepted.complete(link);
        }));

        // Alice: the embedded broker is all she has, for the rendezvous and for links.
        Device a = PeerLinks.device().identity(dir.resolve("alice.key")).rendezvous(URI.create("mqtt://" + host))
                .transport(Endpoint.parse("mqtt://" + host + "/" + alice.id().value()), login(alice, broker))
                .connectTimeout(Duration.ofSeconds(10)).build();
        toClose.add(a);
        a.rendezvous().registered().toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state());
        assertTrue(b.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "bob sees alice online");

        PeerLink link = a.connect(bob.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
        assertEquals(bob.id(), link.peer());
        assertEquals(PathKind.BROKERED, link.path().kind(), "alice's link runs over the broker: " + link.path());
        assertEquals(alice.id(), accepted.get(10, TimeUnit.SECONDS).peer());
        byte[] payload = new byte[256 * 1024];
        new Random(11).nextBytes(payload);
        link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        assertArrayEquals(payload, received.get(60, TimeUnit.SECONDS), "256 KiB byte-exact over the embedded broker");

        // Mallory logs in with her own valid token (Paho, MQTT 3.1.1).
        Watcher seen = new Watcher();
        MqttClient m = paho(broker, mallory.id().value(), mallory.id().value(),
                MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()), seen);
        String aliceUp = "peerlink/rv/" + alice.id().value() + "/up";
        String aliceDown = "peerlink/rv/" + alice.id().value() + "/down";
        String malloryUp = "peerlink/rv/" + mallory.id().value() + "/up";
        String malloryDown = "peerlink/rv/" + mallory.id().value() + "/down";
        // Reading alice's down-topic, or all of them, is refused in the SUBACK; her own is granted (positive control).
        assertEquals(128, m.subscribeWithResponse(aliceDown, 1).getGrantedQos()[0], "subscription to alice's down-topic");
        assertEquals(128, m.subscribeWithResponse("peerlink/rv/+/down", 1).getGrantedQos()[0], "subscription to every down-topic");
        assertEquals(128, m.subscribeWithResponse("peerlink/rv/#", 1).getGrantedQos()[0], "subscription to every rendezvous topic");
        assertEquals(128, m.subscribeWithResponse(aliceUp, 1).getGrantedQos()[0], "subscription to alice's up-topic");
        assertEquals(1, m.subscribeWithResponse(malloryDown, 1).getGrantedQos()[0], "subscription to her own down-topic");
        // Writing into alice's up-topic: dropped by the broker (an "open" there would end alice's session).
        m.publish(aliceUp, "open mallory-was-here".getBytes(StandardCharsets.UTF_8), 0, false);
        // Writing into alice's down-topic: dropped too.
        m.publish(aliceDown, "close 4000 mallory".getBytes(StandardCharsets.UTF_8), 0, false);
        // The same publish on her own up-topic reaches the server, which echoes it and sends a challenge, in order after the above.
        m.publish(malloryUp, "open mallory-own".getBytes(StandardCharsets.UTF_8), 1, false);
        assertEquals(malloryDown + " open mallory-own", seen.got.poll(15, TimeUnit.SECONDS));
        String challenge = seen.got.poll(15, TimeUnit.SECONDS);
        assertTrue(challenge != null && challenge.startsWith(malloryDown + " {\"type\":\"challenge\""), String.valueOf(challenge));
        // Traffic on alice's down-topic while mallory listens: nothing of it reaches her.
        assertTrue(a.rendezvous().isOnline(bob.id()).toCompletableFuture().get(10, TimeUnit.SECONDS));
        Thread.sleep(500);
        assertNull(seen.got.poll(), "mallory received something not hers");
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state(), "alice's session survived mallory's publishes");
        assertTrue(b.rendezvous().isOnline(alice.id()).toCompletableFuture().get(10, TimeUnit.SECONDS), "alice still online");
        m.disconnect();
        m.close();

        long refusedBefore = broker.refusedLogins();
        // Mallory's token with alice's carrier client ID: refused (no session takeover).
        assertRefused(broker, alice.id().value() + "-rv", mallory.id().value(), MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()));
        // A wrong password for a device, and for the rendezvous server's login.
        assertRefused(broker, mallory.id().value(), mallory.id().value(), "not-a-token");
        assertRefused(broker, EmbeddedMqttBroker.RENDEZVOUS_LOGIN, EmbeddedMqttBroker.RENDEZVOUS_LOGIN, "guessed-password");
        // Alice's genuine token under mallory's name.
        assertRefused(broker, mallory.id().value(), mallory.id().value(), MqttIdentityLogin.password(alice, broker.audience(), Instant.now()));
        // Mallory's valid token with an MQTT will on alice's up-topic ("open" there would end alice's session when
        // mallory's connection dies): refused with CONNACK 5 before the broker stores the will.
        MqttWillProbe w = new MqttWillProbe(new InetSocketAddress("127.0.0.1", broker.port()), mallory.id().value(),
                mallory.id().value(), MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()));
        assertEquals(MqttWillProbe.NOT_AUTHORIZED, w.connectWithWillAndDrop(aliceUp, "open mallory-will"), "a will on alice's up-topic");
        assertEquals(refusedBefore + 5, broker.refusedLogins());
        Thread.sleep(2_000); // a published will would have ended alice's session by now
        assertEquals(Rendezvous.State.REGISTERED, a.rendezvous().state());
        link.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    private static MqttClient paho(EmbeddedMqttBroker broker, String clientId, String user, String password, MqttCallback callback)
            throws MqttException {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + broker.port(), clientId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        options.setCleanSession(true);
        options.setUserName(user);
        options.setPassword(password.toCharArray());
        options.setConnectionTimeout(10);
        options.setAutomaticReconnect(false);
        if (callback != null) {
            client.setCallback(callback);
        }
        client.connect(options);
        return client;
    }

    private static void assertRefused(EmbeddedMqttBroker broker, String clientId, String user, String password) throws Exception {
        long before = broker.refusedLogins();
        assertThrows(MqttException.class, () -> {
            MqttClient c = paho(broker, clientId, user, password, null);
            c.disconnectForcibly(1000);
            c.close();
        }, "login of client " + clientId + " as " + user);
        assertEquals(before + 1, broker.refusedLogins(), "the broker counted the refusal of " + clientId);
    }

    /** Every message a Paho client receives, as {@code "<topic> <payload>"}. */
    private static final class Watcher implements MqttCallback {
        final BlockingQueue<String> got = new LinkedBlockingQueue<>();

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            got.add(topic + " " + new String(message.getPayload(), StandardCharsets.UTF_8));
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }
}
