package io.peerlink.cli;

import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerConfigException;
import io.peerlink.server.ServerSettings;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code peerlink server}: runs the reference server until interrupted. Settings come from flags,
 * then {@code PEERLINK_*} environment variables, then the configuration file, then the defaults
 * (docs/operations.md, "Configuration").
 */
@Command(name = "server", description = "Run the reference server (rendezvous over WebSocket, STUN, CoAP resource directory;"
        + " optionally the Socket.IO gateway and an MQTT broker).%nSettings: flag > environment (PEERLINK_<KEY>) > file"
        + " (--config, PEERLINK_CONFIG or ./peerlink-server.properties) > default. List the keys with --keys.",
        footer = "%nEvery key can also be given as --set key=value or as PEERLINK_<KEY with . and - as _>.")
final class ServerCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--config", description = "Configuration file (Java properties). Default: $PEERLINK_CONFIG, else "
            + "./peerlink-server.properties if it exists")
    Path configFile;

    @Option(names = "--keys", description = "Print every configuration key with its default and exit")
    boolean printKeys;

    @Option(names = "--set", description = "Any key: --set key=value (repeatable), e.g. --set gateway.enabled=true")
    Map<String, String> set = new LinkedHashMap<>();

    @Option(names = "--host", description = "Bind address (host). Default: 0.0.0.0")
    String host;

    @Option(names = "--http-port", description = "HTTP/WebSocket port (http.port). Default: 8080")
    Integer httpPort;

    @Option(names = "--stun-port", description = "STUN UDP port, -1 for none (stun.port). Default: 3478")
    Integer stunPort;

    @Option(names = "--turn-port", description = "UDP and TCP port of the embedded TURN relay, -1 for none (turn.port). "
            + "Default: 3479, or stun.port's 0/-1")
    Integer turnPort;

    @Option(names = "--turn-secret-env", description = "Environment variable holding the embedded TURN server's shared "
            + "secret, >= 16 characters (turn.secret). Default: a random secret per start")
    String turnSecretEnv;

    @Option(names = "--turn-relay-address", description = "Address the embedded TURN server relays on and devices reach it "
            + "at (turn.relay-address). Default: --host, or this machine's first IPv4 address when --host is a wildcard")
    String turnRelayAddress;

    @Option(names = "--turn-allow-private-peers", description = "Let the embedded TURN server relay to private addresses (turn.allow-private-peers)")
    Boolean turnPrivatePeers;

    @Option(names = "--turn-allow-loopback-peers", description = "Let the embedded TURN server relay to loopback (turn.allow-loopback-peers)")
    Boolean turnLoopbackPeers;

    @Option(names = "--external-turn", paramLabel = "URIS@SECRET_ENV", description = "An external TURN server (coturn with "
            + "--use-auth-secret): comma-separated TURN URIs, '@', and the environment variable holding its static auth "
            + "secret, e.g. 'turn:203.0.113.5:3478?transport=udp,turn:203.0.113.5:3478?transport=tcp@COTURN_SECRET'. "
            + "Repeatable (turn.external)")
    List<String> externalTurn;

    @Option(names = "--coap-port", description = "CoAP UDP port of the resource directory, -1 for none (coap.port). Default: 5683")
    Integer coapPort;

    @Option(names = "--rd-storage", description = "Database file that keeps directory registrations across restarts "
            + "(coap.storage; default: memory only)")
    Path rdStorage;

    @Option(names = "--ws-descriptions", description = "Directory of OpenAPI 3 / RAML 1.0 descriptions: each web "
            + "service becomes virtual CoAP resources under /ws/<service>/ (coap.ws-descriptions)")
    Path wsDescriptions;

    @Option(names = "--ws-secrets", description = "Properties file with the API keys the descriptions need "
            + "(<service>.<scheme>=value; coap.ws-secrets); keep it readable by the server's user only")
    Path wsSecrets;

    @Option(names = "--allow-list", description = "Allow-list file: lines 'deviceId [network]' (authenticator.allow-list.file)")
    Path allowList;

    @Option(names = "--open", description = "Admit every device (open; demos only; logs a loud warning)")
    Boolean open;

    @Option(names = "--tls-keystore", description = "PKCS#12 key store: serve wss:// instead of ws:// (tls.keystore)")
    Path tlsKeyStore;

    @Option(names = "--tls-password-env", description = "Environment variable holding the key store password. "
            + "Default: PEERLINK_TLS_PASSWORD (the tls.password key)")
    String tlsPasswordEnv;

    @Option(names = "--server-name", split = ",", description = "Names devices dial this server by (server.names; default: this machine's addresses)")
    List<String> serverNames;

    @Option(names = "--status-token-env", description = "Serve /status and /metrics (Prometheus) to holders of the bearer token"
            + " in this environment variable (default: PEERLINK_STATUS_TOKEN, the status.token key)")
    String statusTokenEnv;

    @Option(names = "--max-connections-per-address", description = "Open control connections per IP address "
            + "(limits.max-connections-per-address). Default: 64")
    Integer perAddress;

    @Option(names = "--gateway-keys", description = "Mount the Socket.IO gateway with these gateway credentials "
            + "(gateway.enabled=true, gateway.keys)")
    Path gatewayKeys;

    @Option(names = "--mqtt-port", description = "Run the embedded MQTT broker on this TCP port (mqtt.port; -1: off, the default)")
    Integer mqttPort;

    @Option(names = "--redis", description = "Run as one of several nodes sharing presence through this Redis (redis.uri;"
            + " redis://host:6379, rediss://:password@host; default: one node in memory)")
    String redisUri;

    @Option(names = "--redis-key-prefix", description = "Prefix of the keys and channels in Redis (redis.key-prefix). Default: peerlink:")
    String redisKeyPrefix;

    /** @return the flags given, by configuration key */
    Map<String, String> flags(Map<String, String> env) {
        Map<String, String> f = new LinkedHashMap<>(set);
        put(f, "host", host);
        put(f, "http.port", httpPort);
        put(f, "stun.port", stunPort);
        put(f, "coap.port", coapPort);
        put(f, "turn.port", turnPort);
        put(f, "turn.relay-address", turnRelayAddress);
        put(f, "turn.allow-private-peers", turnPrivatePeers);
        put(f, "turn.allow-loopback-peers", turnLoopbackPeers);
        if (externalTurn != null) {
            f.put("turn.external", String.join(";", externalTurn));
        }
        if (turnSecretEnv != null) {
            String secret = env.get(turnSecretEnv);
            if (secret == null || secret.length() < 16) {
                throw new CommandLine.ParameterException(spec.commandLine(), "set " + turnSecretEnv
                        + " to the TURN secret (at least 16 characters)");
            }
            f.put("turn.secret", secret);
        }
        put(f, "coap.storage", rdStorage);
        put(f, "coap.ws-descriptions", wsDescriptions);
        put(f, "coap.ws-secrets", wsSecrets);
        put(f, "authenticator.allow-list.file", allowList);
        put(f, "open", open);
        put(f, "tls.keystore", tlsKeyStore);
        if (serverNames != null) {
            f.put("server.names", String.join(",", serverNames));
        }
        put(f, "limits.max-connections-per-address", perAddress);
        if (gatewayKeys != null) {
            f.put("gateway.enabled", "true");
            f.put("gateway.keys", gatewayKeys.toString());
        }
        put(f, "mqtt.port", mqttPort);
        put(f, "redis.uri", redisUri);
        put(f, "redis.key-prefix", redisKeyPrefix);
        if (tlsPasswordEnv != null) {
            String password = env.get(tlsPasswordEnv);
            if (password == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--tls-password-env names " + tlsPasswordEnv
                        + ", which is not set");
            }
            f.put("tls.password", password);
        }
        if (statusTokenEnv != null) {
            String token = env.get(statusTokenEnv);
            if (token == null || token.length() < 16) {
                throw new CommandLine.ParameterException(spec.commandLine(), "set " + statusTokenEnv
                        + " to a token of at least 16 characters for /status");
            }
            f.put("status.token", token);
        }
        return f;
    }

    private static void put(Map<String, String> f, String key, Object value) {
        if (value != null) {
            f.put(key, value.toString());
        }
    }

    /**
     * @param env the environment
     * @return the configuration from flags, environment, file and defaults
     * @throws CommandLine.ParameterException with the one-line reason when a value is wrong
     */
    ServerConfig config(Map<String, String> env) {
        try {
            return ServerSettings.load(configFile, flags(env), env);
        } catch (ServerConfigException e) {
            throw new CommandLine.ParameterException(spec.commandLine(), e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        if (printKeys) {
            System.out.print(ServerSettings.describeKeys());
            return 0;
        }
        ServerConfig config = config(System.getenv());
        if (config.allowListFile() != null && !Files.isReadable(config.allowListFile())) {
            throw new CommandLine.ParameterException(spec.commandLine(), "cannot read the allow-list " + config.allowListFile()
                    + " (create it with one 'deviceId [network]' per line)");
        }
        if ("allow-list".equals(config.effectiveAuthenticator()) && config.allowListFile() == null) {
            // Embedded defaults: everything is served (STUN, the resource directory, the control
            // endpoint), but no device is admitted until the operator says which ones may be.
            System.err.println("warning: admitting no devices: pass --allow-list FILE (lines 'deviceId [network]') or --open (trusted lab only)");
            System.err.flush();
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        try (ReferenceServer server = ReferenceServer.start(config)) {
            // The JVM halts once its shutdown hooks return: this one waits for close() (which first tells
            // every device to reconnect, close code 1012) so SIGTERM is a graceful shutdown.
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                stop.countDown();
                try {
                    stopped.await(10, java.util.concurrent.TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }));
            System.out.println("server " + server.controlUri() + " stun " + server.stunAddress()
                    + (server.serverPin() == null ? "" : " pin " + server.serverPin())
                    + " coap " + server.coapEndpoint()
                    + " turn " + (server.turnServer() == null ? "off" : server.turnServer().udpAddress())
                    + (server.gatewayPlatform() == null ? "" : " gateway " + server.httpUri() + config.gateway().contextPath())
                    + (server.mqttPort() < 0 ? "" : " mqtt " + server.mqttPort()));
            System.out.flush();
            stop.await();
        } finally {
            stopped.countDown();
        }
        return 0;
    }
}
