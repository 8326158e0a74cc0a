package io.peerlink.transport.mqtt;

/**
 * The broker refused the CONNECT (CONNACK with an error code): wrong credentials, not
 * authorised, client identifier rejected, banned, server unavailable. Thrown by
 * {@code Transport.start}; reported through {@code DatagramHandler.onTransportFailure} when a
 * reconnect is refused for a reason that retrying cannot fix.
 */
public final class MqttConnectionRefusedException extends MqttReasonException {

    private static final long serialVersionUID = 1L;

    MqttConnectionRefusedException(String broker, String clientId, int reasonCode, MqttVersion version) {
        super("broker " + broker + " refused the connection of client '" + clientId + "'", reasonCode, version);
    }

    /** @return true if retrying with the same settings cannot succeed (credentials, authorisation, client ID, ban) */
    public boolean permanent() {
        return ReasonCodes.permanentConnectRefusal(version(), reasonCode());
    }
}
