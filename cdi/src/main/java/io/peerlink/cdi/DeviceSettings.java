package io.peerlink.cdi;

import io.peerlink.Device;
import io.peerlink.Endpoint;

import java.io.IOException;
import java.io.Reader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;

/**
 * How the injected {@link Device} is built, read from configuration keys (the constants below).
 * {@link #load()} reads the properties file named by the {@code peerlink.config} system property,
 * if set, and then system properties, which win over the file.
 *
 * @param identity the device's key file, created if missing; null with {@code ephemeralIdentity}
 * @param ephemeralIdentity an in-memory identity whose ID changes every run (tests, demos)
 * @param rendezvous the rendezvous server's control URI ({@code ws://}, {@code wss://}, or {@code mqtt://} /
 *        {@code mqtts://} for the rendezvous over an MQTT broker), or null for a device without one
 * @param rendezvousPin the rendezvous server's TLS key pin ({@code wss://} only), or null
 * @param udp the address the device's UDP socket binds to
 * @param stun the STUN server, or null for the runtime's default (the rendezvous host, port 3478)
 * @param hostCandidates whether to advertise private addresses, or null for the runtime's default
 * @param connectTimeout how long a connect tries, or null for the runtime's default
 * @param openerTtl the IP TTL of hole-punch openers, 1..255, or 0 to derive it (the runtime's default)
 * @param transports further transports, each bound to an endpoint and made by the provider of its
 *        scheme (e.g. {@code udp://0.0.0.0:0}); may be empty
 * @param transportOptions the options of each of {@code transports}, by option name (e.g.
 *        {@code mqtt.username}), in the same order; an empty list stands for no options at all
 */
