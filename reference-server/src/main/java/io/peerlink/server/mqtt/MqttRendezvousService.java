package io.peerlink.server.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerConfigException;
import io.peerlink.server.ServerService;
import io.peerlink.server.rendezvous.Connection;
import io.peerlink.server.rendezvous.ControlSession;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.mqtt.MqttOptions;
import io.peerlink.transport.mqtt.MqttRendezvousServerLink;
import io.peerlink.transport.mqtt.MqttTls;
import io.peerlink.transport.mqtt.MqttVersion;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The rendezvous control protocol over an MQTT broker (docs/protocol-rendezvous.md, "The MQTT
 * carrier"), for devices that can reach only the broker: on when {@code mqtt.rendezvous.broker} is
 * set, the server logs in to that broker (e.g. an operator's Mosquitto) and serves every device's
 * topic pair {@code peerlink/rv/<device ID>/up|down} exactly as a WebSocket connection: same
 * messages, same admission, same introductions. Each device's topics are one control connection
 * reserved for that device ID (a hello for another ID is refused); that only the device itself can
 * use them is the broker ACL's job.
 *
 * <p>Without {@code mqtt.rendezvous.broker} but with {@code mqtt.port} set, it serves the rendezvous
 * over the server's embedded broker ({@link MqttBrokerService}), logged in with the broker's own
 * rendezvous login ({@code EmbeddedMqttBroker.rendezvousLinkConfig()}: a password made at start that
 * only this process has), whose built-in ACL reserves each device's topic pair to that device.
 */
@ApplicationScoped
public class MqttRendezvousService implements ServerService {
    private static final Logger LOG = LoggerFactory.getLogger(MqttRendezvousService.class);
    /** The settings this service reads (declared in ServerSettings). */
    public static final String BROKER = "mqtt.rendezvous.broker";
    public static final String USERNAME = "mqtt.rendezvous.username";
    public static final String PASSWORD_FILE = "mqtt.rendezvous.password-file";
    public static final String CLIENT_ID = "mqtt.rendezvous.client-id";
    public static final String TLS_CA = "mqtt.rendezvous.tls-ca";
    public static final String VERSION = "mqtt.rendezvous.version";
    /**
     * MQTT keep-alive of the server's broker connection (default 10 s): a broker that hears nothing from the
     * server for 1.5 times this publishes the server's will, so devices learn of a silently lost server then.
     */
    public static final String KEEP_ALIVE = "mqtt.rendezvous.keep-alive";
    static final java.time.Duration DEFAULT_KEEP_ALIVE = java.time.Duration.ofSeconds(10);

    private ServerConfig config;
    private RendezvousService rendezvous;
    private MqttBrokerService embedded;
    private final Map<String, ControlSession> sessions = new ConcurrentHashMap<>();
    /** Sessions a device may open in a burst, and how many more per second: an "open" flood costs the server a challenge each. */
    static final double OPEN_BURST = 5;
    static final double OPENS_PER_SECOND = 0.5;
    /** Per device; touched only on the link's message thread. */
    private final Map<String, Budget> openBudget = new java.util.HashMap<>();

    private static final class Budget {
        double tokens = OPEN_BURST;
        long refilledAt;

        Budget(long now) {
            refilledAt = now;
        }
    }
    private volatile MqttRendezvousServerLink link;
    private volatile InetSocketAddress brokerAddress;

    /** CDI. */
    protected MqttRendezvousService() {
    }

    /**
     * @param config the server configuration ({@code mqtt.rendezvous.*} settings)
     * @param rendezvous the rendezvous logic
     */
    @Inject
    public MqttRendezvousService(ServerConfig config, RendezvousService rendezvous, MqttBrokerService embedded) {
        this.config = config;
        this.rendezvous = rendezvous;
        this.embedded = embedded;
    }

    @Override
    public String name() {
        return "mqtt-rendezvous";
    }

    @Override
    public boolean enabled() {
        return setting(BROKER) != null || config.mqtt().port() >= 0;
    }

    /** @return true when the rendezvous runs over the embedded broker (no {@code mqtt.rendezvous.broker}, {@code mqtt.port} set) */
    private boolean overEmbedded() {
        return setting(BROKER) == null;
    }

    private java.time.Duration keepAlive() {
        String v = setting(KEEP_ALIVE);
        if (v == null) {
            return DEFAULT_KEEP_ALIVE;
        }
        java.time.Duration d = io.peerlink.spi.PluginConfig.parseDuration(v);
        if (d == null || d.toMillis() % 1000 != 0 || d.getSeconds() < 1 || d.getSeconds() > 65_535) {
            throw new ServerConfigException(KEEP_ALIVE, "whole seconds, 1s..65535s (e.g. 10s), got '" + v + "'");
        }
        return d;
    }

    private String setting(String key) {
        return config.settings().get(key).map(String::strip).filter(v -> !v.isEmpty()).orElse(null);
    }

    @Override
    public synchronized void start() {
        if (overEmbedded()) {
            io.peerlink.transport.mqtt.moquette.EmbeddedMqttBroker b = embedded.broker();
            if (b == null) {
                throw new IllegalStateException("cannot serve the rendezvous over the embedded MQTT broker: it is not running (mqtt.port)");
            }
            TransportConfig given = b.rendezvousLinkConfig();
            TransportConfig withKeepAlive = TransportConfig.bind(given.bindEndpoint())
                    .set(MqttOptions.PROTOCOL_VERSION, given.get(MqttOptions.PROTOCOL_VERSION))
                    .set(MqttOptions.USERNAME, given.get(MqttOptions.USERNAME))
                    .set(MqttOptions.PASSWORD, given.get(MqttOptions.PASSWORD))
                    .set(MqttOptions.KEEP_ALIVE, keepAlive())
                    .build();
            try {
                link = MqttRendezvousServerLink.connect(withKeepAlive, new Handler());
            } catch (IOException | IllegalArgumentException e) {
                throw new IllegalStateException("cannot serve the rendezvous over the embedded MQTT broker on port " + b.port()
                        + " (mqtt.port): " + e.getMessage(), e);
            }
            brokerAddress = link.brokerAddress();
            return;
        }
        String broker = setting(BROKER);
        URI uri;
        try {
            uri = URI.create(broker);
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException(BROKER, "not a URI: " + e.getMessage());
        }
        if (!"mqtt".equals(uri.getScheme()) && !"mqtts".equals(uri.getScheme()) || uri.getHost() == null || uri.getPort() <= 0) {
            throw new ServerConfigException(BROKER, "must be mqtt://<host>:<port> or mqtts://<host>:<port>, got '" + broker + "'");
        }
        String clientId = setting(CLIENT_ID) != null ? setting(CLIENT_ID) : "peerlink-rendezvous";
        TransportConfig.Builder b = TransportConfig.bind(new Endpoint(uri.getScheme(), uri.getHost(), uri.getPort(), "/" + clientId))
                .set(MqttOptions.KEEP_ALIVE, keepAlive());
        String user = setting(USERNAME);
        if (user != null) {
            b.set(MqttOptions.USERNAME, user);
        }
        String passwordFile = setting(PASSWORD_FILE);
        if (passwordFile != null) {
            try {
                b.set(MqttOptions.PASSWORD, Files.readString(Path.of(passwordFile), StandardCharsets.UTF_8).strip());
            } catch (IOException e) {
                throw new ServerConfigException(PASSWORD_FILE, "cannot read " + passwordFile + ": " + e.getMessage());
            }
        }
        String ca = setting(TLS_CA);
        if (ca != null) {
            b.set(MqttOptions.TLS, MqttTls.trustingPem(Path.of(ca)));
        }
        String version = setting(VERSION);
        if (version != null) {
            try {
                b.set(MqttOptions.PROTOCOL_VERSION, MqttVersion.valueOf(version));
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException(VERSION, "MQTT_5 or MQTT_3_1_1, got '" + version + "'");
            }
        }
        try {
            link = MqttRendezvousServerLink.connect(b.build(), new Handler());
        } catch (IOException | IllegalArgumentException e) {
            throw new IllegalStateException("cannot serve the rendezvous over MQTT broker " + broker + " (" + BROKER + "): "
                    + e.getMessage(), e);
        }
        brokerAddress = link.brokerAddress();
    }

    @Override
    public String describe() {
        MqttRendezvousServerLink l = link;
        if (l == null) {
            return "off";
        }
        return "topics peerlink/rv/<device>/up|down at " + (overEmbedded() ? "the embedded broker, port " + embedded.port() : setting(BROKER));
    }

    @Override
    public synchronized void stop() {
        MqttRendezvousServerLink l = link;
        link = null;
        if (l != null) {
            l.close();
        }
        sessions.values().forEach(ControlSession::onClose);
        sessions.clear();
    }

    /** @return devices with an open control session over MQTT (tests, diagnostics) */
    public int sessions() {
        return sessions.size();
    }

    /** Called on the link's one message thread. */
    private final class Handler implements MqttRendezvousServerLink.Handler {
        @Override
        public boolean acceptOpen(String device) {
            if (!mayOpen(device)) {
                LOG.debug("ignoring an open on the up-topic of {}: more than {} in a burst", device, OPEN_BURST);
                return false;
            }
            return true;
        }

        @Override
        public void onOpen(String device) {
            ControlSession old = sessions.remove(device);
            if (old != null) {
                old.onClose();
            }
            TopicConnection c = new TopicConnection(device);
            sessions.put(device, c.session = rendezvous.open(c));
        }

        @Override
        public void onText(String device, String text) {
            ControlSession s = sessions.get(device);
            if (s == null) {
                LOG.debug("a message on the up-topic of {} without an open session: ignored", device);
                return;
            }
            s.onText(text);
        }

        @Override
        public void onClose(String device) {
            ControlSession s = sessions.remove(device);
            if (s != null) {
                s.onClose();
            }
        }

        @Override
        public void onAllClosed() {
            for (String device : sessions.keySet()) {
                onClose(device);
            }
        }
    }

    /** Token bucket per device: {@link #OPEN_BURST} opens, then {@link #OPENS_PER_SECOND}. */
    private boolean mayOpen(String device) {
        long now = System.nanoTime();
        if (openBudget.size() > 100_000) {
            openBudget.values().removeIf(b -> now - b.refilledAt > 60_000_000_000L);
        }
        Budget b = openBudget.computeIfAbsent(device, d -> new Budget(now));
        b.tokens = Math.min(OPEN_BURST, b.tokens + (now - b.refilledAt) / 1e9 * OPENS_PER_SECOND);
        b.refilledAt = now;
        if (b.tokens < 1) {
            return false;
        }
        b.tokens -= 1;
        return true;
    }

    /** One device's topic pair as a control connection; only the device's current session may use it. */
    private final class TopicConnection implements Connection {
        private final String device;
        volatile ControlSession session;

        TopicConnection(String device) {
            this.device = device;
        }

        private boolean current() {
            ControlSession s = session;
            return s == null || sessions.get(device) == s;
        }

        @Override
        public void send(String text) {
            MqttRendezvousServerLink l = link;
            if (l != null && current()) {
                l.send(device, text);
            }
        }

        @Override
        public void close(int code, String reason) {
            MqttRendezvousServerLink l = link;
            if (l != null && current()) {
                l.close(device, code, reason);
            }
            ControlSession s = session;
            if (s != null && sessions.remove(device, s)) {
                s.onClose();
            }
        }

        @Override
        public InetSocketAddress remoteAddress() {
            return brokerAddress;
        }

        @Override
        public String reservedFor() {
            return device;
        }
    }
}
