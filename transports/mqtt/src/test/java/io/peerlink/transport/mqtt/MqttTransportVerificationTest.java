package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.WireInjector;

import org.eclipse.paho.client.mqttv3.MqttClient;
import org.eclipse.paho.client.mqttv3.MqttConnectOptions;
import org.eclipse.paho.client.mqttv3.persist.MemoryPersistence;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.io.OutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MQTT 5 transport passes the conformance suite through a real Mosquitto 2 broker on
 * loopback, logged in with a password.
 */
class MqttTransportVerificationTest extends TransportVerification {

    private static Mosquitto broker;
    private static final AtomicInteger IDS = new AtomicInteger();

    @BeforeAll
    static void startBroker() throws Exception {
        broker = Mosquitto.create().user("tck", Fixtures.USER_PASSWORD).start();
    }

    private static MqttClient injector;

    /** One independent publisher for all injections of a test class. */
    private static synchronized MqttClient injector() throws Exception {
        if (injector == null) {
            injector = new MqttClient("tcp://127.0.0.1:" + broker.port(), "injector-" + IDS.incrementAndGet(), new MemoryPersistence());
            MqttConnectOptions options = new MqttConnectOptions();
            options.setUserName("tck");
            options.setMaxInflight(1_000); // a sync publish can return before Paho released its in-flight slot
            options.setPassword(Fixtures.USER_PASSWORD.toCharArray());
            injector.connect(options);
        }
        return injector;
    }

    @AfterAll
    static void stopBroker() throws Exception {
        if (injector != null) {
            injector.disconnect();
            injector.close();
            injector = null;
        }
        if (broker != null) {
            broker.close();
        }
    }

    MqttVersion version() {
        return MqttVersion.MQTT_5;
    }

    @Override
    protected Transport createTransport() {
        String id = "tck-" + version().ordinal() + "-" + IDS.incrementAndGet();
        return Fixtures.create(Fixtures.config(broker, id, version())
                .set(MqttOptions.USERNAME, "tck").set(MqttOptions.PASSWORD, Fixtures.USER_PASSWORD));
    }

    /** The same scheme but another broker: beyond this transport's one connection. */
    @Override
    protected Endpoint unsupportedEndpoint() {
        return Endpoint.parse("mqtt://127.0.0.1:" + (broker.port() == 65535 ? 1 : broker.port() + 1) + "/someone");
    }

    @Override
    protected Duration timeout() {
        return Duration.ofSeconds(20);
    }

    /**
     * Below the transport's framing there are two wires: the broker's TCP port (raw bytes there
     * are malformed MQTT, which the broker rejects by closing that connection) and the payloads
     * and topics of PUBLISH packets into the target's inbox, from an independent client: each raw
     * input goes in as the payload from a valid sender and as a message with an invalid sender level.
     */
    @Override
    protected WireInjector wireInjector() {
        return (target, raw) -> {
            try (Socket s = new Socket("127.0.0.1", broker.port()); OutputStream out = s.getOutputStream()) {
                out.write(raw);
                out.flush();
            } catch (java.io.IOException brokerClosedIt) {
                // the broker may close the connection before we finish writing garbage
            }
            MqttClient injector = injector();
            String inbox = "peerlink/in" + target.path();
            injector.publish(inbox + "/wire-injector", raw, 1, false);
            injector.publish(inbox + "/not.a valid sender!", raw, 1, false);
            injector.publish(inbox + "/", raw, 1, false);
        };
    }
}
