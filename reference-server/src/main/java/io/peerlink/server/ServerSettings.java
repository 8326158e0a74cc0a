package io.peerlink.server;

import io.peerlink.spi.PluginConfig;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Function;

/**
 * Builds a {@link ServerConfig} from the operator's sources: command-line flags, then
 * environment variables ({@code PEERLINK_} + the key in upper case with {@code .} and {@code -}
 * as {@code _}), then the configuration file ({@value #DEFAULT_FILE}, Java properties), then the
 * defaults. Every key is listed in {@link #KEYS} and in docs/operations.md. Keys under
 * {@code authenticator.<name>.}, {@code access-policy.<name>.} and {@code endpoint.<name>.} belong
 * to plug-ins and are handed to them through {@link PluginConfig}, with the same precedence.
 *
 * <p>A value that does not parse, or an unknown key in the file or the flags, fails with a
 * {@link ServerConfigException}: one line naming the key, where the value came from, and what to do.
 */
public final class ServerSettings {
    /** The configuration file read from the working directory when none is named. */
    public static final String DEFAULT_FILE = "peerlink-server.properties";
    /** The environment variable naming the configuration file. */
    public static final String CONFIG_ENV = "PEERLINK_CONFIG";
    /** Key prefixes that belong to plug-ins and extension endpoints. */
    public static final List<String> PLUGIN_PREFIXES = List.of("authenticator.", "access-policy.", "endpoint.");

    /**
     * One documented key.
     *
     * @param name the key, e.g. {@code http.port}
     * @param defaultValue its default as text, or empty for none
     * @param description what it does, one line
     */
    public record Key(String name, String defaultValue, String description) {
        /** @return the environment variable that sets it, e.g. {@code PEERLINK_HTTP_PORT} */
        public String env() {
            return envName(name);
        }
    }