public record DeviceSettings(Path identity, boolean ephemeralIdentity, URI rendezvous, String rendezvousPin,
                             InetSocketAddress udp, InetSocketAddress stun, Boolean hostCandidates,
                             Duration connectTimeout, int openerTtl, List<Endpoint> transports,
                             List<Map<String, String>> transportOptions) {

    /** System property naming a properties file with the keys below. */
    public static final String CONFIG_FILE = "peerlink.config";
    /** The device's Ed25519 key file path; created with owner-only permissions if missing. */
    public static final String IDENTITY = "peerlink.identity";
    /** {@code true} for an in-memory identity instead of {@link #IDENTITY}. */
    public static final String IDENTITY_EPHEMERAL = "peerlink.identity.ephemeral";
    /**
     * The rendezvous server's control URI, e.g. {@code ws://192.0.2.1:8080/peerlink/v1}, or
     * {@code mqtt://<broker>:<port>} ({@code mqtts://} with TLS) for the rendezvous over an MQTT broker
     * (needs peerlink-transport-mqtt on the class path; the carrier uses the credentials of the device's
     * MQTT transport to the same host and port, see {@link #TRANSPORT_OPTION_PREFIX}).
     */
    public static final String RENDEZVOUS = "peerlink.rendezvous";
    /** The rendezvous server's TLS key pin, {@code sha256/<base64>} or 64 hex digits. */
    public static final String RENDEZVOUS_PIN = "peerlink.rendezvous.pin";
    /** The UDP bind address, {@code host:port} ({@code 0.0.0.0:0}: any port on all interfaces). */
    public static final String UDP = "peerlink.udp";
    /** The STUN server, {@code host:port}. */
    public static final String STUN = "peerlink.stun";
    /** {@code true} or {@code false}: advertise private (host) addresses as candidates. */
    public static final String HOST_CANDIDATES = "peerlink.host-candidates";
    /** How long a connect tries, an ISO-8601 duration such as {@code PT10S}. */
    public static final String CONNECT_TIMEOUT = "peerlink.connect-timeout";

    /** IP TTL of hole-punch openers, 1..255, or 0 (the default) to derive it (docs/protocol-punching.md). */
    public static final String OPENER_TTL = "peerlink.opener-ttl";

    /**
     * Further transports, comma-separated endpoint URIs such as {@code udp://0.0.0.0:0}; each is made
     * by the provider of its scheme found on the class path.
     */
    public static final String TRANSPORTS = "peerlink.transports";

    /**
     * Prefix of a transport's options: {@code peerlink.transports.<n>.<option name>} sets an option of
     * the n-th endpoint (counted from 1) in {@link #TRANSPORTS}, e.g.
     * {@code peerlink.transports.1.mqtt.username=...}; the names and text forms are those the transport's
     * provider documents (docs/transports.md).
     */
    public static final String TRANSPORT_OPTION_PREFIX = TRANSPORTS + ".";

    private static final Set<String> KEYS = Set.of(IDENTITY, IDENTITY_EPHEMERAL, RENDEZVOUS, RENDEZVOUS_PIN, UDP, STUN,
            HOST_CANDIDATES, CONNECT_TIMEOUT, OPENER_TTL, TRANSPORTS);

    /**
     * Settings whose transports have no options.
     *
     * @throws PeerLinkConfigurationException as the canonical constructor
     */
    public DeviceSettings(Path identity, boolean ephemeralIdentity, URI rendezvous, String rendezvousPin,
                          InetSocketAddress udp, InetSocketAddress stun, Boolean hostCandidates,
                          Duration connectTimeout, int openerTtl, List<Endpoint> transports) {
        this(identity, ephemeralIdentity, rendezvous, rendezvousPin, udp, stun, hostCandidates, connectTimeout, openerTtl,
                transports, List.of());
    }

    /**
     * @throws PeerLinkConfigurationException if neither an identity file nor an ephemeral identity
     *         is set, both are, there is no UDP bind address, or {@code transportOptions} is neither
     *         empty nor as long as {@code transports}
     */
    public DeviceSettings {
        if (identity == null && !ephemeralIdentity) {
            throw missing(IDENTITY, "the device's key file path (or " + IDENTITY_EPHEMERAL + "=true)");
        }
        if (identity != null && ephemeralIdentity) {
            throw new PeerLinkConfigurationException(IDENTITY + " and " + IDENTITY_EPHEMERAL
                    + "=true are both set: choose one identity");
        }
        transports = List.copyOf(Objects.requireNonNull(transports, "transports"));
        Objects.requireNonNull(transportOptions, "transportOptions");
        if (transportOptions.isEmpty()) {
            transportOptions = transports.stream().map(t -> Map.<String, String>of()).toList();
        } else if (transportOptions.size() != transports.size()) {
            throw new PeerLinkConfigurationException("transport options for " + transportOptions.size()
                    + " transports, but " + transports.size() + " transports (" + TRANSPORTS + ")");
        } else {
            transportOptions = transportOptions.stream().map(Map::copyOf).toList();
        }
        if (udp == null && transports.isEmpty()) {
            // The runtime never adds a transport silently, so neither does configuration.
            throw missing(UDP, "the UDP bind address, host:port (0.0.0.0:0 for any port on all interfaces), or "
                    + TRANSPORTS + " (endpoint URIs such as udp://0.0.0.0:0)");
        }
        if (openerTtl < 0 || openerTtl > 255) {
            throw malformed(OPENER_TTL, Integer.toString(openerTtl), "expected 0..255");
        }
    }

    /**
     * Reads the file named by the {@value #CONFIG_FILE} system property (if set), then system
     * properties, which override the file.
     *
     * @return the settings
     * @throws PeerLinkConfigurationException if the file cannot be read, or a key is missing or
     *         malformed
     */
    public static DeviceSettings load() {
        Map<String, String> merged = new HashMap<>();
        String file = System.getProperty(CONFIG_FILE);
        if (file != null) {
            merged.putAll(readFile(Path.of(file)));
        }
        for (String key : KEYS) {
            String value = System.getProperty(key);
            if (value != null) {
                merged.put(key, value);
            }
        }
        for (String key : System.getProperties().stringPropertyNames()) {
            if (key.startsWith(TRANSPORT_OPTION_PREFIX)) {
                merged.put(key, System.getProperty(key));
            }
        }
        return fromProperties(merged);
    }

    /**
     * Reads a properties file. Unknown {@code peerlink.*} keys are rejected: a misspelt key would
     * otherwise be ignored silently.
     *
     * @param file the file
     * @return its keys
     * @throws PeerLinkConfigurationException if it cannot be read or holds an unknown key
     */
    public static Map<String, String> readFile(Path file) {
        Properties properties = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            properties.load(in);
        } catch (IOException | IllegalArgumentException e) {
            throw new PeerLinkConfigurationException(CONFIG_FILE + "=" + file + ": cannot read the file: " + e.getMessage(), e);
        }
        Map<String, String> map = new HashMap<>();
        for (String key : properties.stringPropertyNames()) {
            if (key.startsWith("peerlink.") && !KEYS.contains(key) && !key.startsWith(TRANSPORT_OPTION_PREFIX)) {
                throw new PeerLinkConfigurationException(file + ": unknown key " + key + " (known: " + KEYS
                        + " and " + TRANSPORT_OPTION_PREFIX + "<n>.<option>)");
            }
            map.put(key, properties.getProperty(key).trim());
        }
        return map;
    }

    /**
     * @param properties the keys above; others are ignored
     * @return the settings
     * @throws PeerLinkConfigurationException if a key is missing or malformed
     */
    public static DeviceSettings fromProperties(Map<String, String> properties) {
        Objects.requireNonNull(properties, "properties");
        String identity = blankToNull(properties.get(IDENTITY));
        List<Endpoint> transports = endpoints(properties, TRANSPORTS);
        return new DeviceSettings(
                identity == null ? null : Path.of(identity),
                bool(properties, IDENTITY_EPHEMERAL) == Boolean.TRUE,
                uri(properties, RENDEZVOUS),
                blankToNull(properties.get(RENDEZVOUS_PIN)),
                address(properties, UDP),
                address(properties, STUN),
                bool(properties, HOST_CANDIDATES),
                duration(properties, CONNECT_TIMEOUT),
                ttl(properties, OPENER_TTL),
                transports,
                transportOptions(properties, transports.size()));
    }

    /** {@code peerlink.transports.<n>.<option>} keys, n = 1..count. */
    private static List<Map<String, String>> transportOptions(Map<String, String> properties, int count) {
        List<Map<String, String>> options = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            options.add(new HashMap<>());
        }
        for (Map.Entry<String, String> e : properties.entrySet()) {
            String key = e.getKey();
            if (!key.startsWith(TRANSPORT_OPTION_PREFIX)) {
                continue;
            }
            String rest = key.substring(TRANSPORT_OPTION_PREFIX.length());
            int dot = rest.indexOf('.');
            int n;
            try {
                n = dot <= 0 ? -1 : Integer.parseInt(rest.substring(0, dot));
            } catch (NumberFormatException ex) {
                n = -1;
            }
            if (n < 1 || dot == rest.length() - 1) {
                throw new PeerLinkConfigurationException(key + ": expected " + TRANSPORT_OPTION_PREFIX
                        + "<n>.<option name>, n counting the endpoints of " + TRANSPORTS + " from 1");
            }
            if (n > count) {
                throw new PeerLinkConfigurationException(key + ": " + TRANSPORTS + " has " + count + " endpoint"
                        + (count == 1 ? "" : "s") + ", so there is no transport " + n);
            }
            options.get(n - 1).put(rest.substring(dot + 1), e.getValue() == null ? "" : e.getValue().trim());
        }
        return options;
    }

    /**
     * @param builder a builder from {@code PeerLinks.device()}
     * @return the builder, configured
     * @throws PeerLinkConfigurationException if the runtime refuses a value (e.g. a malformed pin)
     */
    public Device.Builder applyTo(Device.Builder builder) {
        if (ephemeralIdentity) {
            builder.ephemeralIdentity();
        } else {
            builder.identity(identity);
        }
        if (rendezvous != null) {
            try {
                builder.rendezvous(rendezvous);
            } catch (IllegalArgumentException e) {
                throw new PeerLinkConfigurationException(RENDEZVOUS + "=" + rendezvous + ": " + e.getMessage(), e);
            }
        }
        if (rendezvousPin != null) {
            try {
                builder.rendezvousPin(rendezvousPin);
            } catch (IllegalArgumentException e) {
                throw new PeerLinkConfigurationException(RENDEZVOUS_PIN + "=" + rendezvousPin + ": " + e.getMessage(), e);
            }
        }
        if (udp != null) {
            builder.udp(udp);
        }
        for (int i = 0; i < transports.size(); i++) {
            Endpoint transport = transports.get(i);
            Map<String, String> options = transportOptions.get(i);
            if (options.isEmpty()) {
                builder.transport(transport);
            } else {
                builder.transport(transport, options);
            }
        }
        if (stun != null) {
            builder.stunServer(stun);
        }
        if (hostCandidates != null) {
            builder.hostCandidates(hostCandidates);
        }
        if (connectTimeout != null) {
            builder.connectTimeout(connectTimeout);
        }
        if (openerTtl != 0) {
            builder.openerTtl(openerTtl);
        }
        return builder;
    }

    private static PeerLinkConfigurationException missing(String key, String what) {
        return new PeerLinkConfigurationException("missing configuration key " + key + ": " + what + "; set it as a "
                + "system property or in the properties file named by the " + CONFIG_FILE + " system property");
    }

    private static String blankToNull(String value) {
        return value == null || value.isBlank() ? null : value.trim();
    }

    private static Boolean bool(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return null;
        }
        return switch (value) {
            case "true" -> Boolean.TRUE;
            case "false" -> Boolean.FALSE;
            default -> throw malformed(key, value, "expected true or false");
        };
    }

    private static URI uri(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return null;
        }
        try {
            URI uri = new URI(value);
            String scheme = uri.getScheme();
            if ("mqtt".equals(scheme) || "mqtts".equals(scheme)) {
                String path = uri.getRawPath();
                if (uri.getHost() == null || uri.getPort() < 0 || (path != null && !path.isEmpty())
                        || uri.getRawQuery() != null || uri.getRawFragment() != null || uri.getRawUserInfo() != null) {
                    throw malformed(key, value, "expected " + scheme + "://<broker host>:<port> (credentials go in the"
                            + " options of the device's MQTT transport to that broker)");
                }
                return uri;
            }
            if (!"ws".equals(scheme) && !"wss".equals(scheme)) {
                throw malformed(key, value, "expected a ws://, wss://, mqtt:// or mqtts:// URI");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw malformed(key, value, e.getMessage());
        }
    }

    private static Duration duration(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return null;
        }
        try {
            Duration d = Duration.parse(value);
            if (d.isNegative() || d.isZero()) {
                throw malformed(key, value, "expected a positive duration");
            }
            return d;
        } catch (DateTimeParseException e) {
            throw malformed(key, value, "expected an ISO-8601 duration such as PT10S");
        }
    }

    private static List<Endpoint> endpoints(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return List.of();
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (String part : value.split(",")) {
            try {
                endpoints.add(Endpoint.parse(part.trim()));
            } catch (IllegalArgumentException e) {
                throw malformed(key, value, e.getMessage());
            }
        }
        return endpoints;
    }

    private static int ttl(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return 0;
        }
        try {
            int ttl = Integer.parseInt(value);
            if (ttl < 0 || ttl > 255) {
                throw malformed(key, value, "expected 0..255");
            }
            return ttl;
        } catch (NumberFormatException e) {
            throw malformed(key, value, "expected 0..255");
        }
    }

    private static InetSocketAddress address(Map<String, String> properties, String key) {
        String value = blankToNull(properties.get(key));
        if (value == null) {
            return null;
        }
        int colon = value.lastIndexOf(':');
        if (colon <= 0 || colon == value.length() - 1) {
            throw malformed(key, value, "expected host:port, e.g. 0.0.0.0:0 or [::1]:0");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw malformed(key, value, "an IPv6 address must be in brackets, e.g. [::1]:0");
        }
        int port;
        try {
            port = Integer.parseInt(value.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw malformed(key, value, "the port is not a number");
        }
        if (port < 0 || port > 65_535) {
            throw malformed(key, value, "the port must be 0..65535");
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw malformed(key, value, "unknown host " + host);
        }
        return address;
    }

    private static PeerLinkConfigurationException malformed(String key, String value, String why) {
        return new PeerLinkConfigurationException(key + "=" + value + ": " + why);
    }
}
