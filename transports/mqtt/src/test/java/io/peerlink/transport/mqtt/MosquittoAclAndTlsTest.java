package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The broker ACL of docs/transports.md (each device reads only its own inbox and writes only as
 * itself) enforced by a real Mosquitto, and TLS with a CA and server certificate generated at
 * test time.
 */
class MosquittoAclAndTlsTest {

    /** The acl_file documented in docs/transports.md, plus one deliberately over-broad grant for eve. */
    static final String ACL = """
            # Every device may read its own inbox, peerlink/in/<its user name>/<sender> ...
            pattern read peerlink/in/%u/+
            # ... and write into any inbox, but only with its own user name as the sender level.
            pattern write peerlink/in/+/%u

            # An operator grants the user eve read access to the inbox of the device 'eve-device';
            # eve still cannot publish as 'eve-device', because the write pattern names the user.
            user eve
            topic read peerlink/in/eve-device/+
            """;

    private static Mosquitto aclBroker;
    private static Mosquitto tlsBroker;
    private static Mosquitto.Tls tls;
    private final List<Transport> transports = new ArrayList<>();

    @BeforeAll
    static void startBrokers() throws Exception {
        aclBroker = Mosquitto.create().acl(ACL);
        tlsBroker = Mosquitto.create();
        for (String user : List.of("alice", "bob", "mallory", "eve")) {
            aclBroker.user(user, Fixtures.USER_PASSWORD);
            tlsBroker.user(user, Fixtures.USER_PASSWORD);
        }
        aclBroker.start();
        tls = Mosquitto.generateTls(tlsBroker.dir());
        tlsBroker.tls(tls).start();
    }

    @AfterAll
    static void stopBrokers() throws Exception {
        if (aclBroker != null) {
            aclBroker.close();
        }
        if (tlsBroker != null) {
            tlsBroker.close();
        }
    }

    @AfterEach
    void destroyTransports() {
        transports.forEach(Transport::destroy);
    }

    private Transport started(TransportConfig.Builder config, Received handler) throws IOException {
        Transport t = Fixtures.create(config);
        transports.add(t);
        t.start(handler);
        return t;
    }

