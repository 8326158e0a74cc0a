/**
 * An embedded MQTT 3.1.1 broker (Moquette) for PeerLink: logins are identity proofs (a device
 * signs a short-lived token with its Ed25519 key) checked and then admitted by an
 * {@link io.peerlink.spi.Authenticator}; topics follow the MQTT transport's inbox layout, with
 * each device reading only its own inbox and writing only as itself. No Moquette type appears in
 * the exported package.
 */
module io.peerlink.transport.mqtt.moquette {
    requires transitive io.peerlink.spi;
    requires transitive io.peerlink.protocol;
    requires transitive io.peerlink.transport.mqtt;
    requires moquette.broker;
    requires io.netty.transport;
    requires io.netty.codec;
    requires io.netty.codec.mqtt;
    requires io.netty.handler;
    requires io.netty.common;

    exports io.peerlink.transport.mqtt.moquette;

    provides io.peerlink.transport.mqtt.MqttPasswordSourceFactory with
            io.peerlink.transport.mqtt.moquette.MqttLoginTokenSourceFactory;
}
