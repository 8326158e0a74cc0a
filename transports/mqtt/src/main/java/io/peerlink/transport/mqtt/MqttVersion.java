package io.peerlink.transport.mqtt;

/** The MQTT protocol version a transport speaks to its broker; chosen with {@link MqttOptions#PROTOCOL_VERSION}. */
public enum MqttVersion {
    /**
     * MQTT 3.1.1 (Eclipse Paho {@code mqttv3}). Brokers report refusals only as the six CONNACK
     * return codes, never refuse a publish (a PUBACK carries no reason), and keep a persistent
     * session until their own expiry setting removes it.
     */
    MQTT_3_1_1,
    /**
     * MQTT 5 (Eclipse Paho {@code mqttv5}). Reason codes on CONNACK, PUBACK and DISCONNECT;
     * session expiry is negotiated ({@link MqttOptions#SESSION_EXPIRY}); the broker's maximum
     * packet size and receive maximum are honoured.
     */
    MQTT_5
}
