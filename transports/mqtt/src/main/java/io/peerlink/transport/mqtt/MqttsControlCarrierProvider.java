package io.peerlink.transport.mqtt;

/** {@link MqttControlCarrierProvider} over TLS: control URIs {@code mqtts://broker:8883}. */
public final class MqttsControlCarrierProvider extends MqttControlCarrierProvider {
    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public MqttsControlCarrierProvider() {
    }

    @Override
    public String scheme() {
        return MqttsTransportProvider.SCHEME;
    }
}
