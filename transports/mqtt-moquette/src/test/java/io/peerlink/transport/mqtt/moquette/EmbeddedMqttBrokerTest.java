package io.peerlink.transport.mqtt.moquette;

import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.mqtt.MqttConnectionRefusedException;
import io.peerlink.transport.mqtt.MqttOptions;
import io.peerlink.transport.mqtt.MqttTransportProvider;
import io.peerlink.transport.mqtt.MqttVersion;

import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The embedded Moquette broker admits exactly the devices that prove their identity and that the
 * PeerLink {@link Authenticator} admits, and enforces the inbox ACL; the MQTT transport (3.1.1)
 * works through it.
 */
class EmbeddedMqttBrokerTest {

    private final Set<DeviceId> allowed = ConcurrentHashMap.newKeySet();
    private final List<AuthRequest> seen = new CopyOnWriteArrayList<>();
    private final Authenticator allowList = new Authenticator() {
        @Override
        public String name() {
            return "test-allow-list";
        }

        @Override
        public AuthResult authenticate(AuthRequest request) {
            seen.add(request);
            return allowed.contains(request.deviceId()) ? new AuthResult.Admitted("lab") : new AuthResult.Denied("not on the list");
        }
    };
    private EmbeddedMqttBroker broker;
    private final List<Transport> transports = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        broker = EmbeddedMqttBroker.builder().port(0).authenticator(allowList).build();
        broker.start();
    }

    @AfterEach
    void stop() {
        transports.forEach(Transport::destroy);
        broker.stop();
    }

    private Endpoint endpoint(DeviceIdentity id) {
        return Endpoint.parse("mqtt://127.0.0.1:" + broker.port() + "/" + id.id().value());
    }

    private Transport transport(DeviceIdentity id) {
        Transport t = new MqttTransportProvider().create(TransportConfig.bind(endpoint(id))
                .set(MqttOptions.PROTOCOL_VERSION, MqttVersion.MQTT_3_1_1)
                .set(MqttOptions.USERNAME, id.id().value())
                .set(MqttOptions.PASSWORD_SOURCE, MqttIdentityLogin.passwordSource(id, broker.audience()))
                .build());
        transports.add(t);
        return t;
    }

    private static final class Queue implements DatagramHandler {
        final BlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        final BlockingQueue<Endpoint> from = new LinkedBlockingQueue<>();

        @Override
        public void onDatagram(Endpoint source, ByteBuffer datagram) {
            byte[] b = new byte[datagram.remaining()];
            datagram.get(b);
            // The source first: a test that saw the bytes reads the source without waiting.
            from.add(source);
            got.add(b);
        }
    }

    @Test
    void admittedDevicesExchangeDatagramsAndTheAuthenticatorSawProvenIdentities() throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        DeviceIdentity bob = DeviceIdentity.ephemeral();
        allowed.add(alice.id());
        allowed.add(bob.id());
        Transport a = transport(alice);
        Queue atA = new Queue();
        a.start(atA);
        Transport b = transport(bob);
        Queue atB = new Queue();
        b.start(atB);
        byte[] hello = "hello bob".getBytes(StandardCharsets.UTF_8);
        assertTrue(a.send(endpoint(bob), ByteBuffer.wrap(hello)));
        assertArrayEquals(hello, atB.got.poll(20, TimeUnit.SECONDS));
        Endpoint source = atB.from.poll();
        assertEquals(endpoint(alice), source);
        assertTrue(b.send(source, ByteBuffer.wrap(new byte[] {1})));
        assertNotNull(atA.got.poll(20, TimeUnit.SECONDS));
        assertEquals(2, broker.admittedLogins());
        assertEquals(Set.of(alice.id(), bob.id()), Set.copyOf(seen.stream().map(AuthRequest::deviceId).toList()));
        for (AuthRequest r : seen) {
            assertEquals(r.deviceId(), DeviceId.fromPublicKey(r.publicKey()), "the authenticator gets the proven key");
        }
        assertEquals("lab", broker.networkOf(alice.id()).orElseThrow());
    }

    @Test
    void aDeviceTheAuthenticatorDeniesIsRefused() {
        DeviceIdentity stranger = DeviceIdentity.ephemeral();
        Transport t = transport(stranger);
        MqttConnectionRefusedException e = assertThrows(MqttConnectionRefusedException.class, () -> t.start(new Queue()));
        assertTrue(e.permanent(), e.getMessage());
        assertEquals(1, seen.size(), "the proof was valid, so the authenticator decided");
        assertEquals(1, broker.refusedLogins());
    }

    @Test
    void invalidProofsAreRefusedBeforeTheAuthenticatorIsAsked() throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        DeviceIdentity mallory = DeviceIdentity.ephemeral();
        allowed.add(alice.id());
        String user = alice.id().value();
        Instant now = Instant.now();
        List<String> badPasswords = List.of(
                "",
                "not a token",
                "pl1.x.y.z",
                MqttIdentityLogin.password(mallory, broker.audience(), now), // someone else's key
                MqttIdentityLogin.password(alice, "mqtt://another-broker:1883", now), // signed for another broker
                MqttIdentityLogin.password(alice, broker.audience(), now.minus(Duration.ofMinutes(10))), // stale
                "pl1." + "A".repeat(600));
        for (String password : badPasswords) {
            MqttException e = assertThrows(MqttException.class, () -> rawConnect(user, user, password), password);
            boolean refused = refusal(e);
            assertTrue(refused, "CONNACK refusal for password '" + password + "', got " + e.getReasonCode());
        }
        assertTrue(seen.isEmpty(), "the authenticator only sees proven identities: " + seen);
        // A valid token works once; the same token again is a replay.
        String good = MqttIdentityLogin.password(alice, broker.audience(), now);
        MqttClient first = rawConnect(user, user, good);
        first.disconnect();
        first.close();
        MqttException replay = assertThrows(MqttException.class, () -> rawConnect(user, user, good));
        assertTrue(refusal(replay), "replay: " + replay.getReasonCode());
        // A valid token with a client ID that is not the device ID could take over another session.
        MqttException takeover = assertThrows(MqttException.class,
                () -> rawConnect(user, "someone-else", MqttIdentityLogin.password(alice, broker.audience(), Instant.now())));
        assertTrue(refusal(takeover), "client ID mismatch: " + takeover.getReasonCode());
        assertTrue(broker.refusedLogins() >= badPasswords.size() + 2, "every refusal is counted: " + broker.refusedLogins());
    }

    @Test
    void theInboxAclStopsSpoofingAndEavesdropping() throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        DeviceIdentity bob = DeviceIdentity.ephemeral();
        DeviceIdentity mallory = DeviceIdentity.ephemeral();
        allowed.addAll(List.of(alice.id(), bob.id(), mallory.id()));
        Transport b = transport(bob);
        Queue atB = new Queue();
        b.start(atB);
        String m = mallory.id().value();
        MqttClient raw = rawConnect(m, m, MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()));
        BlockingQueue<String> eavesdropped = new LinkedBlockingQueue<>();
        try {
            raw.subscribe("peerlink/in/" + bob.id().value() + "/+", 1, (topic, message) -> eavesdropped.add(topic));
        } catch (MqttException refused) {
            // refusing the subscription outright is fine too
        }
        // Moquette 0.17 neither acknowledges nor refuses a QoS 1 publish its ACL denies: it drops it.
        raw.setTimeToWait(2_000);
        assertThrows(MqttException.class, () -> raw.publish("peerlink/in/" + bob.id().value() + "/" + alice.id().value(),
                "spoofed".getBytes(StandardCharsets.UTF_8), 1, false), "no PUBACK for the spoofed publish");
        MqttClient honest = rawConnect(m, m, MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()));
        honest.setTimeToWait(20_000);
        honest.publish("peerlink/in/" + bob.id().value() + "/" + m, "honest".getBytes(StandardCharsets.UTF_8), 1, false);
        honest.disconnect();
        honest.close();
        byte[] got = atB.got.poll(20, TimeUnit.SECONDS);
        assertNotNull(got);
        assertEquals("honest", new String(got, StandardCharsets.UTF_8), "the spoofed sender level was refused by the broker");
        Transport a = transport(alice);
        a.start(new Queue());
        assertTrue(a.send(endpoint(bob), ByteBuffer.wrap("for bob".getBytes(StandardCharsets.UTF_8))));
        assertEquals("for bob", new String(atB.got.poll(20, TimeUnit.SECONDS), StandardCharsets.UTF_8));
        assertNull(eavesdropped.poll(500, TimeUnit.MILLISECONDS), "mallory read nothing from bob's inbox");
        assertNull(atB.got.poll(200, TimeUnit.MILLISECONDS));
        raw.disconnectForcibly(0, 1_000);
        raw.close(true);
    }

    /**
     * Moquette 0.17 sends CONNACK 4 and closes at once; Paho sometimes sees the close first
     * (32109, connection lost). Either way the login was refused.
     */
    private static boolean refusal(MqttException e) {
        return e.getReasonCode() == 4 || e.getReasonCode() == 5 || e.getReasonCode() == MqttException.REASON_CODE_CONNECTION_LOST;
    }

    private MqttClient rawConnect(String user, String clientId, String password) throws MqttException {
        MqttClient client = new MqttClient("tcp://127.0.0.1:" + broker.port(), clientId, new MemoryPersistence());
        MqttConnectOptions options = new MqttConnectOptions();
        options.setUserName(user);
        options.setPassword(password.toCharArray());
        options.setConnectionTimeout(10);
        try {
            client.connect(options);
        } catch (MqttException e) {
            client.close();
            throw e;
        }
        return client;
    }
}
