package io.peerlink.transport.mqtt;

import java.io.IOException;

/**
 * The broker said no, with a reason code: a refused CONNECT, a refused PUBLISH, or a DISCONNECT
 * the broker sent. The message names the broker, the code and its meaning, e.g.
 * {@code broker 127.0.0.1:1883 refused the connection of client 'alice': 0x86 Bad user name or password (MQTT 5)}.
 */
public abstract sealed class MqttReasonException extends IOException
        permits MqttConnectionRefusedException, MqttPublishRefusedException, MqttServerDisconnectException {

    private static final long serialVersionUID = 1L;

    private final int reasonCode;
    private final MqttVersion version;

    MqttReasonException(String message, int reasonCode, MqttVersion version) {
        super(message + ": " + ReasonCodes.describe(version, reasonCode) + " (" + (version == MqttVersion.MQTT_5 ? "MQTT 5" : "MQTT 3.1.1") + ")");
        this.reasonCode = reasonCode;
        this.version = version;
    }

    /**
     * @return the code as on the wire: an MQTT 5 reason code (0x80 and above are errors), or an
     *         MQTT 3.1.1 CONNACK return code (1..5)
     */
    public int reasonCode() {
        return reasonCode;
    }

    /** @return the code's name in the MQTT specification of {@link #version()}, e.g. {@code Not authorized} */
    public String reasonName() {
        return ReasonCodes.name(version, reasonCode);
    }

    /** @return the protocol version the code belongs to */
    public MqttVersion version() {
        return version;
    }
}