    /** Every key the server reads, in the order docs/operations.md lists them. */
    public static final List<Key> KEYS = List.of(
            new Key("host", "0.0.0.0", "address every listener binds to"),
            new Key("http.port", "8080", "HTTP/WebSocket port (0: any free port)"),
            new Key("stun.port", "3478", "STUN UDP port (0: any free port; -1: no STUN)"),
            new Key("turn.port", "", "UDP+TCP port of the embedded TURN relay (0: any free port; -1: off; default 3479, or stun.port's 0/-1)"),
            new Key("turn.secret", "", "the embedded TURN server's REST API shared secret, >= 16 characters (default: random per start)"),
            new Key("turn.realm", "peerlink", "the embedded TURN server's realm"),
            new Key("turn.relay-address", "", "address the embedded TURN server relays on (default: host, or the first IPv4 address)"),
            new Key("turn.allow-private-peers", "false", "let the embedded TURN server relay to private addresses"),
            new Key("turn.allow-loopback-peers", "false", "let the embedded TURN server relay to loopback addresses"),
            new Key("turn.credential-lifetime", "6h", "validity of the TURN credentials minted per link"),
            new Key("turn.max-bytes-per-allocation", "1073741824",
                    "bytes one relayed link may move over its life, both directions (TURN allocation or WebSocket-relayed peer)"),
            new Key("turn.bytes-per-second-per-allocation", "8388608", "sustained bytes/s of one relayed link (TURN or WebSocket)"),
            new Key("turn.allocations-per-device", "4", "TURN allocations, and peers relayed over the WebSocket, per device at once"),
            new Key("turn.ws-relay", "true", "relay sealed datagrams over the rendezvous WebSocket between introduced devices"),
            new Key("turn.external", "", "external TURN servers (coturn --use-auth-secret): ';'-separated 'URI[,URI]@ENV_VAR', the secret in ENV_VAR"),
            new Key("coap.port", "5683", "UDP port of the CoAP resource directory (-1: off)"),
            new Key("coap.storage", "", "database file keeping directory registrations across restarts (default: memory)"),
            new Key("coap.ws-descriptions", "", "directory of OpenAPI 3 / RAML 1.0 descriptions served as virtual CoAP resources"),
            new Key("coap.ws-secrets", "", "properties file of the secrets those descriptions need"),
            new Key("authenticator", "allow-list", "name of the Authenticator plug-in"),
            new Key("authenticator.allow-list.file", "", "the allow-list: lines 'deviceId [network]' (default: admit nobody)"),
            new Key("open", "false", "admit every device into network 'default' (trusted labs only)"),
            new Key("access-policy", "same-network", "name of the AccessPolicy plug-in"),
            new Key("keepalive", "15s", "control-connection ping interval; silent devices go after 3"),
            new Key("server.names", "", "comma-separated names devices dial this server by (default: this machine's addresses)"),
            new Key("tls.keystore", "", "PKCS#12 key store: serve wss:// instead of ws://"),
            new Key("tls.password", "", "the key store's password (prefer the environment variable)"),
            new Key("status.token", "", "bearer token for /status and /metrics, at least 16 characters (default: not served)"),
            new Key("limits.max-message-bytes", "65536", "largest control message"),
            new Key("limits.messages-per-second", "50", "sustained control messages per connection"),
            new Key("limits.message-burst", "100", "control-message burst per connection"),
            new Key("limits.hello-timeout", "10s", "time from challenge to hello"),
            new Key("limits.connect-timeout", "15s", "time a target has to accept a connect"),
            new Key("limits.max-queued-bytes", "1048576", "bytes queued for one slow device before it is disconnected"),
            new Key("limits.max-connections", "20000", "open TCP connections to the HTTP port"),
            new Key("limits.max-connections-per-address", "64", "open TCP connections from one IP address"),
            new Key("limits.stun-per-source-per-second", "20", "STUN answers per source address and second"),
            new Key("gateway.enabled", "false", "mount the Socket.IO gateway platform"),
            new Key("gateway.path", "/socket.io", "its context path"),
            new Key("gateway.keys", "", "gateway credentials: lines '<gatewayId> hmac-sha256|ed25519 <base64>' (required when enabled)"),
            new Key("gateway.relay", "false", "also serve the /relay namespace for the Socket.IO transport"),
            new Key("gateway.heartbeat", "30s", "heartbeat interval gateways are told"),
            new Key("mqtt.port", "-1", "TCP port of the embedded MQTT broker (-1: off; 1883 is MQTT's)"),
            new Key("mqtt.data-dir", "", "directory where the broker persists sessions (default: memory)"),
            new Key("mqtt.audience", "", "what MQTT login tokens are signed for (default mqtt://<host>:<port>; set it to the address devices dial when host is 0.0.0.0)"),
            new Key("mqtt.rendezvous.broker", "", "serve the rendezvous also over this MQTT broker, mqtt://<host>:<port> or mqtts://... (default: the embedded broker when mqtt.port is set, else off)"),
            new Key("mqtt.rendezvous.username", "", "the server's user name at that broker"),
            new Key("mqtt.rendezvous.password-file", "", "file holding the server's password at that broker"),
            new Key("mqtt.rendezvous.client-id", "peerlink-rendezvous", "the server's MQTT client ID"),
            new Key("mqtt.rendezvous.tls-ca", "", "for mqtts: PEM file of the certificates to trust (default: the JVM's)"),
            new Key("mqtt.rendezvous.version", "MQTT_5", "MQTT_5 or MQTT_3_1_1"),
            new Key("mqtt.rendezvous.keep-alive", "10s", "MQTT keep-alive of the server's broker connection; the broker publishes the server's will 'offline' after 1.5 times this of silence"),
            new Key("redis.uri", "", "several nodes: share presence and introductions through this Redis (default: one node in memory)"),
            new Key("redis.key-prefix", "peerlink:", "prefix of every Redis key and channel"),
            new Key("tickets.enabled", "auto", "resumption tickets: true, false, or auto (on when tls.keystore is set)"),
            new Key("tickets.key-file", "", "file of the 32-byte ticket key, created on first start (default: peerlink-tickets.key next to tls.keystore, else in the working directory)"),
            new Key("tickets.secret", "", "ticket secret shared by several nodes, >= 32 characters (prefer the environment variable); replaces the key file"),
            new Key("tickets.lifetime", "24h", "how long a resumption ticket stays valid (1m..720h)"));

    private static final Map<String, Key> BY_NAME = new LinkedHashMap<>();

    static {
        KEYS.forEach(k -> BY_NAME.put(k.name(), k));
    }

    private final Map<String, String> flags;
    private final Map<String, String> env;
    private final Map<String, String> file;
    private final Path fileName;

    private ServerSettings(Map<String, String> flags, Map<String, String> env, Map<String, String> file, Path fileName) {
        this.flags = flags;
        this.env = env;
        this.file = file;
        this.fileName = fileName;
    }

    /**
     * @param key a key, e.g. {@code gateway.keys}
     * @return its environment variable, e.g. {@code PEERLINK_GATEWAY_KEYS}
     */
    public static String envName(String key) {
        return "PEERLINK_" + key.toUpperCase(Locale.ROOT).replace('.', '_').replace('-', '_');
    }

