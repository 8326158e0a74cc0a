package io.peerlink.transport.mqtt;

/**
 * The broker closed the connection with an MQTT 5 DISCONNECT reason code. Reported through
 * {@code DatagramHandler.onTransportFailure} when reconnecting would not help, above all
 * {@code 0x8E Session taken over}: another client connected with the same client identifier, and
 * fighting over the session would be a reconnect storm.
 */
public final class MqttServerDisconnectException extends MqttReasonException {

    private static final long serialVersionUID = 1L;

    MqttServerDisconnectException(String broker, String clientId, int reasonCode) {
        super("broker " + broker + " disconnected client '" + clientId + "'", reasonCode, MqttVersion.MQTT_5);
    }
}
