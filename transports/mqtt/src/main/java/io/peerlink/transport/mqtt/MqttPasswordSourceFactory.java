package io.peerlink.transport.mqtt;

/**
 * Makes a {@link MqttPasswordSource} from the text form of {@link MqttOptions#PASSWORD_SOURCE},
 * {@code <kind>:<argument>}, for configurations that are text (properties files, the CDI
 * extension's {@code peerlink.transports.<n>.mqtt.passwordSource} key). Found through
 * {@link java.util.ServiceLoader}; the kind {@code file} is built in (see
 * {@link MqttTransportProvider#parseOption}), module {@code peerlink-mqtt-moquette} adds
 * {@code login-token} for its embedded broker.
 */
public interface MqttPasswordSourceFactory {

    /** @return the kind this factory makes, the text before the first {@code :}; lower case, unique */
    String kind();

    /**
     * @param argument the text after the first {@code :}
     * @return the source; it may read files or keys only when first asked for a password
     * @throws IllegalArgumentException with a message saying what is wrong and the form expected
     */
    MqttPasswordSource create(String argument);
}
