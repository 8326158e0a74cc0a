package io.peerlink.transport.mqtt.moquette;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.mqtt.MqttOptions;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttException;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import io.peerlink.testkit.MqttWillProbe;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * MQTT wills on the embedded broker follow the write ACL (docs/security.md, "Rendezvous over an MQTT
 * broker"). Moquette 0.17 alone publishes a will without asking the authorizer; the broker's listener
 * refuses a CONNECT whose will topic the login may not publish on (CONNACK 5, "not authorized"), so no
 * session and no will exist. Each attack below is a device with a valid login that leaves a will on
 * another device's topic and then drops its connection without DISCONNECT; the victim's subscription
 * must receive nothing. A will on a topic the device may publish on is still delivered.
 */
class EmbeddedBrokerWillTest {

    private final Authenticator everyone = new Authenticator() {
        @Override
        public String name() {
            return "everyone";
        }

        @Override
        public AuthResult authenticate(AuthRequest request) {
            return new AuthResult.Admitted("lab");
        }
    };
    private EmbeddedMqttBroker broker;
    private final DeviceIdentity alice = DeviceIdentity.ephemeral();
    private final DeviceIdentity mallory = DeviceIdentity.ephemeral();
    private final List<MqttClient> clients = new ArrayList<>();

    @BeforeEach
    void start() throws IOException {
        broker = EmbeddedMqttBroker.builder().port(0).authenticator(everyone).build();
        broker.start();
    }

    @AfterEach
    void stop() throws MqttException {
        for (MqttClient c : clients) {
            if (c.isConnected()) {
                c.disconnectForcibly(100, 100, false);
            }
            c.close(true);
        }
        broker.stop();
    }

    private MqttConnectOptions login(DeviceIdentity id) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setUserName(id.id().value());
        o.setPassword(MqttIdentityLogin.password(id, broker.audience(), Instant.now()).toCharArray());
        return o;
    }

    private MqttClient client(String clientId) throws MqttException {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + broker.port(), clientId, new MemoryPersistence());
        clients.add(c);
        return c;
    }

    /** Connects {@code clientId} under {@code o} and subscribes it to {@code filter}; what arrives goes to the queue. */
    private BlockingQueue<String> subscriber(String clientId, MqttConnectOptions o, String filter) throws MqttException {
        BlockingQueue<String> got = new LinkedBlockingQueue<>();
        MqttClient c = client(clientId);
        c.setCallback(new MqttCallback() {
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
        });
        c.connect(o);
        int[] granted = c.subscribeWithResponse(filter, 1).getGrantedQos();
        assertEquals(1, granted[0], "the subscription to " + filter + " was granted");
        return got;
    }

    /** Alice's rendezvous carrier, subscribed to her down-topic. */
    private BlockingQueue<String> aliceDown() throws MqttException {
        return subscriber(alice.id().value() + "-rv", login(alice), "peerlink/rv/" + alice.id().value() + "/down");
    }

    /** The rendezvous server's login, subscribed to every up-topic. */
    private BlockingQueue<String> serverUp() throws MqttException {
        TransportConfig link = broker.rendezvousLinkConfig();
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setUserName(EmbeddedMqttBroker.RENDEZVOUS_LOGIN);
        o.setPassword(link.get(MqttOptions.PASSWORD).toCharArray());
        return subscriber(EmbeddedMqttBroker.RENDEZVOUS_LOGIN, o, "peerlink/rv/+/up");
    }

    /** Mallory's valid login with a will on {@code topic} (a raw client): refused with CONNACK 5; nothing reaches {@code victim}. */
    private void willAttack(String topic, BlockingQueue<String> victim) throws Exception {
        long refusedBefore = broker.refusedLogins();
        assertEquals(MqttWillProbe.NOT_AUTHORIZED, mallory().connectWithWillAndDrop(topic, "close 4000 will"),
                "a will on " + topic + " is refused with CONNACK 5 (not authorized)");
        assertEquals(refusedBefore + 1, broker.refusedLogins(), "the refusal is counted");
        assertNull(victim.poll(3, TimeUnit.SECONDS), "no will reached the victim's topic " + topic);
    }

    private MqttWillProbe mallory() {
        return new MqttWillProbe(new InetSocketAddress("127.0.0.1", broker.port()), mallory.id().value(), mallory.id().value(),
                MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()));
    }

    @Test
    void aWillOnAnotherDevicesDownTopicIsRefusedAndNeverPublished() throws Exception {
        willAttack("peerlink/rv/" + alice.id().value() + "/down", aliceDown());
    }

    @Test
    void aWillOnAnotherDevicesUpTopicNeverReachesTheServer() throws Exception {
        willAttack("peerlink/rv/" + alice.id().value() + "/up", serverUp());
    }

    @Test
    void aWillInAnotherDevicesInboxUnderItsNameIsRefused() throws Exception {
        String inbox = "peerlink/in/" + alice.id().value();
        BlockingQueue<String> got = subscriber(alice.id().value(), login(alice), inbox + "/+");
        // Mallory may write into Alice's inbox only with its own ID as the sender level.
        willAttack(inbox + "/" + alice.id().value(), got);
        willAttack(inbox + "/" + DeviceIdentity.ephemeral().id().value(), got);
    }

    /**
     * The server's status topic: devices may read it; a device's will or publish of {@code offline} there
     * (which would make every device drop its session) never reaches them, the server's will does.
     */
    @Test
    void onlyTheServerSpeaksOnTheStatusTopic() throws Exception {
        String status = io.peerlink.transport.mqtt.MqttRendezvousTopics.SERVER_STATUS;
        BlockingQueue<String> got = subscriber(alice.id().value() + "-rv", login(alice), status);
        willAttack(status, got);
        MqttClient m = client(mallory.id().value());
        m.connect(login(mallory));
        m.publish(status, "offline".getBytes(StandardCharsets.UTF_8), 0, false);
        assertNull(got.poll(3, TimeUnit.SECONDS), "a device's publish on " + status + " was dropped");
        m.disconnect();
        // The server's login with its will there: delivered when its connection drops.
        TransportConfig link = broker.rendezvousLinkConfig();
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setUserName(EmbeddedMqttBroker.RENDEZVOUS_LOGIN);
        o.setPassword(link.get(MqttOptions.PASSWORD).toCharArray());
        o.setWill(status, "offline".getBytes(StandardCharsets.UTF_8), 1, false);
        MqttClient server = client(EmbeddedMqttBroker.RENDEZVOUS_LOGIN);
        server.connect(o);
        server.disconnectForcibly(100, 100, false);
        assertEquals(status + " offline", got.poll(10, TimeUnit.SECONDS), "the server's will reached the device");
    }

    /**
     * A raw client that sends the CONNECT and resets the TCP connection at once, without waiting for the
     * CONNACK: the drop cannot race a will into the victim's topic.
     */
    @Test
    void aConnectionResetRightAfterTheConnectPublishesNoWill() throws Exception {
        BlockingQueue<String> got = aliceDown();
        String down = "peerlink/rv/" + alice.id().value() + "/down";
        for (int i = 0; i < 20; i++) {
            mallory().connectWithWillAndReset(down, "close 4000 raw");
        }
        assertNull(got.poll(3, TimeUnit.SECONDS), "no will reached " + down);
        // The same CONNECT with a will on a topic Mallory may use is accepted (CONNACK 0): the refusals were the will's.
        assertEquals(MqttWillProbe.ACCEPTED, mallory().connectWithWillAndDrop("peerlink/rv/" + mallory.id().value() + "/up", "x"));
    }

    @Test
    void aWillOnATopicTheDeviceMayWriteIsStillPublished() throws Exception {
        String inbox = "peerlink/in/" + alice.id().value();
        BlockingQueue<String> got = subscriber(alice.id().value(), login(alice), inbox + "/+");
        String own = inbox + "/" + mallory.id().value();
        MqttClient m = client(mallory.id().value());
        MqttConnectOptions mo = login(mallory);
        mo.setWill(own, "gone".getBytes(StandardCharsets.UTF_8), 1, false);
        m.connect(mo);
        m.disconnectForcibly(100, 100, false); // no DISCONNECT: the broker publishes the will
        assertEquals(own + " gone", got.poll(10, TimeUnit.SECONDS), "the permitted will was delivered");
        // and on the device's own rendezvous up-topic, to the server
        BlockingQueue<String> up = serverUp();
        MqttClient mrv = client(mallory.id().value() + "-rv");
        MqttConnectOptions mro = login(mallory);
        String mUp = "peerlink/rv/" + mallory.id().value() + "/up";
        mro.setWill(mUp, "close".getBytes(StandardCharsets.UTF_8), 1, false);
        mrv.connect(mro);
        mrv.disconnectForcibly(100, 100, false);
        assertEquals(mUp + " close", up.poll(10, TimeUnit.SECONDS), "the device's will on its own up-topic reached the server");
    }

    /** mosquitto_pub (an independent client) with a will on Alice's down-topic: refused, nothing delivered. */
    @Test
    void mosquittoPubWithAWillOnAnotherDevicesTopicIsRefused() throws Exception {
        Path pub = Path.of("/usr/bin/mosquitto_pub");
        assertTrue(Files.isExecutable(pub), "mosquitto_pub is installed (Debian package mosquitto-clients)");
        BlockingQueue<String> got = aliceDown();
        String down = "peerlink/rv/" + alice.id().value() + "/down";
        Process p = new ProcessBuilder(pub.toString(), "-h", "127.0.0.1", "-p", Integer.toString(broker.port()), "-V", "mqttv311",
                "-i", mallory.id().value(), "-u", mallory.id().value(),
                "-P", MqttIdentityLogin.password(mallory, broker.audience(), Instant.now()),
                "--will-topic", down, "--will-payload", "close 4000 will", "--will-qos", "1",
                "-t", "peerlink/rv/" + mallory.id().value() + "/up", "-m", "hello", "-q", "1")
                .redirectErrorStream(true).start();
        String out;
        try (InputStream in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        assertTrue(p.waitFor(20, TimeUnit.SECONDS), "mosquitto_pub ended");
        assertTrue(p.exitValue() != 0, "mosquitto_pub failed: " + out);
        assertTrue(out.toLowerCase(java.util.Locale.ROOT).contains("not authori"), "it reports 'not authorised': " + out);
        assertNull(got.poll(3, TimeUnit.SECONDS), "no will reached " + down);
    }
}
