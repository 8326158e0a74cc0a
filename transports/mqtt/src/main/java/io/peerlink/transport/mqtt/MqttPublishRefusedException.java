package io.peerlink.transport.mqtt;

/**
 * The broker acknowledged a datagram with an MQTT 5 PUBACK error code (not authorised by its
 * ACL, packet too large, quota exceeded). Passed to {@code SendCallback.failed}. MQTT 3.1.1 has
 * no such codes: a 3.1.1 broker that drops a publish still acknowledges it.
 */
public final class MqttPublishRefusedException extends MqttReasonException {

    private static final long serialVersionUID = 1L;

    MqttPublishRefusedException(String broker, String topic, int reasonCode) {
        super("broker " + broker + " refused the datagram published on '" + topic + "'", reasonCode, MqttVersion.MQTT_5);
    }
}
