package io.peerlink.server;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Configuration of a {@link ReferenceServer}; every value has an embedded default (in-memory
 * state, no external service). Build with {@link #builder()}.
 *
 * @param bindHost address to bind HTTP and STUN to (default {@code 0.0.0.0})
 * @param httpPort HTTP/WebSocket port (default 8080; 0 = ephemeral)
 * @param stunPort STUN UDP port (default 3478; 0 = ephemeral; -1 = no STUN server)
 * @param authenticator name of the {@link io.peerlink.spi.Authenticator} (default {@code allow-list})
 * @param allowListFile the allow-list file for {@code allow-list} (lines {@code deviceId [network]}, {@code #} comments), or null
 * @param open admit every device into network {@code default} (overrides {@code authenticator}); logs loud warnings
 * @param accessPolicy name of the {@link io.peerlink.spi.AccessPolicy} (default {@code same-network})
 * @param keepalive ping interval; devices silent for more than 3 intervals are removed (default 15 s)
 * @param limits per-connection limits
 * @param tls TLS for the control connection ({@code wss://}), or null for plain {@code ws://}
 * @param serverNames the names devices dial this server by (host names or IP literals, no port); a hello signed for
 *        another name is refused. Empty (the default): the literal addresses of this machine's interfaces and
 *        {@code localhost}, which protects only devices that dial an IP address
 * @param statusToken the bearer token {@code /status} and {@code /metrics} require, or null (the default) to serve neither
 * @param bridge the CoAP resource directory the server hosts
 * @param gateway the Socket.IO gateway endpoint (off by default)
 * @param mqtt the embedded MQTT broker (off by default)
 * @param relay the TURN relays introductions hand out (docs/relay.md)
 * @param settings plug-in and extension settings by full key ({@code authenticator.<name>.*}, {@code access-policy.<name>.*},
 *        {@code endpoint.<name>.*}); what {@link #plugin(String)} reads
 * @param redis shared presence and signalling for several nodes, or null (the default) for one node with in-memory
 *        state (docs/operations.md, "Several nodes on Redis")
 * @param tickets resumption tickets (docs/security.md, "Resumption tickets"); off by default in the builder
 */
public record ServerConfig(String bindHost, int httpPort, int stunPort, String authenticator, Path allowListFile,
                           boolean open, String accessPolicy, Duration keepalive, Limits limits, Tls tls,
                           List<String> serverNames, String statusToken, Bridge bridge, Gateway gateway, Mqtt mqtt,
                           Settings settings, Redis redis, Relay relay, Tickets tickets) {

    /**
     * Resumption tickets (docs/protocol-rendezvous.md, "Resumption tickets"): at admission a device gets a ticket
     * MACed with the server's ticket key, and later re-admits with an HMAC proof instead of an Ed25519 signature.
     *
     * @param enabled issue tickets and accept {@code resume}
     * @param keyFile the file holding the 32-byte ticket key (generated on first start with owner-only permissions),
     *        used when {@code secret} is null
     * @param secret a configured ticket secret (at least 32 characters; several nodes behind one name share it), or null
     * @param lifetime how long a ticket stays valid (1 min..30 days; default 24 h)
     */
    public record Tickets(boolean enabled, Path keyFile, String secret, Duration lifetime) {
        /** @throws IllegalArgumentException if a value is out of range or an enabled configuration has no key */
        public Tickets {
            Objects.requireNonNull(lifetime, "lifetime");
            if (lifetime.compareTo(Duration.ofMinutes(1)) < 0 || lifetime.compareTo(Duration.ofDays(30)) > 0) {
                throw new IllegalArgumentException("tickets.lifetime must be 1m..30d, got " + lifetime);
            }
            if (secret != null && secret.length() < 32) {
                throw new IllegalArgumentException("tickets.secret must have at least 32 characters");
            }
            if (enabled && keyFile == null && secret == null) {
                throw new IllegalArgumentException("tickets are enabled but neither tickets.key-file nor tickets.secret is set");
            }
        }

        /** @return no tickets (every admission verifies a signature) */
        public static Tickets disabled() {
            return new Tickets(false, null, null, Duration.ofHours(24));
        }

        /** @param keyFile where the ticket key lives (created if absent) @return tickets on, 24 h lifetime */
        public static Tickets withKeyFile(Path keyFile) {
            return new Tickets(true, Objects.requireNonNull(keyFile, "keyFile"), null, Duration.ofHours(24));
        }

        @Override
        public String toString() {
            return "Tickets[enabled=" + enabled + ", keyFile=" + keyFile + ", secret=" + (secret == null ? "none" : "***")
                    + ", lifetime=" + lifetime + "]";
        }
    }

    /**
     * The TURN relays introductions hand out (docs/relay.md).
     *
     * @param turnPort UDP and TCP port of the embedded TURN server (default 3479; unless set, ephemeral when the STUN
     *        port is and off when STUN is off; 0 = ephemeral; -1 = no embedded TURN server)
     * @param secret the embedded server's REST API shared secret (at least 16 characters), or null for a random one per start
     * @param realm the embedded server's realm (default {@code peerlink})
     * @param relayAddress the address the embedded server relays on and devices reach it at, or null for the bind address
     *        (the first non-loopback IPv4 interface address when bound to a wildcard)
     * @param allowLoopbackPeers let the embedded server relay to loopback peers (single-host setups and tests)
     * @param allowPrivatePeers let it relay to private, link-local and CGNAT peers (a LAN relay)
     * @param credentialLifetime how long credentials minted for a link stay valid (default 6 h; an allocation cannot be
     *        refreshed after)
     * @param external external TURN servers (coturn) with their shared secrets, handed out after the embedded one
     * @param maxBytesPerAllocation bytes one relayed link may move over its life, both directions (an embedded TURN
     *        allocation; a WebSocket-relayed device and peer), default 1 GiB
     * @param bytesPerSecondPerAllocation sustained rate of one relayed link (token bucket, one second of burst), default 8 MiB/s
     * @param allocationsPerDevice embedded TURN allocations one device may hold, and peers one device may relay with over
     *        its WebSocket at once, default 4
     * @param wsRelay relay sealed datagrams over the rendezvous WebSocket between introduced devices (default on)
     */
    public record Relay(int turnPort, String secret, String realm, String relayAddress, boolean allowLoopbackPeers,
                        boolean allowPrivatePeers, Duration credentialLifetime, List<ExternalTurn> external,
                        long maxBytesPerAllocation, long bytesPerSecondPerAllocation, int allocationsPerDevice, boolean wsRelay) {
        /** Default of {@link #maxBytesPerAllocation}: 1 GiB. */
        public static final long DEFAULT_MAX_BYTES = 1L << 30;
        /** Default of {@link #bytesPerSecondPerAllocation}: 8 MiB/s. */
        public static final long DEFAULT_BYTES_PER_SECOND = 8L << 20;
        /** Default of {@link #allocationsPerDevice}. */
        public static final int DEFAULT_ALLOCATIONS_PER_DEVICE = 4;

        /**
         * The relays with default limits and the WebSocket relay on.
         *
         * @param turnPort see the record
         * @param secret see the record
         * @param realm see the record
         * @param relayAddress see the record
         * @param allowLoopbackPeers see the record
         * @param allowPrivatePeers see the record
         * @param credentialLifetime see the record
         * @param external see the record
         */
        public Relay(int turnPort, String secret, String realm, String relayAddress, boolean allowLoopbackPeers,
                     boolean allowPrivatePeers, Duration credentialLifetime, List<ExternalTurn> external) {
            this(turnPort, secret, realm, relayAddress, allowLoopbackPeers, allowPrivatePeers, credentialLifetime, external,
                    DEFAULT_MAX_BYTES, DEFAULT_BYTES_PER_SECOND, DEFAULT_ALLOCATIONS_PER_DEVICE, true);
        }

        /** @throws IllegalArgumentException if a value is out of range */
        public Relay {
            if (maxBytesPerAllocation < 1 || bytesPerSecondPerAllocation < 1 || allocationsPerDevice < 1) {
                throw new IllegalArgumentException("relay limits must be positive: bytes " + maxBytesPerAllocation + ", bytes/s "
                        + bytesPerSecondPerAllocation + ", allocations per device " + allocationsPerDevice);
            }
            Objects.requireNonNull(realm, "realm");
            Objects.requireNonNull(credentialLifetime, "credentialLifetime");
            external = List.copyOf(Objects.requireNonNull(external, "external"));
            if (turnPort < -1 || turnPort > 65535) {
                throw new IllegalArgumentException("turnPort out of range: " + turnPort);
            }
            if (secret != null && secret.length() < 16) {
                throw new IllegalArgumentException("the TURN secret must have at least 16 characters");
            }
            if (credentialLifetime.toSeconds() < 60 || credentialLifetime.toDays() > 7) {
                throw new IllegalArgumentException("credentialLifetime must be 1 min..7 days: " + credentialLifetime);
            }
        }

        @Override
        public String toString() {
            return "Relay[turnPort=" + turnPort + ", secret=" + (secret == null ? "random" : "***") + ", realm=" + realm
                    + ", relayAddress=" + relayAddress + ", loopbackPeers=" + allowLoopbackPeers + ", privatePeers=" + allowPrivatePeers
                    + ", credentialLifetime=" + credentialLifetime + ", external=" + external + ", maxBytesPerAllocation="
                    + maxBytesPerAllocation + ", bytesPerSecondPerAllocation=" + bytesPerSecondPerAllocation
                    + ", allocationsPerDevice=" + allocationsPerDevice + ", wsRelay=" + wsRelay + "]";
        }
    }

    /**
     * An external TURN server (e.g. coturn with {@code --use-auth-secret --static-auth-secret=<secret>}).
     *
     * @param uris its TURN URIs with IP literals, e.g. {@code turn:203.0.113.5:3478?transport=udp},
     *        {@code turn:203.0.113.5:3478?transport=tcp}, {@code turns:203.0.113.5:5349?transport=tcp}
     * @param secret its static auth secret
     */
    public record ExternalTurn(List<String> uris, String secret) {
        /** @throws IllegalArgumentException if a URI is not a TURN URI with an IP literal, or the secret is empty */
        public ExternalTurn {
            uris = List.copyOf(Objects.requireNonNull(uris, "uris"));
            Objects.requireNonNull(secret, "secret");
            if (uris.isEmpty() || secret.isEmpty()) {
                throw new IllegalArgumentException("an external TURN server needs at least one URI and its secret");
            }
            for (String u : uris) {
                try {
                    new io.peerlink.protocol.rendezvous.RelayServer(u, "0:x", "x");
                } catch (RuntimeException e) {
                    throw new IllegalArgumentException("bad TURN URI '" + u + "': " + e.getMessage(), e);
                }
            }
        }

        @Override
        public String toString() {
            return "ExternalTurn[" + uris + ", secret=***]";
        }
    }


    /**
     * Where plug-in settings come from: a full key to its value. The command line's loader
     * ({@link ServerSettings}) layers flags over environment over file; embedders pass a map.
     */
    @FunctionalInterface
    public interface Settings {
        /**
         * @param fullKey e.g. {@code authenticator.hmac-file.secrets}
         * @return its value, or empty
         */
        java.util.Optional<String> get(String fullKey);

        /** @return settings with no value at all */
        static Settings none() {
            return key -> java.util.Optional.empty();
        }
    }

    /**
     * The Socket.IO gateway platform (module peerlink-gateway, docs/gateway.md) mounted on the HTTP port.
     *
     * @param enabled whether to mount it (default false)
     * @param contextPath where it is mounted (default {@code /socket.io})
     * @param keysFile the gateways' credentials, lines {@code <gatewayId> hmac-sha256|ed25519 <base64>}; required when enabled
     * @param datagramRelay also serve the {@code /relay} namespace for the Socket.IO transport (default false)
     * @param heartbeat the heartbeat interval gateways are told (default 30 s)
     */
    public record Gateway(boolean enabled, String contextPath, Path keysFile, boolean datagramRelay, Duration heartbeat) {
        /** @throws IllegalArgumentException if a value is invalid */
        public Gateway {
            Objects.requireNonNull(contextPath, "contextPath");
            Objects.requireNonNull(heartbeat, "heartbeat");
            if (!contextPath.startsWith("/") || contextPath.length() < 2) {
                throw new IllegalArgumentException("gateway.path must start with '/' and not be '/': " + contextPath);
            }
            if (enabled && keysFile == null) {
                throw new IllegalArgumentException("gateway.enabled needs gateway.keys (a file of gateway credentials)");
            }
            if (heartbeat.toMillis() < 100) {
                throw new IllegalArgumentException("gateway.heartbeat must be at least 100ms: " + heartbeat);
            }
        }

        /** @return off, at {@code /socket.io}, 30 s heartbeats */
        public static Gateway defaults() {
            return new Gateway(false, "/socket.io", null, false, Duration.ofSeconds(30));
        }
    }

    /**
     * The embedded MQTT 3.1.1 broker (Moquette, module peerlink-mqtt-moquette): devices log in with a
     * signed identity token, admitted by this server's authenticator.
     *
     * @param port TCP port (default -1: no broker; 0 = ephemeral; 1883 is MQTT's)
     * @param dataDirectory where sessions and queued messages persist, or null for memory only
     * @param audience what login tokens must be signed for, or null for {@code mqtt://<bind host>:<port>}
     */
    public record Mqtt(int port, Path dataDirectory, String audience) {
        /** @throws IllegalArgumentException if the port is out of range */
        public Mqtt {
            if (port < -1 || port > 65535) {
                throw new IllegalArgumentException("mqtt.port out of range: " + port);
            }
        }

        /** @return no broker */
        public static Mqtt defaults() {
            return new Mqtt(-1, null, null);
        }
    }

    /**
     * The configuration of one plug-in or extension: the values under {@code prefix}. The allow-list
     * file ({@link #allowListFile()}) is also readable as {@code authenticator.allow-list.file}.
     *
     * @param prefix e.g. {@code authenticator.hmac-file.}
     * @return its configuration
     */
    public io.peerlink.spi.PluginConfig plugin(String prefix) {
        Settings s = settings;
        Path list = allowListFile;
        return io.peerlink.spi.PluginConfig.of(prefix, key -> {
            if (list != null && ALLOW_LIST_FILE_KEY.equals(key)) {
                return java.util.Optional.of(list.toString());
            }
            return s.get(key);
        }, null);
    }

    /** The setting the allow-list authenticator reads its file from. */
    public static final String ALLOW_LIST_FILE_KEY = "authenticator.allow-list.file";

    /**
     * Several reference-server nodes behind one name, sharing presence and routing introductions
     * through one Redis (docs/operations.md, "Several nodes on Redis").
     *
     * @param uri the Redis URI, e.g. {@code redis://redis.internal:6379/0} or {@code rediss://:password@host:6380}
     * @param keyPrefix prefix of every key and channel, so several deployments can share one Redis (default {@code peerlink:})
     */
    public record Redis(java.net.URI uri, String keyPrefix) {
        /** @throws IllegalArgumentException if the URI is not a redis:// or rediss:// URI */
        public Redis {
            Objects.requireNonNull(uri, "uri");
            Objects.requireNonNull(keyPrefix, "keyPrefix");
            if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
                // Not the URI itself: it may carry a password.
                throw new IllegalArgumentException("the Redis URI must start with redis:// or rediss://, not '" + uri.getScheme() + ":'");
            }
            if (uri.getHost() == null) {
                throw new IllegalArgumentException("the Redis URI has no host (redis://host:6379)");
            }
        }

        /** @param uri the Redis URI @return the configuration with the default key prefix {@code peerlink:} */
        public static Redis of(String uri) {
            return new Redis(java.net.URI.create(uri), "peerlink:");
        }

        @Override
        public String toString() {
            // The URI may carry a password.
            return "Redis[" + uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort() + ", keyPrefix=" + keyPrefix + "]";
        }
    }

    /**
     * The hosted ResourceBridge (module peerlink-bridge): a CoAP resource directory.
     *
     * @param coapPort UDP port of the CoAP endpoint (default 5683, CoAP's; 0 = ephemeral; -1 = no bridge)
     * @param storage database file that keeps registrations across restarts, or null for memory only
     * @param descriptions directory of OpenAPI 3 / RAML 1.0 web-service descriptions exposed as virtual
     *        resources, or null for none
     * @param secretsFile properties file of secrets the descriptions ask for ({@code <service>.<scheme>=value}),
     *        or null for none
     */
    public record Bridge(int coapPort, Path storage, Path descriptions, Path secretsFile) {
        /** @throws IllegalArgumentException if the port is out of range */
        public Bridge {
            if (coapPort < -1 || coapPort > 65535) {
                throw new IllegalArgumentException("coapPort out of range: " + coapPort);
            }
        }

        /** @return the defaults: CoAP on 5683, registrations in memory */
        public static Bridge defaults() {
            return new Bridge(5683, null, null, null);
        }
    }

    /**
     * TLS from a PKCS#12 key store holding one private key and its certificate chain.
     *
     * @param keyStore the PKCS#12 file
     * @param password its password (also the key's)
     */
    public record Tls(Path keyStore, String password) {
        /** @throws NullPointerException if an argument is null */
        public Tls {
            Objects.requireNonNull(keyStore, "keyStore");
            Objects.requireNonNull(password, "password");
        }

        @Override
        public String toString() {
            return "Tls[keyStore=" + keyStore + ", password=***]";
        }
    }

    /**
     * Per-connection limits.
     *
     * @param maxMessageBytes largest control message accepted (default 64 KiB)
     * @param messagesPerSecond sustained messages per connection (default 50)
     * @param messageBurst burst allowance (default 100)
     * @param helloTimeout time allowed between challenge and hello (default 10 s)
     * @param connectTimeout time a target has to accept or reject (default 15 s)
     * @param startMargin slack added to the synchronised start so both sides can act on the introduction (default 50 ms)
     * @param maxQueuedBytes bytes queued for one control connection that the device has not read yet; beyond this the
     *        server closes the connection as a slow reader (default 1 MiB)
     * @param maxConnections open TCP connections to the HTTP port in total; more are closed at once (default 20,000)
     * @param maxConnectionsPerAddress open TCP connections from one IP address; more are closed at once (default 64)
     * @param stunPerSourcePerSecond STUN answers per source IP address and second, burst twice that; more requests are
     *        dropped unanswered (default 20)
     */
    public record Limits(int maxMessageBytes, int messagesPerSecond, int messageBurst, Duration helloTimeout,
                         Duration connectTimeout, Duration startMargin, int maxQueuedBytes, int maxConnections,
                         int maxConnectionsPerAddress, int stunPerSourcePerSecond) {
        /** @throws IllegalArgumentException if a value is out of range */
        public Limits {
            if (maxMessageBytes < 1024 || maxMessageBytes > 1 << 20) {
                throw new IllegalArgumentException("maxMessageBytes must be 1 KiB..1 MiB: " + maxMessageBytes);
            }
            if (messagesPerSecond < 1 || messageBurst < 1) {
                throw new IllegalArgumentException("rate limits must be positive");
            }
            Objects.requireNonNull(helloTimeout, "helloTimeout");
            Objects.requireNonNull(connectTimeout, "connectTimeout");
            Objects.requireNonNull(startMargin, "startMargin");
            if (maxQueuedBytes < maxMessageBytes) {
                throw new IllegalArgumentException("maxQueuedBytes must be at least maxMessageBytes: " + maxQueuedBytes);
            }
            if (maxConnections < 1 || maxConnectionsPerAddress < 1 || stunPerSourcePerSecond < 1) {
                throw new IllegalArgumentException("connection and STUN limits must be positive");
            }
        }

        /** @return the defaults */
        public static Limits defaults() {
            return new Limits(64 * 1024, 50, 100, Duration.ofSeconds(10), Duration.ofSeconds(15), Duration.ofMillis(50),
                    1 << 20, 20_000, 64, 20);
        }

        /** @param v connect timeout @return a copy with it */
        public Limits withConnectTimeout(Duration v) {
            return new Limits(maxMessageBytes, messagesPerSecond, messageBurst, helloTimeout, v, startMargin, maxQueuedBytes,
                    maxConnections, maxConnectionsPerAddress, stunPerSourcePerSecond);
        }

        /** @param perSecond messages per second @param burst burst @return a copy with them */
        public Limits withMessageRate(int perSecond, int burst) {
            return new Limits(maxMessageBytes, perSecond, burst, helloTimeout, connectTimeout, startMargin, maxQueuedBytes,
                    maxConnections, maxConnectionsPerAddress, stunPerSourcePerSecond);
        }

        /** @param v bytes @return a copy with this queue bound */
        public Limits withMaxQueuedBytes(int v) {
            return new Limits(maxMessageBytes, messagesPerSecond, messageBurst, helloTimeout, connectTimeout, startMargin, v,
                    maxConnections, maxConnectionsPerAddress, stunPerSourcePerSecond);
        }

        /** @param total in total @param perAddress per IP address @return a copy with these connection caps */
        public Limits withConnectionCaps(int total, int perAddress) {
            return new Limits(maxMessageBytes, messagesPerSecond, messageBurst, helloTimeout, connectTimeout, startMargin,
                    maxQueuedBytes, total, perAddress, stunPerSourcePerSecond);
        }

        /** @param v answers per source and second @return a copy with it */
        public Limits withStunPerSourcePerSecond(int v) {
            return new Limits(maxMessageBytes, messagesPerSecond, messageBurst, helloTimeout, connectTimeout, startMargin,
                    maxQueuedBytes, maxConnections, maxConnectionsPerAddress, v);
        }
    }

    /** @throws IllegalArgumentException if a value is out of range */
    public ServerConfig {
        Objects.requireNonNull(bindHost, "bindHost");
        Objects.requireNonNull(authenticator, "authenticator");
        Objects.requireNonNull(accessPolicy, "accessPolicy");
        Objects.requireNonNull(keepalive, "keepalive");
        Objects.requireNonNull(limits, "limits");
        Objects.requireNonNull(bridge, "bridge");
        Objects.requireNonNull(gateway, "gateway");
        Objects.requireNonNull(mqtt, "mqtt");
        Objects.requireNonNull(settings, "settings");
        Objects.requireNonNull(relay, "relay");
        if (httpPort < 0 || httpPort > 65535) {
            throw new IllegalArgumentException("httpPort out of range: " + httpPort);
        }
        if (stunPort < -1 || stunPort > 65535) {
            throw new IllegalArgumentException("stunPort out of range: " + stunPort);
        }
        if (keepalive.toMillis() < 100 || keepalive.toSeconds() > 3600) {
            throw new IllegalArgumentException("keepalive must be 100 ms..1 h: " + keepalive);
        }
        serverNames = List.copyOf(Objects.requireNonNull(serverNames, "serverNames"));
        if (statusToken != null && statusToken.length() < 16) {
            throw new IllegalArgumentException("the status token must have at least 16 characters");
        }
    }

    @Override
    public String toString() {
        return "ServerConfig[bindHost=" + bindHost + ", httpPort=" + httpPort + ", stunPort=" + stunPort + ", authenticator="
                + effectiveAuthenticator() + ", accessPolicy=" + accessPolicy + ", tls=" + tls + ", serverNames=" + serverNames
                + ", statusToken=" + (statusToken == null ? "none" : "***") + ", redis=" + (redis == null ? "none" : redis) + "]";
    }

    /** @return the authenticator actually used: {@code open} in open mode */
    public String effectiveAuthenticator() {
        return open ? "open" : authenticator;
    }

    /** @return a builder with every default set */
    public static Builder builder() {
        return new Builder();
    }

    /** Builds a {@link ServerConfig}; validation happens in {@link #build()}. */
    public static final class Builder {
        private String bindHost = "0.0.0.0";
        private int httpPort = 8080;
        private int stunPort = 3478;
        private String authenticator = "allow-list";
        private Path allowListFile;
        private boolean open;
        private String accessPolicy = "same-network";
        private Duration keepalive = Duration.ofSeconds(15);
        private Limits limits = Limits.defaults();
        private Tls tls;
        private List<String> serverNames = List.of();
        private String statusToken;
        private int coapPort = Bridge.defaults().coapPort();
        private Path rdStorage;
        private Path wsDescriptions;
        private Path wsSecrets;
        private Gateway gateway = Gateway.defaults();
        private Mqtt mqtt = Mqtt.defaults();
        private Settings settings = Settings.none();
        private Redis redis;
        private Integer turnPort;
        private String turnSecret;
        private String turnRealm = "peerlink";
        private String turnRelayAddress;
        private boolean turnLoopbackPeers;
        private boolean turnPrivatePeers;
        private Duration turnCredentialLifetime = Duration.ofHours(6);
        private List<ExternalTurn> externalTurn = List.of();
        private Tickets tickets = Tickets.disabled();
        private long relayMaxBytes = Relay.DEFAULT_MAX_BYTES;
        private long relayBytesPerSecond = Relay.DEFAULT_BYTES_PER_SECOND;
        private int relayAllocationsPerDevice = Relay.DEFAULT_ALLOCATIONS_PER_DEVICE;
        private boolean wsRelay = true;

        private Builder() {
        }

        /** @param v resumption tickets ({@link Tickets#disabled()} by default) @return this */
        public Builder tickets(Tickets v) {
            tickets = Objects.requireNonNull(v, "tickets");
            return this;
        }

        /** @param v embedded TURN port (UDP and TCP), 0 for ephemeral, -1 for none; default 3479, or the STUN port's 0/-1 @return this */
        public Builder turnPort(int v) {
            turnPort = v;
            return this;
        }

        /** @param v the embedded TURN server's shared secret, or null for a random one per start @return this */
        public Builder turnSecret(String v) {
            turnSecret = v;
            return this;
        }

        /** @param v the embedded TURN server's realm @return this */
        public Builder turnRealm(String v) {
            turnRealm = v;
            return this;
        }

        /** @param v the address the embedded TURN server relays on and is reached at, or null for the default @return this */
        public Builder turnRelayAddress(String v) {
            turnRelayAddress = v;
            return this;
        }

        /** @param v let the embedded TURN server relay to loopback peers (tests, one-host setups) @return this */
        public Builder turnAllowLoopbackPeers(boolean v) {
            turnLoopbackPeers = v;
            return this;
        }

        /** @param v let the embedded TURN server relay to private-address peers @return this */
        public Builder turnAllowPrivatePeers(boolean v) {
            turnPrivatePeers = v;
            return this;
        }

        /** @param v lifetime of the credentials minted per link @return this */
        public Builder turnCredentialLifetime(Duration v) {
            turnCredentialLifetime = v;
            return this;
        }

        /**
         * @param maxBytes bytes one relayed link may move over its life (TURN allocation, WebSocket-relayed peer)
         * @param bytesPerSecond sustained rate of one relayed link
         * @param perDevice TURN allocations / WebSocket-relayed peers one device may have at once
         * @return this
         */
        public Builder relayLimits(long maxBytes, long bytesPerSecond, int perDevice) {
            relayMaxBytes = maxBytes;
            relayBytesPerSecond = bytesPerSecond;
            relayAllocationsPerDevice = perDevice;
            return this;
        }

        /** @param v relay sealed datagrams over the rendezvous WebSocket (default true) @return this */
        public Builder wsRelay(boolean v) {
            wsRelay = v;
            return this;
        }

        /** @param v external TURN servers handed out after (or, with turnPort -1, instead of) the embedded one @return this */
        public Builder externalTurn(List<ExternalTurn> v) {
            externalTurn = v;
            return this;
        }


        /** @param v TLS for wss://, or null for ws:// @return this */
        public Builder tls(Tls v) {
            tls = v;
            return this;
        }

        /** @param v the names devices dial this server by @return this */
        public Builder serverNames(List<String> v) {
            serverNames = v;
            return this;
        }

        /** @param v bearer token for /status (at least 16 characters), or null to not serve /status @return this */
        public Builder statusToken(String v) {
            statusToken = v;
            return this;
        }

        /** @param v bind address @return this */
        public Builder bindHost(String v) {
            bindHost = v;
            return this;
        }

        /** @param v HTTP port, 0 for ephemeral @return this */
        public Builder httpPort(int v) {
            httpPort = v;
            return this;
        }

        /** @param v STUN port, 0 for ephemeral, -1 for none @return this */
        public Builder stunPort(int v) {
            stunPort = v;
            return this;
        }

        /** @param v authenticator name @return this */
        public Builder authenticator(String v) {
            authenticator = v;
            return this;
        }

        /** @param v allow-list file @return this */
        public Builder allowListFile(Path v) {
            allowListFile = v;
            return this;
        }

        /** @param v open mode @return this */
        public Builder open(boolean v) {
            open = v;
            return this;
        }

        /** @param v access policy name @return this */
        public Builder accessPolicy(String v) {
            accessPolicy = v;
            return this;
        }

        /** @param v keepalive interval @return this */
        public Builder keepalive(Duration v) {
            keepalive = v;
            return this;
        }

        /** @param v limits @return this */
        public Builder limits(Limits v) {
            limits = v;
            return this;
        }

        /** @param v CoAP port of the hosted resource directory, 0 for ephemeral, -1 for none @return this */
        public Builder coapPort(int v) {
            coapPort = v;
            return this;
        }

        /** @param v database file keeping directory registrations across restarts; null for memory @return this */
        public Builder rdStorage(Path v) {
            rdStorage = v;
            return this;
        }

        /** @param v directory of web-service descriptions for virtual resources; null for none @return this */
        public Builder wsDescriptions(Path v) {
            wsDescriptions = v;
            return this;
        }

        /** @param v properties file with the secrets the descriptions need; null for none @return this */
        public Builder wsSecrets(Path v) {
            wsSecrets = v;
            return this;
        }

        /** @param v the Socket.IO gateway endpoint @return this */
        public Builder gateway(Gateway v) {
            gateway = Objects.requireNonNull(v, "gateway");
            return this;
        }

        /** @param v the embedded MQTT broker @return this */
        public Builder mqtt(Mqtt v) {
            mqtt = Objects.requireNonNull(v, "mqtt");
            return this;
        }

        /** @param v where plug-in settings come from @return this */
        public Builder settings(Settings v) {
            settings = Objects.requireNonNull(v, "settings");
            return this;
        }

        /** @param v plug-in settings by full key (copied) @return this */
        public Builder settings(java.util.Map<String, String> v) {
            java.util.Map<String, String> copy = java.util.Map.copyOf(v);
            settings = key -> java.util.Optional.ofNullable(copy.get(key));
            return this;
        }

        /** @param v shared presence and signalling through Redis, or null for one node in memory @return this */
        public Builder redis(Redis v) {
            redis = v;
            return this;
        }

        /**
         * @return the configuration
         * @throws IllegalArgumentException if a value is invalid
         */
        public ServerConfig build() {
            return new ServerConfig(bindHost, httpPort, stunPort, authenticator, allowListFile, open, accessPolicy, keepalive, limits,
                    tls, serverNames, statusToken, new Bridge(coapPort, rdStorage, wsDescriptions, wsSecrets), gateway, mqtt,
                    settings, redis, new Relay(turnPort != null ? turnPort : stunPort <= 0 ? stunPort : 3479, turnSecret, turnRealm,
                            turnRelayAddress, turnLoopbackPeers, turnPrivatePeers, turnCredentialLifetime, externalTurn,
                            relayMaxBytes, relayBytesPerSecond, relayAllocationsPerDevice, wsRelay), tickets);
        }
    }
}