    /** Clean sessions here: the ACL ties inbox names to user names, so tests share inboxes and must not inherit queues. */
    private static TransportConfig.Builder vouched(String user, MqttVersion version) {
        return Fixtures.login(aclBroker, user, version).set(MqttOptions.BROKER_ENFORCES_SENDER, true)
                .set(MqttOptions.CLIENT_ID, user + "-" + version).set(MqttOptions.PERSISTENT_SESSION, false);
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void devicesTalkThroughTheAclAndTheSenderIsVouchedFor(MqttVersion version) throws Exception {
        Transport alice = started(vouched("alice", version), new Received());
        Received atBob = new Received();
        Transport bob = started(vouched("bob", version), atBob);
        assertTrue(bob.capabilities().peerAuthentication());
        assertTrue(alice.send(Fixtures.endpoint(aclBroker, "bob"), ByteBuffer.wrap(new byte[] {1, 2, 3})));
        Received.Datagram got = atBob.poll(Mosquitto.timeout());
        assertNotNull(got, "alice's datagram did not arrive through the ACL");
        assertEquals(Fixtures.endpoint(aclBroker, "alice"), got.source());
        assertEquals("alice", got.context().authenticatedPeer().orElseThrow());
    }

    /**
     * Mosquitto 2.0 grants the SUBACK of a subscription its ACL forbids and then delivers nothing
     * on it: the eavesdropper starts, and starves, while the inbox's owner gets its datagrams.
     */
    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void aDeviceCannotReadAnotherDevicesInbox(MqttVersion version) throws Exception {
        Received atMallory = new Received();
        started(Fixtures.config(aclBroker, "bob", version)
                .set(MqttOptions.USERNAME, "mallory").set(MqttOptions.PASSWORD, Fixtures.USER_PASSWORD)
                .set(MqttOptions.CLIENT_ID, "mallory-as-bob-" + version).set(MqttOptions.PERSISTENT_SESSION, false), atMallory);
        Received atBob = new Received();
        started(vouched("bob", version), atBob);
        Transport alice = started(vouched("alice", version), new Received());
        assertTrue(alice.send(Fixtures.endpoint(aclBroker, "bob"), ByteBuffer.wrap("for bob only".getBytes(StandardCharsets.UTF_8))));
        assertNotNull(atBob.poll(Mosquitto.timeout()), "bob gets his datagram");
        assertNull(atMallory.poll(Duration.ofMillis(500)), "mallory, subscribed to bob's inbox, gets nothing");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void aSpoofedSenderLevelNeverReachesTheInbox(MqttVersion version) throws Exception {
        Received atBob = new Received();
        started(vouched("bob", version), atBob);
        Transport alice = started(vouched("alice", version), new Received());
        Path payload = Files.createTempFile("spoof", ".bin");
        Files.writeString(payload, "spoofed by mallory");
        // An independent client, logged in as mallory, claims to be alice.
        Fixtures.mosquittoPub(aclBroker, "mallory", Fixtures.USER_PASSWORD, "peerlink/in/bob/alice", payload,
                "-V", version == MqttVersion.MQTT_5 ? "mqttv5" : "mqttv311");
        Files.delete(payload);
        assertTrue(alice.send(Fixtures.endpoint(aclBroker, "bob"), ByteBuffer.wrap("really alice".getBytes(StandardCharsets.UTF_8))));
        Received.Datagram got = atBob.poll(Mosquitto.timeout());
        assertNotNull(got);
        assertEquals("really alice", new String(got.bytes(), StandardCharsets.UTF_8), "the spoofed datagram must have been dropped by the broker");
        assertNull(atBob.poll(Duration.ofMillis(500)), "nothing else arrives");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void aPublishTheAclRefusesFailsItsSendWithMqtt5(MqttVersion version) throws Exception {
        Received atBob = new Received();
        started(vouched("bob", version), atBob);
        Transport eve = started(Fixtures.config(aclBroker, "eve-device", version)
                .set(MqttOptions.USERNAME, "eve").set(MqttOptions.PASSWORD, Fixtures.USER_PASSWORD)
                .set(MqttOptions.CLIENT_ID, "eve-" + version).set(MqttOptions.PERSISTENT_SESSION, false), new Received());
        CompletableFuture<Void> outcome = new CompletableFuture<>();
        assertTrue(eve.send(Fixtures.endpoint(aclBroker, "bob"), ByteBuffer.wrap(new byte[] {9}), MosquittoInteropTest.callback(outcome)));
        if (version == MqttVersion.MQTT_5) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> outcome.get(20, TimeUnit.SECONDS));
            MqttPublishRefusedException refused = assertInstanceOf(MqttPublishRefusedException.class, e.getCause());
            assertEquals(0x87, refused.reasonCode(), refused.getMessage());
            assertTrue(refused.getMessage().contains("refused the datagram published on 'peerlink/in/bob/eve-device'"), refused.getMessage());
        } else {
            outcome.get(20, TimeUnit.SECONDS); // MQTT 3.1.1 has no way to say no: PUBACK, then dropped
        }
        assertNull(atBob.poll(Duration.ofMillis(500)), "the refused datagram never reaches bob");
    }

    private static TransportConfig.Builder overTls(String user, MqttVersion version, MqttTls settings) {
        return TransportConfig.bind(Endpoint.parse("mqtts://127.0.0.1:" + tlsBroker.port() + "/" + user))
                .set(MqttOptions.PROTOCOL_VERSION, version)
                .set(MqttOptions.USERNAME, user).set(MqttOptions.PASSWORD, Fixtures.USER_PASSWORD)
                .set(MqttOptions.CLIENT_ID, user + "-tls-" + version)
                .set(MqttOptions.TLS, settings);
    }

    private Transport startedTls(TransportConfig.Builder config, Received handler) throws IOException {
        Transport t = new MqttsTransportProvider().create(config.build());
        transports.add(t);
        t.start(handler);
        return t;
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void tlsWithTheBrokersCaDeliversBothWays(MqttVersion version) throws Exception {
        MqttTls trustTestCa = MqttTls.using(Fixtures.trusting(tls.caCert()));
        Received atAlice = new Received();
        Received atBob = new Received();
        Transport alice = startedTls(overTls("alice", version, trustTestCa), atAlice);
        Transport bob = startedTls(overTls("bob", version, trustTestCa), atBob);
        assertEquals("mqtts", alice.localEndpoint().scheme());
        assertTrue(alice.send(bob.localEndpoint(), ByteBuffer.wrap("over tls".getBytes(StandardCharsets.UTF_8))));
        Received.Datagram got = atBob.poll(Mosquitto.timeout());
        assertNotNull(got);
        assertEquals("over tls", new String(got.bytes(), StandardCharsets.UTF_8));
        assertTrue(bob.send(got.source(), ByteBuffer.wrap("back".getBytes(StandardCharsets.UTF_8))));
        assertNotNull(atAlice.poll(Mosquitto.timeout()));
        assertTrue(!alice.supports(Fixtures.endpoint(tlsBroker, "bob")), "an mqtts transport does not claim plain mqtt endpoints");
    }

    @ParameterizedTest
    @EnumSource(MqttVersion.class)
    void tlsRefusesABrokerCertificateFromAnUntrustedCa(MqttVersion version) {
        Transport untrusting = new MqttsTransportProvider().create(overTls("alice", version, MqttTls.SYSTEM_DEFAULT).build());
        transports.add(untrusting);
        IOException e = assertThrows(IOException.class, () -> untrusting.start(new Received()));
        assertTrue(!(e instanceof MqttReasonException), "not a broker refusal: the handshake failed first");
        assertTrue(e.getMessage().contains("cannot connect to MQTT broker 127.0.0.1:" + tlsBroker.port()), e.getMessage());
        assertTrue(hasCause(e, javax.net.ssl.SSLException.class), "the cause is the TLS handshake failure: " + e);
    }

    private static boolean hasCause(Throwable t, Class<? extends Throwable> type) {
        for (Throwable c = t; c != null; c = c.getCause()) {
            if (type.isInstance(c)) {
                return true;
            }
        }
        return false;
    }
}
