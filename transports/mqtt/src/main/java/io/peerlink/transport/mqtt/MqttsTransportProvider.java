package io.peerlink.transport.mqtt;

/**
 * Creates MQTT-over-TLS transports for endpoints of the scheme {@code mqtts}:
 * {@code mqtts://broker.example:8883/<deviceTopicId>}. Trust material and host name verification
 * come from {@link MqttOptions#TLS}; everything else is as for {@link MqttTransportProvider}.
 */
public final class MqttsTransportProvider extends MqttTransportProvider {

    /** The scheme this provider serves. */
    public static final String SCHEME = "mqtts";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public MqttsTransportProvider() {
    }

    @Override
    public String scheme() {
        return SCHEME;
    }
}
