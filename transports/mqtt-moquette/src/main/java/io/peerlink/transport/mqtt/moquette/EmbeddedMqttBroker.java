package io.peerlink.transport.mqtt.moquette;

import io.moquette.broker.Server;
import io.moquette.broker.config.MemoryConfig;
import io.moquette.broker.security.IAuthenticator;
import io.moquette.broker.security.IAuthorizatorPolicy;
import io.moquette.broker.subscriptions.Topic;
import io.peerlink.DeviceId;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An MQTT 3.1.1 broker (Moquette 0.17) embedded in the process, for the MQTT transport when no
 * operator-run broker exists. Devices log in with their device ID and a
 * {@linkplain MqttIdentityLogin login token}; a valid token is handed to the configured
 * {@link Authenticator} as a proven identity, and only an {@link AuthResult.Admitted} lets the
 * device in. Every device reads only its own inbox ({@code <prefix>/<its ID>/+}), writes only with
 * its own ID as the sender level, and must use its device ID as client ID (so nobody can take over
 * another device's session), or {@code <device ID>-rv} for its rendezvous carrier.
 *
 * <p>The rendezvous over MQTT (docs/protocol-rendezvous.md, "The MQTT carrier"): a device may also
 * publish on {@code peerlink/rv/<its ID>/up} and subscribe to {@code peerlink/rv/<its ID>/down} and
 * {@code peerlink/rv/server} (the server's status), nothing else there. The rendezvous server logs in with {@link #rendezvousLinkConfig()}: user and
 * client ID {@value #RENDEZVOUS_LOGIN} and a random password made at {@link #start()} that exists
 * only in this process; it may read every up-topic and write every down-topic and {@code peerlink/rv/server},
 * and nothing else.
 *
 * <pre>{@code
 * EmbeddedMqttBroker broker = EmbeddedMqttBroker.builder().host("0.0.0.0").port(1883).authenticator(auth).build();
 * broker.start();
 * // a device:
 * TransportConfig.bind(Endpoint.parse("mqtt://broker.example:1883/" + identity.id()))
 *         .set(MqttOptions.PROTOCOL_VERSION, MqttVersion.MQTT_3_1_1)
 *         .set(MqttOptions.USERNAME, identity.id().value())
 *         .set(MqttOptions.PASSWORD_SOURCE, MqttIdentityLogin.passwordSource(identity, broker.audience()))
 * }</pre>
 */
public final class EmbeddedMqttBroker implements AutoCloseable {

    private static final System.Logger LOG = System.getLogger(EmbeddedMqttBroker.class.getName());
    /** Moquette 0.17's authenticator sees no socket address; the AuthRequest says so instead of inventing one. */
    static final InetSocketAddress ADDRESS_NOT_EXPOSED = InetSocketAddress.createUnresolved("mqtt-client-address-not-exposed", 0);
    /**
     * User name and client ID of the rendezvous server's login ({@link #rendezvousLinkConfig()}); not a device ID
     * (those are 52 base32 characters), so no device login can take it.
     */
    public static final String RENDEZVOUS_LOGIN = "peerlink-rendezvous";
    /** The rendezvous topics' first levels (io.peerlink.transport.mqtt.MqttRendezvousTopics.PREFIX). */
    private static final String RV = io.peerlink.transport.mqtt.MqttRendezvousTopics.PREFIX + "/";
    /** The rendezvous server's status topic (its will "offline"): devices read it, only the server writes it. */
    private static final String SERVER_STATUS = io.peerlink.transport.mqtt.MqttRendezvousTopics.SERVER_STATUS;
    /** Suffix of a device's rendezvous carrier's client ID (io.peerlink.transport.mqtt.MqttControlCarrierProvider.CLIENT_ID_SUFFIX). */
    private static final String CARRIER_SUFFIX = io.peerlink.transport.mqtt.MqttControlCarrierProvider.CLIENT_ID_SUFFIX;

    private final String host;
    private final int requestedPort;
    private final Authenticator authenticator;
    private final Duration loginWindow;
    private final String topicPrefix;
    private final int maxMessageBytes;
    private final Path dataDirectory;
    private final String configuredAudience;
    private final Clock clock;
    private final java.util.function.BiConsumer<String, String> refusals;

    private final Object lifecycle = new Object();
    private Server server;
    private GuardedListener listener;
    private volatile int port = -1;
    private volatile String audience;
    /** The rendezvous server's password, fresh per start; never leaves the process but through {@link #rendezvousLinkConfig()}. */
    private volatile byte[] rendezvousSecret;

    private final Map<String, Long> usedTokens = new ConcurrentHashMap<>();
    private final Map<DeviceId, String> networks = new ConcurrentHashMap<>();
    private final AtomicLong refusedLogins = new AtomicLong();
    private final AtomicLong admittedLogins = new AtomicLong();

    private EmbeddedMqttBroker(Builder b) {
        this.host = b.host;
        this.requestedPort = b.port;
        this.authenticator = Objects.requireNonNull(b.authenticator, "authenticator (required)");
        this.loginWindow = b.loginWindow;
        this.topicPrefix = b.topicPrefix;
        this.maxMessageBytes = b.maxMessageBytes;
        this.dataDirectory = b.dataDirectory;
        this.configuredAudience = b.audience;
        this.clock = b.clock;
        this.refusals = b.refusals;
    }

    /** @return a builder: host 127.0.0.1, port 1883, login window 2 min, topic prefix {@code peerlink/in} */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * Binds and starts the broker.
     *
     * @throws IOException if the port cannot be bound
     * @throws IllegalStateException if already started
     */
    public void start() throws IOException {
        synchronized (lifecycle) {
            if (server != null) {
                throw new IllegalStateException("the embedded MQTT broker is already started");
            }
            Properties p = new Properties();
            p.setProperty("host", host);
            // Moquette binds nothing itself: GuardedListener accepts the connections (it checks wills).
            p.setProperty("port", "disabled");
            p.setProperty("websocket_port", "disabled");
            p.setProperty("telemetry_enabled", "false");
            p.setProperty("allow_anonymous", "false");
            p.setProperty("allow_zero_byte_client_id", "false");
            p.setProperty("reauthorize_subscriptions_on_connect", "true");
            p.setProperty("netty.mqtt.message_size", Integer.toString(maxMessageBytes));
            p.setProperty("immediate_buffer_flush", "true");
            if (dataDirectory != null) {
                p.setProperty("persistence_enabled", "true");
                p.setProperty("data_path", dataDirectory.toAbsolutePath().toString());
                // Session queues in the H2 MVStore next to the sessions and subscriptions, not in Moquette 0.17's
                // default "segmented" store: its QueuePool.close writes every queue as queues.0 in
                // checkpoint.properties (the counter is never incremented), so only one session's queue, whichever
                // the hash map lists last, survived a restart, and with it only that one persistent session.
                p.setProperty("persistent_queue_type", "h2");
            } else {
                p.setProperty("persistence_enabled", "false");
            }
            byte[] secret = new byte[32];
            new java.security.SecureRandom().nextBytes(secret);
            rendezvousSecret = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret)
                    .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Server s = new Server();
            MemoryConfig config = new MemoryConfig(p);
            IdentityAuthenticator identities = new IdentityAuthenticator();
            InboxPolicy policy = new InboxPolicy();
            s.startServer(config, List.of(), null, identities, policy);
            GuardedListener l;
            try {
                l = GuardedListener.bind(s, config, identities, host, requestedPort, maxMessageBytes,
                        (topic, user, client) -> policy.canWrite(new Topic(topic), user, client),
                        (client, why) -> refuse(client, why));
            } catch (IOException | RuntimeException e) {
                s.stopServer();
                throw e;
            }
            server = s;
            listener = l;
            port = l.port();
            audience = configuredAudience != null ? configuredAudience : "mqtt://" + host + ":" + port;
            LOG.log(System.Logger.Level.INFO, "embedded MQTT broker listening on " + host + ":" + port + " (audience '" + audience + "')");
        }
    }

    /** Stops the broker; idempotent. */
    public void stop() {
        Server s;
        GuardedListener l;
        synchronized (lifecycle) {
            s = server;
            l = listener;
            server = null;
            listener = null;
        }
        if (l != null) {
            l.close();
        }
        if (s != null) {
            s.stopServer();
        }
    }

    @Override
    public void close() {
        stop();
    }

    /**
     * @return the bound port
     * @throws IllegalStateException before start
     */
    public int port() {
        if (port < 0) {
            throw new IllegalStateException("the embedded MQTT broker has not been started");
        }
        return port;
    }

    /**
     * @return what login tokens must be signed for: the builder's audience, or
     *         {@code mqtt://<host>:<port>} of the bound port
     * @throws IllegalStateException before start
     */
    public String audience() {
        port();
        return audience;
    }

    /**
     * The login of the rendezvous server at this broker, for
     * {@code io.peerlink.transport.mqtt.MqttRendezvousServerLink.connect}: bind endpoint
     * {@code mqtt://<host>:<port>/}{@value #RENDEZVOUS_LOGIN} (a wildcard host becomes loopback), MQTT 3.1.1,
     * user {@value #RENDEZVOUS_LOGIN} and the password this start made. Give it to nobody else: it reads every
     * device's up-topic and writes every down-topic.
     *
     * @return the configuration of the rendezvous server's broker connection
     * @throws IllegalStateException before start
     */
    public io.peerlink.spi.TransportConfig rendezvousLinkConfig() {
        port();
        String h = switch (host) {
            case "0.0.0.0" -> "127.0.0.1";
            case "::", "0:0:0:0:0:0:0:0", "[::]" -> "::1";
            default -> host;
        };
        return io.peerlink.spi.TransportConfig.bind(new io.peerlink.Endpoint("mqtt", h, port, "/" + RENDEZVOUS_LOGIN))
                .set(io.peerlink.transport.mqtt.MqttOptions.PROTOCOL_VERSION, io.peerlink.transport.mqtt.MqttVersion.MQTT_3_1_1)
                .set(io.peerlink.transport.mqtt.MqttOptions.USERNAME, RENDEZVOUS_LOGIN)
                .set(io.peerlink.transport.mqtt.MqttOptions.PASSWORD,
                        new String(rendezvousSecret, java.nio.charset.StandardCharsets.US_ASCII))
                .build();
    }

    /** @return logins refused so far (bad token, reused token, authenticator denied, client ID mismatch) */
    public long refusedLogins() {
        return refusedLogins.get();
    }

    /** @return device logins admitted so far (the rendezvous server's own login is not counted) */
    public long admittedLogins() {
        return admittedLogins.get();
    }

    /** @return the network the authenticator admitted a device to, if it is or was logged in */
    public java.util.Optional<String> networkOf(DeviceId device) {
        return java.util.Optional.ofNullable(networks.get(device));
    }

    private boolean refuse(String clientId, String why) {
        refusedLogins.incrementAndGet();
        String client = printable(clientId);
        if (refusals != null) {
            try {
                refusals.accept(client, why);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "refusal listener failed", e);
            }
        } else {
            LOG.log(System.Logger.Level.INFO, "refused the MQTT login of client '" + client + "': " + why);
        }
        return false;
    }

    private static String printable(String s) {
        if (s == null) {
            return "";
        }
        String t = s.length() > 64 ? s.substring(0, 64) + "..." : s;
        return t.replaceAll("\\p{Cntrl}", "?");
    }

    /** Identity proof first, then the PeerLink Authenticator. */
    private final class IdentityAuthenticator implements IAuthenticator {
        @Override
        public boolean checkValid(String clientId, String username, byte[] password) {
            if (RENDEZVOUS_LOGIN.equals(username)) {
                byte[] secret = rendezvousSecret;
                if (password == null || secret == null || !java.security.MessageDigest.isEqual(secret, password)) {
                    return refuse(clientId, "wrong password for the rendezvous server's login");
                }
                if (!RENDEZVOUS_LOGIN.equals(clientId)) {
                    return refuse(clientId, "the rendezvous server's login must use client ID " + RENDEZVOUS_LOGIN);
                }
                return true; // not a device: not counted in admittedLogins()
            }
            MqttIdentityLogin.Verified v;
            try {
                v = MqttIdentityLogin.verify(username, password, audience, clock.instant(), loginWindow);
            } catch (MqttIdentityLogin.LoginRejectedException e) {
                return refuse(clientId, e.getMessage());
            }
            if (!v.deviceId().value().equals(clientId) && !(v.deviceId().value() + CARRIER_SUFFIX).equals(clientId)) {
                return refuse(clientId, "the client ID must be the device ID " + v.deviceId().shortForm()
                        + "... or that ID with '" + CARRIER_SUFFIX + "' (so that no device can take over another one's session)");
            }
            long now = clock.instant().getEpochSecond();
            if (usedTokens.size() > 100_000) {
                usedTokens.values().removeIf(expiry -> expiry < now);
            }
            if (usedTokens.putIfAbsent(v.signature(), v.seconds() + loginWindow.getSeconds()) != null) {
                return refuse(clientId, "the login token was used before (a replay)");
            }
            AuthResult result;
            try {
                result = authenticator.authenticate(new AuthRequest(v.deviceId(), v.publicKey(), ADDRESS_NOT_EXPOSED,
                        Map.of("transport", "mqtt")));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "Authenticator " + authenticator.name() + " threw; refusing the login", e);
                return refuse(clientId, "the authenticator failed");
            }
            if (result instanceof AuthResult.Admitted admitted) {
                networks.put(v.deviceId(), admitted.network());
                admittedLogins.incrementAndGet();
                return true;
            }
            return refuse(clientId, "denied by authenticator " + authenticator.name() + ": " + ((AuthResult.Denied) result).reason());
        }
    }

    /**
     * Devices: read your own inbox; write into any inbox with your own ID as the sender level; write your
     * own rendezvous up-topic, read your own down-topic and the server's status topic. The rendezvous server:
     * read every up-topic, write every down-topic and the status topic, nothing else.
     */
    private final class InboxPolicy implements IAuthorizatorPolicy {
        @Override
        public boolean canRead(Topic topic, String user, String client) {
            if (user == null) {
                return false;
            }
            String t = topic.toString();
            if (RENDEZVOUS_LOGIN.equals(user)) {
                return t.equals(RV + "+/up") || rendezvousTopicOf(t, "/up") != null;
            }
            if (t.equals(RV + user + "/down") || t.equals(SERVER_STATUS)) {
                return true;
            }
            String own = topicPrefix + "/" + user + "/";
            if (!t.startsWith(own)) {
                return false;
            }
            String rest = t.substring(own.length());
            return rest.equals("+") || isId(rest);
        }

        @Override
        public boolean canWrite(Topic topic, String user, String client) {
            if (user == null) {
                return false;
            }
            String t = topic.toString();
            if (RENDEZVOUS_LOGIN.equals(user)) {
                return rendezvousTopicOf(t, "/down") != null || t.equals(SERVER_STATUS);
            }
            if (t.equals(RV + user + "/up")) {
                return true;
            }
            String head = topicPrefix + "/";
            String tail = "/" + user;
            if (!t.startsWith(head) || !t.endsWith(tail) || t.length() <= head.length() + tail.length()) {
                return false;
            }
            return isId(t.substring(head.length(), t.length() - tail.length()));
        }

        /** @return the device ID level of {@code peerlink/rv/<id><suffix>}, or null */
        private String rendezvousTopicOf(String t, String suffix) {
            if (!t.startsWith(RV) || !t.endsWith(suffix) || t.length() <= RV.length() + suffix.length()) {
                return null;
            }
            String id = t.substring(RV.length(), t.length() - suffix.length());
            return isId(id) ? id : null;
        }

        private boolean isId(String level) {
            if (level.isEmpty() || level.length() > 128) {
                return false;
            }
            for (int i = 0; i < level.length(); i++) {
                char c = level.charAt(i);
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
                    return false;
                }
            }
            return true;
        }
    }

    /** Builds an {@link EmbeddedMqttBroker}; {@link #authenticator(Authenticator)} is required. */
    public static final class Builder {
        private String host = "127.0.0.1";
        private int port = 1883;
        private Authenticator authenticator;
        private Duration loginWindow = Duration.ofMinutes(2);
        private String topicPrefix = "peerlink/in";
        private int maxMessageBytes = 70_000;
        private Path dataDirectory;
        private String audience;
        private Clock clock = Clock.systemUTC();
        private java.util.function.BiConsumer<String, String> refusals;

        private Builder() {
        }

        /**
         * Replaces the default INFO line per refused login (a host that rate-limits what clients can
         * make it log, like the reference server, passes its own).
         *
         * @param listener called with the client ID (made printable, at most 64 characters) and the reason,
         *        on a Moquette thread; must return quickly
         * @return this
         */
        public Builder refusalListener(java.util.function.BiConsumer<String, String> listener) {
            this.refusals = Objects.requireNonNull(listener, "listener");
            return this;
        }

        /** @param host address to bind, default {@code 127.0.0.1} @return this */
        public Builder host(String host) {
            this.host = Objects.requireNonNull(host, "host");
            return this;
        }

        /** @param port port to bind, 0 for any free one; default 1883 @return this */
        public Builder port(int port) {
            if (port < 0 || port > 65535) {
                throw new IllegalArgumentException("port must be 0..65535: " + port);
            }
            this.port = port;
            return this;
        }

        /** @param authenticator decides admission of devices whose login token was valid @return this */
        public Builder authenticator(Authenticator authenticator) {
            this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
            return this;
        }

        /** @param window how far a token's time may be from the broker's clock; default 2 min @return this */
        public Builder loginWindow(Duration window) {
            if (window.isNegative() || window.isZero()) {
                throw new IllegalArgumentException("loginWindow must be positive: " + window);
            }
            this.loginWindow = window;
            return this;
        }

        /** @param prefix the MQTT transport's topic prefix, default {@code peerlink/in} @return this */
        public Builder topicPrefix(String prefix) {
            this.topicPrefix = Objects.requireNonNull(prefix, "prefix");
            return this;
        }

        /** @param bytes largest MQTT packet accepted; default 70,000 (a 65,507-byte datagram and its topic) @return this */
        public Builder maxMessageBytes(int bytes) {
            if (bytes < 1024) {
                throw new IllegalArgumentException("maxMessageBytes must be at least 1024: " + bytes);
            }
            this.maxMessageBytes = bytes;
            return this;
        }

        /** @param directory where sessions and queued messages persist (H2 MVStore); default none (memory) @return this */
        public Builder dataDirectory(Path directory) {
            this.dataDirectory = Objects.requireNonNull(directory, "directory");
            return this;
        }

        /** @param audience what login tokens are signed for; default {@code mqtt://<host>:<bound port>} @return this */
        public Builder audience(String audience) {
            this.audience = Objects.requireNonNull(audience, "audience");
            return this;
        }

        Builder clock(Clock clock) {
            this.clock = clock;
            return this;
        }

        /** @return the broker, not started @throws NullPointerException if no authenticator was set */
        public EmbeddedMqttBroker build() {
            return new EmbeddedMqttBroker(this);
        }
    }
}
