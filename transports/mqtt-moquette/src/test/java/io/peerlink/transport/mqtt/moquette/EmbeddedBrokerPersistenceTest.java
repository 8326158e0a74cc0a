package io.peerlink.transport.mqtt.moquette;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * With a data directory, persistent sessions (clean session off), their subscriptions and the QoS 1
 * messages queued for them while offline are there after the broker restarts on that directory, for
 * every session, not one: Moquette 0.17's default segmented queue store kept a single session's queue
 * (see {@link EmbeddedMqttBroker#start()}).
 */
class EmbeddedBrokerPersistenceTest {

    private static final Authenticator EVERYONE = new Authenticator() {
        @Override
        public String name() {
            return "everyone";
        }

        @Override
        public AuthResult authenticate(io.peerlink.spi.AuthRequest request) {
            return new AuthResult.Admitted("lab");
        }
    };

    @Test
    void everyOfflineSessionAndItsQueuedMessagesSurviveARestart(@TempDir Path data) throws Exception {
        DeviceIdentity alice = DeviceIdentity.ephemeral();
        List<DeviceIdentity> offline = List.of(DeviceIdentity.ephemeral(), DeviceIdentity.ephemeral(), DeviceIdentity.ephemeral());
        EmbeddedMqttBroker first = EmbeddedMqttBroker.builder().port(0).authenticator(EVERYONE).dataDirectory(data).audience("test").build();
        first.start();
        int port = first.port();
        try {
            for (DeviceIdentity d : offline) {
                MqttClient c = client(port, d, new Inbox());
                assertFalse(c.connectWithResult(options(d, false)).getSessionPresent(), "a new session");
                c.subscribe(inbox(d), 1);
                c.disconnect();
                c.close();
            }
            MqttClient a = client(port, alice, new Inbox());
            a.connect(options(alice, true));
            for (DeviceIdentity d : offline) {
                // MqttClient.publish returns on the broker's PUBACK.
                a.publish("peerlink/in/" + d.id().value() + "/" + alice.id().value(), payload(d), 1, false);
            }
            a.disconnect();
            a.close();
        } finally {
            first.stop();
        }
        EmbeddedMqttBroker second = EmbeddedMqttBroker.builder().port(port).authenticator(EVERYONE).dataDirectory(data).audience("test").build();
        second.start();
        try {
            for (DeviceIdentity d : offline) {
                Inbox got = new Inbox();
                MqttClient c = client(port, d, got);
                assertTrue(c.connectWithResult(options(d, false)).getSessionPresent(), "the session of " + d.id().shortForm() + " was resumed");
                MqttMessage m = got.messages.poll(20, TimeUnit.SECONDS);
                assertNotNull(m, "the message queued for " + d.id().shortForm() + " survived the restart");
                assertEquals(new String(payload(d), StandardCharsets.UTF_8), new String(m.getPayload(), StandardCharsets.UTF_8));
                c.disconnect();
                c.close();
            }
        } finally {
            second.stop();
        }
    }

    private static byte[] payload(DeviceIdentity to) {
        return ("queued for " + to.id().value()).getBytes(StandardCharsets.UTF_8);
    }

    private static String inbox(DeviceIdentity d) {
        return "peerlink/in/" + d.id().value() + "/+";
    }

    private static MqttClient client(int port, DeviceIdentity d, Inbox inbox) throws Exception {
        MqttClient c = new MqttClient("tcp://127.0.0.1:" + port, d.id().value(), new MemoryPersistence());
        c.setCallback(inbox);
        return c;
    }

    private static MqttConnectOptions options(DeviceIdentity d, boolean clean) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setCleanSession(clean);
        o.setUserName(d.id().value());
        o.setPassword(MqttIdentityLogin.password(d, "test", Instant.now()).toCharArray());
        o.setConnectionTimeout(10);
        return o;
    }

    private static final class Inbox implements MqttCallback {
        final BlockingQueue<MqttMessage> messages = new LinkedBlockingQueue<>();

        @Override
        public void connectionLost(Throwable cause) {
        }

        @Override
        public void messageArrived(String topic, MqttMessage message) {
            messages.add(message);
        }

        @Override
        public void deliveryComplete(IMqttDeliveryToken token) {
        }
    }
}
