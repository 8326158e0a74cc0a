/**
 * PeerLink's MQTT transport: datagrams through an MQTT broker (Eclipse Paho; MQTT 5 or 3.1.1),
 * one inbox topic per device, QoS 1, persistent sessions, user name/password and TLS. Found
 * through {@link io.peerlink.spi.TransportProvider} under the schemes {@code mqtt} and
 * {@code mqtts}, and the rendezvous control protocol over the same broker
 * ({@link io.peerlink.spi.ControlCarrierProvider}, {@link io.peerlink.transport.mqtt.MqttRendezvousServerLink}). No Paho type appears in the exported package.
 */
module io.peerlink.transport.mqtt {
    requires transitive io.peerlink.spi;
    requires org.eclipse.paho.mqttv5.client;
    requires org.eclipse.paho.client.mqttv3;

    exports io.peerlink.transport.mqtt;

    uses io.peerlink.transport.mqtt.MqttPasswordSourceFactory;

    provides io.peerlink.spi.TransportProvider with
            io.peerlink.transport.mqtt.MqttTransportProvider,
            io.peerlink.transport.mqtt.MqttsTransportProvider;
    provides io.peerlink.spi.ControlCarrierProvider with
            io.peerlink.transport.mqtt.MqttControlCarrierProvider,
            io.peerlink.transport.mqtt.MqttsControlCarrierProvider;
}