    /**
     * Reads the sources and builds the configuration.
     *
     * @param configFile the file named on the command line, or null: then {@value #CONFIG_ENV}, then
     *        {@value #DEFAULT_FILE} in the working directory if it exists, else no file
     * @param flags values given on the command line, by key
     * @param env the environment (normally {@link System#getenv()})
     * @return the configuration
     * @throws ServerConfigException naming the key (or file) at fault and what to do
     */
    public static ServerConfig load(Path configFile, Map<String, String> flags, Map<String, String> env) {
        Path path = configFile;
        if (path == null && env.get(CONFIG_ENV) != null && !env.get(CONFIG_ENV).isBlank()) {
            path = Path.of(env.get(CONFIG_ENV));
        }
        boolean explicit = path != null;
        if (path == null && Files.isRegularFile(Path.of(DEFAULT_FILE))) {
            path = Path.of(DEFAULT_FILE);
        }
        Map<String, String> fromFile = Map.of();
        if (path != null) {
            if (!Files.isRegularFile(path)) {
                throw new ServerConfigException(explicit ? "config" : DEFAULT_FILE, "configuration file " + path
                        + " does not exist; create it or name another with --config / " + CONFIG_ENV);
            }
            fromFile = readFile(path);
        }
        checkKnown(flags, "command line");
        checkKnown(fromFile, path == null ? "" : path.toString());
        return new ServerSettings(Map.copyOf(flags), Map.copyOf(env), fromFile, path).build();
    }

    private static Map<String, String> readFile(Path path) {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(path, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new ServerConfigException("config", "cannot read configuration file " + path + ": " + e.getMessage());
        }
        Map<String, String> out = new LinkedHashMap<>();
        p.stringPropertyNames().forEach(k -> out.put(k.strip(), p.getProperty(k)));
        return out;
    }

    private static void checkKnown(Map<String, String> values, String source) {
        for (String key : values.keySet()) {
            if (BY_NAME.containsKey(key)) {
                continue;
            }
            boolean plugin = PLUGIN_PREFIXES.stream().anyMatch(p -> key.startsWith(p) && key.indexOf('.', p.length()) > p.length());
            if (!plugin) {
                throw new ServerConfigException(key, "unknown key (in " + source + "); the keys are listed in docs/operations.md"
                        + " and by 'peerlink server --keys'" + suggestion(key));
            }
        }
    }

    private static String suggestion(String key) {
        String best = null;
        int bestDistance = 3;
        for (String known : BY_NAME.keySet()) {
            int d = distance(key, known);
            if (d < bestDistance) {
                bestDistance = d;
                best = known;
            }
        }
        return best == null ? "" : "; did you mean '" + best + "'?";
    }

    private static int distance(String a, String b) {
        int[] prev = new int[b.length() + 1];
        int[] cur = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            prev[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            cur[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                cur[j] = Math.min(Math.min(cur[j - 1] + 1, prev[j] + 1), prev[j - 1] + (a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1));
            }
            int[] t = prev;
            prev = cur;
            cur = t;
        }
        return prev[b.length()];
    }

    /** A value with where it came from, for error messages. */
    private record Value(String key, String text, String source) {
    }

    private Optional<Value> raw(String key) {
        String v = flags.get(key);
        if (v != null) {
            return Optional.of(new Value(key, v.strip(), "command line"));
        }
        v = env.get(envName(key));
        if (v != null) {
            return Optional.of(new Value(key, v.strip(), "environment variable " + envName(key)));
        }
        v = file.get(key);
        if (v != null) {
            return Optional.of(new Value(key, v.strip(), "file " + fileName));
        }
        return Optional.empty();
    }

    private Optional<Value> value(String key) {
        return raw(key).filter(v -> !v.text().isEmpty());
    }

    private String string(String key) {
        return value(key).map(Value::text).orElse(BY_NAME.get(key).defaultValue());
    }

    private <T> T parse(String key, String expected, Function<String, T> parser) {
        Value v = value(key).orElse(new Value(key, BY_NAME.get(key).defaultValue(), "default"));
        try {
            T t = parser.apply(v.text());
            if (t == null) {
                throw new IllegalArgumentException();
            }
            return t;
        } catch (RuntimeException e) {
            throw new ServerConfigException(key, "expected " + expected + ", got '" + v.text() + "' (from " + v.source() + ")");
        }
    }

    private int port(String key, int min) {
        int p = parse(key, "an integer", Integer::parseInt);
        if (p < min || p > 65535) {
            throw new ServerConfigException(key, "must be " + min + ".." + 65535 + ", got " + p + " (from " + source(key) + ")");
        }
        return p;
    }

