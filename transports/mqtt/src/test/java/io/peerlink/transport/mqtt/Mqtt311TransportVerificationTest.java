package io.peerlink.transport.mqtt;

/** The MQTT 3.1.1 transport passes the conformance suite through a real Mosquitto 2 broker. */
class Mqtt311TransportVerificationTest extends MqttTransportVerificationTest {

    @Override
    MqttVersion version() {
        return MqttVersion.MQTT_3_1_1;
    }
}
