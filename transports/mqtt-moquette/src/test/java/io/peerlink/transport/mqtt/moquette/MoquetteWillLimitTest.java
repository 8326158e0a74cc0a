package io.peerlink.transport.mqtt.moquette;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import org.eclipse.paho.client.mqttv3.IMqttDeliveryToken;
import org.eclipse.paho.client.mqttv3.MqttCallback;
import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.MqttMessage;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Pins the known limit documented in docs/security.md ("Rendezvous over an MQTT broker") and
 * docs/transports.md ("ACL"): Moquette 0.17 publishes a client's MQTT will without asking the ACL,
 * so a device with a valid login can leave a will on another device's rendezvous down-topic, which
 * it may neither publish on nor read. When a Moquette upgrade (or a PeerLink check) closes this,
 * this test fails: update those docs and turn it into the opposite assertion.
 */
class MoquetteWillLimitTest {
    private static MqttConnectOptions login(DeviceIdentity id, EmbeddedMqttBroker broker) {
        MqttConnectOptions o = new MqttConnectOptions();
        o.setMqttVersion(MqttConnectOptions.MQTT_VERSION_3_1_1);
        o.setUserName(id.id().value());
        o.setPassword(MqttIdentityLogin.password(id, broker.audience(), Instant.now()).toCharArray());
        return o;
    }

    @Test
    void aWillIsPublishedOnATopicTheAclDeniesItsOwner() throws Exception {
        Authenticator everyone = new Authenticator() {
            @Override
            public String name() {
                return "everyone";
            }

            @Override
            public AuthResult authenticate(AuthRequest request) {
                return new AuthResult.Admitted("lab");
            }
        };
        try (EmbeddedMqttBroker broker = EmbeddedMqttBroker.builder().port(0).authenticator(everyone).build()) {
            broker.start();
            DeviceIdentity alice = DeviceIdentity.ephemeral();
            DeviceIdentity mallory = DeviceIdentity.ephemeral();
            String down = "peerlink/rv/" + alice.id().value() + "/down";
            BlockingQueue<String> got = new LinkedBlockingQueue<>();
            MqttClient a = new MqttClient("tcp://127.0.0.1:" + broker.port(), alice.id().value() + "-rv", new MemoryPersistence());
            a.setCallback(new MqttCallback() {
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
            a.connect(login(alice, broker));
            a.subscribe(down, 1);
            MqttClient m = new MqttClient("tcp://127.0.0.1:" + broker.port(), mallory.id().value(), new MemoryPersistence());
            MqttConnectOptions mo = login(mallory, broker);
            mo.setWill(down, "close 4000 will".getBytes(StandardCharsets.UTF_8), 1, false);
            m.connect(mo);
            m.disconnectForcibly(100, 100, false); // no DISCONNECT: the broker fires the will
            assertEquals(down + " close 4000 will", got.poll(10, TimeUnit.SECONDS), "Moquette delivered the will (the known limit)");
            a.disconnect();
            a.close();
            m.close();
        }
    }
}
