package io.peerlink.cli;

import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code peerlink server}: runs the reference server until interrupted. */
@Command(name = "server", description = "Run the reference server (rendezvous over WebSocket, STUN, CoAP resource directory).")
final class ServerCommand implements Callable<Integer> {

    @CommandLine.Spec
    CommandLine.Model.CommandSpec spec;

    @Option(names = "--host", description = "Bind address. Default: ${DEFAULT-VALUE}", defaultValue = "0.0.0.0")
    String host;

    @Option(names = "--http-port", description = "HTTP/WebSocket port. Default: ${DEFAULT-VALUE}", defaultValue = "8080")
    int httpPort;

    @Option(names = "--stun-port", description = "STUN UDP port. Default: ${DEFAULT-VALUE}", defaultValue = "3478")
    int stunPort;

    @Option(names = "--turn-port", description = "UDP and TCP port of the embedded TURN relay (-1: off; 0: ephemeral). "
            + "Default: 3479, or ephemeral when --stun-port is 0")
    Integer turnPort;

    @Option(names = "--turn-secret-env", description = "Environment variable holding the embedded TURN server's shared "
            + "secret (>= 16 characters). Default: a random secret per start")
    String turnSecretEnv;

    @Option(names = "--turn-relay-address", description = "Address the embedded TURN server relays on and devices reach it "
            + "at. Default: --host, or this machine's first IPv4 address when --host is a wildcard")
    String turnRelayAddress;

    @Option(names = "--turn-allow-private-peers", description = "Let the embedded TURN server relay to private addresses (a LAN relay)")
    boolean turnPrivatePeers;

    @Option(names = "--turn-allow-loopback-peers", description = "Let the embedded TURN server relay to loopback (one-host setups)")
    boolean turnLoopbackPeers;

    @Option(names = "--external-turn", paramLabel = "URIS@SECRET_ENV", description = "An external TURN server (coturn with "
            + "--use-auth-secret): comma-separated TURN URIs, '@', and the environment variable holding its static auth "
            + "secret, e.g. 'turn:203.0.113.5:3478?transport=udp,turn:203.0.113.5:3478?transport=tcp@COTURN_SECRET'. Repeatable")
    List<String> externalTurn = new ArrayList<>();

    @Option(names = "--coap-port", description = "CoAP UDP port of the resource directory (-1: off). Default: ${DEFAULT-VALUE}",
            defaultValue = "5683")
    int coapPort;

    @Option(names = "--rd-storage", description = "Database file that keeps directory registrations across restarts "
            + "(default: memory only)")
    Path rdStorage;

    @Option(names = "--ws-descriptions", description = "Directory of OpenAPI 3 / RAML 1.0 descriptions: each web "
            + "service becomes virtual CoAP resources under /ws/<service>/")
    Path wsDescriptions;

    @Option(names = "--ws-secrets", description = "Properties file with the API keys the descriptions need "
            + "(<service>.<scheme>=value); keep it readable by the server's user only")
    Path wsSecrets;

    @Option(names = "--allow-list", description = "Allow-list file: lines 'deviceId [network]'")
    Path allowList;

    @Option(names = "--open", description = "Admit every device (demos only; logs a loud warning)")
    boolean open;

    @Option(names = "--tls-keystore", description = "PKCS#12 key store: serve wss:// instead of ws://")
    Path tlsKeyStore;

    @Option(names = "--tls-password-env", defaultValue = "PEERLINK_TLS_PASSWORD",
            description = "Environment variable holding the key store password. Default: ${DEFAULT-VALUE}")
    String tlsPasswordEnv;

    @Option(names = "--server-name", split = ",", description = "Names devices dial this server by (default: this machine's addresses)")
    List<String> serverNames = new ArrayList<>();

    @Option(names = "--status-token-env", description = "Serve /status and /metrics (Prometheus) to holders of the bearer token in this environment variable")
    String statusTokenEnv;

    @Option(names = "--max-connections-per-address", defaultValue = "64",
            description = "Open control connections per IP address. Default: ${DEFAULT-VALUE}")
    int perAddress;

    @Override
    public Integer call() throws Exception {
        if (allowList == null && !open) {
            // Embedded defaults: everything is served (STUN, the resource directory, the control
            // endpoint), but no device is admitted until the operator says which ones may be.
            System.err.println("warning: admitting no devices: pass --allow-list FILE (lines 'deviceId [network]') or --open (trusted lab only)");
            System.err.flush();
        }
        ServerConfig.Builder b = ServerConfig.builder().bindHost(host).httpPort(httpPort).stunPort(stunPort)
                .coapPort(coapPort).rdStorage(rdStorage).wsDescriptions(wsDescriptions).wsSecrets(wsSecrets)
                .serverNames(serverNames).limits(ServerConfig.Limits.defaults().withConnectionCaps(20_000, perAddress));
        if (turnPort != null) {
            b.turnPort(turnPort);
        }
        if (turnSecretEnv != null) {
            String secret = System.getenv(turnSecretEnv);
            if (secret == null || secret.length() < 16) {
                throw new CommandLine.ParameterException(spec.commandLine(), "set " + turnSecretEnv
                        + " to the TURN secret (at least 16 characters)");
            }
            b.turnSecret(secret);
        }
        b.turnRelayAddress(turnRelayAddress).turnAllowPrivatePeers(turnPrivatePeers).turnAllowLoopbackPeers(turnLoopbackPeers);
        List<ServerConfig.ExternalTurn> external = new ArrayList<>();
        for (String spec1 : externalTurn) {
            int at = spec1.lastIndexOf('@');
            String secret = at < 0 ? null : System.getenv(spec1.substring(at + 1));
            if (at < 0 || secret == null || secret.isEmpty()) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--external-turn needs URIS@SECRET_ENV with the"
                        + " secret in that environment variable: " + spec1);
            }
            try {
                external.add(new ServerConfig.ExternalTurn(List.of(spec1.substring(0, at).split(",")), secret));
            } catch (IllegalArgumentException e) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--external-turn: " + e.getMessage());
            }
        }
        b.externalTurn(external);
        if (allowList != null) {
            if (!Files.isReadable(allowList)) {
                throw new CommandLine.ParameterException(spec.commandLine(), "cannot read the allow-list " + allowList
                        + " (create it with one 'deviceId [network]' per line)");
            }
            b.allowListFile(allowList);
        }
        if (tlsKeyStore != null) {
            String password = System.getenv(tlsPasswordEnv);
            if (password == null) {
                throw new CommandLine.ParameterException(spec.commandLine(), "--tls-keystore needs the key store password in the"
                        + " environment variable " + tlsPasswordEnv + " (or name another with --tls-password-env)");
            }
            b.tls(new ServerConfig.Tls(tlsKeyStore, password));
        }
        if (statusTokenEnv != null) {
            String token = System.getenv(statusTokenEnv);
            if (token == null || token.length() < 16) {
                throw new CommandLine.ParameterException(spec.commandLine(), "set " + statusTokenEnv
                        + " to a token of at least 16 characters for /status");
            }
            b.statusToken(token);
        }
        if (open) {
            b.open(true);
        }
        CountDownLatch stop = new CountDownLatch(1);
        CountDownLatch stopped = new CountDownLatch(1);
        try (ReferenceServer server = ReferenceServer.start(b.build())) {
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
                    + " turn " + (server.turnServer() == null ? "off" : server.turnServer().udpAddress()));
            System.out.flush();
            stop.await();
        } finally {
            stopped.countDown();
        }
        return 0;
    }
}