    private int positive(String key) {
        int n = parse(key, "a positive integer", Integer::parseInt);
        if (n < 1) {
            throw new ServerConfigException(key, "must be a positive integer, got " + n + " (from " + source(key) + ")");
        }
        return n;
    }

    private long positiveLong(String key) {
        long n = parse(key, "a positive integer", Long::parseLong);
        if (n < 1) {
            throw new ServerConfigException(key, "must be a positive integer, got " + n + " (from " + source(key) + ")");
        }
        return n;
    }

    private String source(String key) {
        return value(key).map(Value::source).orElse("default");
    }

    private boolean bool(String key) {
        return parse(key, "true or false", t -> switch (t.toLowerCase(Locale.ROOT)) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> null;
        });
    }

    private Duration duration(String key) {
        return parse(key, "a duration such as 500ms, 30s, 5m or 1h", PluginConfig::parseDuration);
    }

    private Path path(String key) {
        Optional<Value> v = value(key);
        if (v.isEmpty()) {
            return null;
        }
        try {
            // Relative paths are relative to the working directory, whichever source gave them.
            return Path.of(v.get().text());
        } catch (InvalidPathException e) {
            throw new ServerConfigException(key, "is not a valid path: '" + v.get().text() + "' (from " + v.get().source() + ")");
        }
    }

    private ServerConfig build() {
        ServerConfig.Builder b = ServerConfig.builder();
        String host = string("host");
        ServerConfig.Limits limits;
        try {
            limits = new ServerConfig.Limits(positive("limits.max-message-bytes"), positive("limits.messages-per-second"),
                    positive("limits.message-burst"), duration("limits.hello-timeout"), duration("limits.connect-timeout"),
                    ServerConfig.Limits.defaults().startMargin(), positive("limits.max-queued-bytes"),
                    positive("limits.max-connections"), positive("limits.max-connections-per-address"),
                    positive("limits.stun-per-source-per-second"));
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException("limits", e.getMessage());
        }
        b.bindHost(host).httpPort(port("http.port", 0)).stunPort(port("stun.port", -1)).coapPort(port("coap.port", -1))
                .rdStorage(path("coap.storage")).wsDescriptions(path("coap.ws-descriptions")).wsSecrets(path("coap.ws-secrets"))
                .authenticator(string("authenticator")).allowListFile(path("authenticator.allow-list.file"))
                .open(bool("open")).accessPolicy(string("access-policy")).limits(limits);
        Duration keepalive = duration("keepalive");
        if (keepalive.toMillis() < 100 || keepalive.toSeconds() > 3600) {
            throw new ServerConfigException("keepalive", "must be 100ms..1h, got " + keepalive + " (from " + source("keepalive") + ")");
        }
        b.keepalive(keepalive);
        String names = string("server.names");
        b.serverNames(names.isBlank() ? List.of() : Arrays.stream(names.split(",")).map(String::strip).filter(s -> !s.isEmpty()).toList());
        Path keyStore = path("tls.keystore");
        if (keyStore != null) {
            String password = value("tls.password").map(Value::text).orElseThrow(() -> new ServerConfigException("tls.password",
                    "tls.keystore is set but its password is not: set " + envName("tls.password")));
            b.tls(new ServerConfig.Tls(keyStore, password));
        }
        Optional<Value> token = value("status.token");
        if (token.isPresent() && token.get().text().length() < 16) {
            throw new ServerConfigException("status.token", "must have at least 16 characters (from " + token.get().source() + ")");
        }
        b.statusToken(token.map(Value::text).orElse(null));
        boolean gatewayOn = bool("gateway.enabled");
        Path gatewayKeys = path("gateway.keys");
        if (gatewayOn && gatewayKeys == null) {
            throw new ServerConfigException("gateway.keys", "gateway.enabled is true but no keys file is set: set gateway.keys to a file"
                    + " of lines '<gatewayId> hmac-sha256|ed25519 <base64>'");
        }
        String gatewayPath = string("gateway.path");
        if (!gatewayPath.startsWith("/") || gatewayPath.length() < 2 || gatewayPath.endsWith("/")) {
            throw new ServerConfigException("gateway.path", "must start with '/', not be '/' and not end with '/', got '" + gatewayPath + "'");
        }
        Duration heartbeat = duration("gateway.heartbeat");
        if (heartbeat.toMillis() < 100) {
            throw new ServerConfigException("gateway.heartbeat", "must be at least 100ms, got " + heartbeat);
        }
        b.gateway(new ServerConfig.Gateway(gatewayOn, gatewayPath, gatewayKeys, bool("gateway.relay"), heartbeat));
        String audience = string("mqtt.audience");
        b.mqtt(new ServerConfig.Mqtt(port("mqtt.port", -1), path("mqtt.data-dir"), audience.isBlank() ? null : audience));
        String redisUri = string("redis.uri");
        if (!redisUri.isBlank()) {
            try {
                b.redis(new ServerConfig.Redis(java.net.URI.create(redisUri.strip()), string("redis.key-prefix")));
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("redis.uri", e.getMessage() + " (from " + source("redis.uri") + ")");
            }
        }
        if (value("turn.port").isPresent()) {
            b.turnPort(port("turn.port", -1));
        }
        Optional<Value> turnSecret = value("turn.secret");
        if (turnSecret.isPresent() && turnSecret.get().text().length() < 16) {
            throw new ServerConfigException("turn.secret", "must have at least 16 characters (from " + turnSecret.get().source() + ")");
        }
        b.turnSecret(turnSecret.map(Value::text).orElse(null)).turnRealm(string("turn.realm"))
                .turnRelayAddress(value("turn.relay-address").map(Value::text).orElse(null))
                .turnAllowPrivatePeers(bool("turn.allow-private-peers")).turnAllowLoopbackPeers(bool("turn.allow-loopback-peers"))
                .turnCredentialLifetime(duration("turn.credential-lifetime"))
                .relayLimits(positiveLong("turn.max-bytes-per-allocation"), positiveLong("turn.bytes-per-second-per-allocation"),
                        positive("turn.allocations-per-device"))
                .wsRelay(bool("turn.ws-relay"));
        List<ServerConfig.ExternalTurn> external = new java.util.ArrayList<>();
        for (String entry : string("turn.external").split(";")) {
            if (entry.isBlank()) {
                continue;
            }
            int at = entry.lastIndexOf('@');
            String secret = at < 0 ? null : env.get(entry.substring(at + 1).strip());
            if (secret == null || secret.isEmpty()) {
                throw new ServerConfigException("turn.external", "each entry is 'URI[,URI]@ENV_VAR' with the secret in ENV_VAR, got '"
                        + entry.strip() + "'");
            }
            try {
                external.add(new ServerConfig.ExternalTurn(Arrays.stream(entry.substring(0, at).split(",")).map(String::strip).toList(),
                        secret));
            } catch (IllegalArgumentException e) {
                throw new ServerConfigException("turn.external", e.getMessage());
            }
        }
        b.externalTurn(external);
        String ticketsMode = string("tickets.enabled").toLowerCase(Locale.ROOT);
        boolean ticketsOn = switch (ticketsMode) {
            case "true" -> true;
            case "false" -> false;
            case "auto" -> keyStore != null;
            default -> throw new ServerConfigException("tickets.enabled", "expected true, false or auto, got '" + ticketsMode
                    + "' (from " + source("tickets.enabled") + ")");
        };
        Path ticketKeyFile = path("tickets.key-file");
        if (ticketKeyFile == null) {
            Path dir = keyStore == null ? null : keyStore.toAbsolutePath().getParent();
            ticketKeyFile = dir == null ? Path.of("peerlink-tickets.key") : dir.resolve("peerlink-tickets.key");
        }
        Optional<Value> ticketSecret = value("tickets.secret");
        if (ticketSecret.isPresent() && ticketSecret.get().text().length() < 32) {
            throw new ServerConfigException("tickets.secret", "must have at least 32 characters (from " + ticketSecret.get().source() + ")");
        }
        Duration ticketLifetime = duration("tickets.lifetime");
        try {
            b.tickets(new ServerConfig.Tickets(ticketsOn, ticketKeyFile, ticketSecret.map(Value::text).orElse(null), ticketLifetime));
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException("tickets.lifetime", e.getMessage() + " (from " + source("tickets.lifetime") + ")");
        }
        b.settings(key -> value(key).map(Value::text));
        try {
            return b.build();
        } catch (IllegalArgumentException e) {
            throw new ServerConfigException("config", e.getMessage());
        }
    }

    /** @return the keys as an aligned table (key, default, environment variable, meaning), for {@code --keys} */
    public static String describeKeys() {
        StringBuilder b = new StringBuilder();
        List<String> lines = new ArrayList<>();
        for (Key k : KEYS) {
            lines.add(String.format(Locale.ROOT, "%-36s %-12s %-44s %s", k.name(), k.defaultValue().isEmpty() ? "-" : k.defaultValue(),
                    k.env(), k.description()));
        }
        lines.forEach(l -> b.append(l).append('\n'));
        return b.toString();
    }
}
