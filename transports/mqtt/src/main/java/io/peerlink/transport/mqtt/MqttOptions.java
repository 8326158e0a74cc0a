package io.peerlink.transport.mqtt;

import io.peerlink.spi.TransportConfig;

import java.time.Duration;
import java.util.List;

/**
 * Typed options of the MQTT transport, set with
 * {@link TransportConfig.Builder#set(TransportConfig.Option, Object)}. docs/transports.md explains
 * each one together with the broker settings it interacts with.
 */
public final class MqttOptions {

    /** MQTT 5 by default; {@link MqttVersion#MQTT_3_1_1} for brokers that speak only 3.1.1. */
    public static final TransportConfig.Option<MqttVersion> PROTOCOL_VERSION =
            new TransportConfig.Option<>("mqtt.protocolVersion", MqttVersion.class, MqttVersion.MQTT_5);

    /** User name sent in CONNECT; empty (the default) sends none. */
    public static final TransportConfig.Option<String> USERNAME =
            new TransportConfig.Option<>("mqtt.username", String.class, "");

    /** Password sent in CONNECT (UTF-8); empty (the default) sends none. Needs {@link #USERNAME}. */
    public static final TransportConfig.Option<String> PASSWORD =
            new TransportConfig.Option<>("mqtt.password", String.class, "");

    /**
     * Where the password of each CONNECT comes from; by default {@link #PASSWORD}. A source is
     * asked before every connection attempt (a fresh signed login token for the embedded broker
     * of module {@code peerlink-mqtt-moquette}). Needs {@link #USERNAME}; excludes {@link #PASSWORD}.
     * Text form (properties, CDI keys): {@code file:<path>} or {@code login-token:<audience> <key file>},
     * see {@link MqttTransportProvider#parseOption}.
     */
    public static final TransportConfig.Option<MqttPasswordSource> PASSWORD_SOURCE =
            new TransportConfig.Option<>("mqtt.passwordSource", MqttPasswordSource.class, MqttPasswordSource.fixed());

    /**
     * MQTT client identifier; empty (the default) uses the device topic ID of the bind endpoint.
     * It must be stable across restarts: the broker keeps the persistent session under it.
     */
    public static final TransportConfig.Option<String> CLIENT_ID =
            new TransportConfig.Option<>("mqtt.clientId", String.class, "");

    /**
     * First topic levels of every inbox; default {@code peerlink/in}. A datagram from device S to
     * device R is published on {@code <prefix>/R/S}. Levels must be non-empty and free of the
     * wildcards {@code +} and {@code #}; the prefix must not start with {@code $}.
     */
    public static final TransportConfig.Option<String> TOPIC_PREFIX =
            new TransportConfig.Option<>("mqtt.topicPrefix", String.class, "peerlink/in");

    /**
     * Largest datagram in bytes; default 65,507 (as UDP). The broker must accept a PUBLISH this
     * large plus the topic: with MQTT 5, {@code start} fails when the broker announces a smaller
     * maximum packet size.
     */
    public static final TransportConfig.Option<Integer> MAX_DATAGRAM_SIZE =
            new TransportConfig.Option<>("mqtt.maxDatagramSize", Integer.class, 65_507);

    /**
     * Bounded send window: how many published datagrams may await their PUBACK; default 256.
     * {@code send} returns false while it is full. With MQTT 5 the broker's Receive Maximum
     * bounds it further.
     */
    public static final TransportConfig.Option<Integer> MAX_IN_FLIGHT =
            new TransportConfig.Option<>("mqtt.maxInFlight", Integer.class, 256);

    /**
     * Whether a (re)connect resumes the broker session (clean start / clean session false); true
     * by default, so that datagrams published while the device was offline are delivered when
     * it returns.
     */
    public static final TransportConfig.Option<Boolean> PERSISTENT_SESSION =
            new TransportConfig.Option<>("mqtt.persistentSession", Boolean.class, Boolean.TRUE);

    /**
     * MQTT 5 session expiry interval: how long the broker keeps the session (and queues
     * datagrams) after the device disconnects; default 1 hour; whole seconds. With MQTT 3.1.1 the
     * broker's own setting applies (Mosquitto: {@code persistent_client_expiration}).
     */
    public static final TransportConfig.Option<Duration> SESSION_EXPIRY =
            new TransportConfig.Option<>("mqtt.sessionExpiry", Duration.class, Duration.ofHours(1));

    /** Keep-alive interval; default 30 s; whole seconds. */
    public static final TransportConfig.Option<Duration> KEEP_ALIVE =
            new TransportConfig.Option<>("mqtt.keepAlive", Duration.class, Duration.ofSeconds(30));

    /** How long {@code start} (and each reconnect attempt) waits for CONNACK and SUBACK; default 10 s. */
    public static final TransportConfig.Option<Duration> CONNECT_TIMEOUT =
            new TransportConfig.Option<>("mqtt.connectTimeout", Duration.class, Duration.ofSeconds(10));

    /**
     * First delay before reconnecting after the connection was lost; doubled after every failed
     * attempt up to {@link #RECONNECT_MAX_DELAY}. Default 100 ms.
     */
    public static final TransportConfig.Option<Duration> RECONNECT_MIN_DELAY =
            new TransportConfig.Option<>("mqtt.reconnectMinDelay", Duration.class, Duration.ofMillis(100));

    /**
     * Longest delay between reconnect attempts; default 10 s. The delay starts again from the
     * minimum only after a connection stayed up twice this long, so two clients that keep taking over
     * each other's session slow down instead of storming the broker.
     */
    public static final TransportConfig.Option<Duration> RECONNECT_MAX_DELAY =
            new TransportConfig.Option<>("mqtt.reconnectMaxDelay", Duration.class, Duration.ofSeconds(10));

    /** TLS settings of an {@code mqtts} transport; ignored by {@code mqtt}. Default: the JVM's trust store. */
    public static final TransportConfig.Option<MqttTls> TLS =
            new TransportConfig.Option<>("mqtt.tls", MqttTls.class, MqttTls.SYSTEM_DEFAULT);

    /**
     * Set to true only when the broker's ACL lets each user publish solely to topics whose last
     * level is its own user name (docs/transports.md shows the Mosquitto {@code acl_file}); then
     * the sender level of a topic is broker-authenticated and reported in
     * {@link io.peerlink.spi.ReceiveContext#authenticatedPeer()}. Default false.
     */
    public static final TransportConfig.Option<Boolean> BROKER_ENFORCES_SENDER =
            new TransportConfig.Option<>("mqtt.brokerEnforcesSender", Boolean.class, Boolean.FALSE);

    private MqttOptions() {
    }

    /** @return every option, in the order of docs/transports.md; what the providers declare */
    static List<TransportConfig.Option<?>> all() {
        return List.of(PROTOCOL_VERSION, USERNAME, PASSWORD, PASSWORD_SOURCE, CLIENT_ID, TOPIC_PREFIX, MAX_DATAGRAM_SIZE,
                MAX_IN_FLIGHT, PERSISTENT_SESSION, SESSION_EXPIRY, KEEP_ALIVE, CONNECT_TIMEOUT, RECONNECT_MIN_DELAY,
                RECONNECT_MAX_DELAY, TLS, BROKER_ENFORCES_SENDER);
    }
}
