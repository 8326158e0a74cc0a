package io.peerlink.transport.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Creates MQTT transports for endpoints of the scheme {@code mqtt} (plain TCP). The bind
 * endpoint names the broker and this device's inbox: {@code mqtt://broker.example:1883/<deviceTopicId>}.
 * Peers are reached at {@code mqtt://<the same broker host and port>/<their deviceTopicId>}. See
 * {@link MqttsTransportProvider} for TLS, {@link MqttOptions} for the options and
 * docs/transports.md for topics, ACLs and sessions.
 */
public class MqttTransportProvider implements TransportProvider {

    /** The scheme this provider serves. */
    public static final String SCHEME = "mqtt";

    /** Creates the provider; {@link java.util.ServiceLoader} calls this. */
    public MqttTransportProvider() {
    }

    @Override
    public String scheme() {
        return SCHEME;
    }

    /**
     * @throws IllegalArgumentException if the bind endpoint is not {@code <scheme>://host:port/<deviceTopicId>}
     *         with a port 1..65535 and an ID of 1..128 characters {@code [A-Za-z0-9_-]}, or an option is out of range
     */
    @Override
    public Transport create(TransportConfig config) {
        Objects.requireNonNull(config, "config");
        return new MqttTransport(parse(config, scheme(), !SCHEME.equals(scheme())),
                MqttTransport.pahoClients(config.get(MqttOptions.PROTOCOL_VERSION)));
    }

    /** @return every {@link MqttOptions} option */
    @Override
    public List<TransportConfig.Option<?>> options() {
        return MqttOptions.all();
    }

    /**
     * Text form of {@link MqttOptions#TLS}: see {@link MqttTls#parse(String)}. Text form of
     * {@link MqttOptions#PASSWORD_SOURCE}: {@code file:<path>}, the first line of that file, read
     * at every connection attempt (the file must be readable when the transport is configured), or
     * {@code <kind>:<argument>} for a kind a {@link MqttPasswordSourceFactory} on the class path
     * makes ({@code login-token:<audience> <key file>} with {@code peerlink-mqtt-moquette}).
     */
    @Override
    public Object parseOption(TransportConfig.Option<?> option, String text) {
        if (option.equals(MqttOptions.TLS)) {
            return MqttTls.parse(text);
        }
        if (option.equals(MqttOptions.PASSWORD_SOURCE)) {
            return MqttPasswordSources.parse(text);
        }
        return TransportProvider.super.parseOption(option, text);
    }

    static MqttTransport.Config parse(TransportConfig config, String scheme, boolean tls) {
        Endpoint bind = config.bindEndpoint();
        if (!scheme.equals(bind.scheme())) {
            throw new IllegalArgumentException("this provider needs a " + scheme + ":// bind endpoint, got " + bind);
        }
        if (bind.host().isEmpty() || bind.port() == 0) {
            throw new IllegalArgumentException("an " + scheme + " bind endpoint names the broker host and port (1..65535): " + bind);
        }
        String path = bind.path();
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("an " + scheme + " bind endpoint ends with /<deviceTopicId> (this device's inbox), got " + bind);
        }
        String self = InboxTopics.checkId(path.substring(1), "device topic ID in " + bind);
        String prefix = InboxTopics.checkPrefix(config.get(MqttOptions.TOPIC_PREFIX));
        String clientId = config.get(MqttOptions.CLIENT_ID);
        if (clientId.isEmpty()) {
            clientId = self;
        } else if (clientId.length() > 65_535) {
            throw new IllegalArgumentException(MqttOptions.CLIENT_ID.name() + " is longer than 65,535 characters");
        }
        String username = config.get(MqttOptions.USERNAME);
        String password = config.get(MqttOptions.PASSWORD);
        MqttPasswordSource passwordSource = config.get(MqttOptions.PASSWORD_SOURCE);
        if (passwordSource != MqttPasswordSource.fixed()) {
            if (!password.isEmpty()) {
                throw new IllegalArgumentException("set either " + MqttOptions.PASSWORD.name() + " or " + MqttOptions.PASSWORD_SOURCE.name() + ", not both");
            }
            if (username.isEmpty()) {
                throw new IllegalArgumentException(MqttOptions.PASSWORD_SOURCE.name() + " needs " + MqttOptions.USERNAME.name());
            }
        }
        if (username.isEmpty() && !password.isEmpty()) {
            throw new IllegalArgumentException(MqttOptions.PASSWORD.name() + " needs " + MqttOptions.USERNAME.name()
                    + " (MQTT sends no password without a user name)");
        }
        int maxDatagram = config.get(MqttOptions.MAX_DATAGRAM_SIZE);
        if (maxDatagram < 64 || maxDatagram > 16 * 1024 * 1024) {
            throw new IllegalArgumentException(MqttOptions.MAX_DATAGRAM_SIZE.name() + " must be 64..16 MiB: " + maxDatagram);
        }
        int maxInFlight = config.get(MqttOptions.MAX_IN_FLIGHT);
        if (maxInFlight < 1 || maxInFlight > 65_535) {
            throw new IllegalArgumentException(MqttOptions.MAX_IN_FLIGHT.name() + " must be 1..65535 (MQTT packet IDs): " + maxInFlight);
        }
        long expiry = seconds(config, MqttOptions.SESSION_EXPIRY, 0, 0xFFFF_FFFFL);
        int keepAlive = (int) seconds(config, MqttOptions.KEEP_ALIVE, 0, 65_535);
        Duration connectTimeout = config.get(MqttOptions.CONNECT_TIMEOUT);
        if (connectTimeout.toMillis() < 1_000) {
            throw new IllegalArgumentException(MqttOptions.CONNECT_TIMEOUT.name() + " must be at least 1 s: " + connectTimeout);
        }
        Duration minDelay = config.get(MqttOptions.RECONNECT_MIN_DELAY);
        Duration maxDelay = config.get(MqttOptions.RECONNECT_MAX_DELAY);
        if (minDelay.toMillis() < 1 || maxDelay.compareTo(minDelay) < 0) {
            throw new IllegalArgumentException(MqttOptions.RECONNECT_MIN_DELAY.name() + " must be at least 1 ms and at most "
                    + MqttOptions.RECONNECT_MAX_DELAY.name() + ": " + minDelay + ", " + maxDelay);
        }
        return new MqttTransport.Config(new Endpoint(scheme, bind.host(), bind.port(), "/" + self), self, tls,
                config.get(MqttOptions.PROTOCOL_VERSION), clientId, username, password, prefix, maxDatagram, maxInFlight,
                config.get(MqttOptions.PERSISTENT_SESSION), expiry, keepAlive, connectTimeout, minDelay, maxDelay,
                config.get(MqttOptions.TLS), config.get(MqttOptions.BROKER_ENFORCES_SENDER), passwordSource);
    }

    private static long seconds(TransportConfig config, TransportConfig.Option<Duration> option, long min, long max) {
        Duration d = config.get(option);
        long s = d.getSeconds();
        if (d.isNegative() || s < min || s > max || d.getNano() != 0) {
            throw new IllegalArgumentException(option.name() + " must be whole seconds in " + min + ".." + max + ": " + d);
        }
        return s;
    }
}
