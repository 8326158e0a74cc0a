package io.peerlink.server;

import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.ServerPin;
import io.peerlink.server.auth.AllowListAuthenticator;
import io.peerlink.server.bridge.BridgeHosting;
import io.peerlink.server.metrics.ServerMetrics;
import io.peerlink.server.rendezvous.AddressCaps;
import io.peerlink.server.rendezvous.JettyControlEndpoint;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.relay.TurnRelays;
import io.peerlink.server.stun.StunServer;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterBeanDiscovery;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.inject.Singleton;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;
import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.cert.Certificate;
import java.time.Duration;
import java.util.Collections;
import java.util.Objects;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The PeerLink reference server in one object: Jetty 12 serving the rendezvous control
 * WebSocket at {@code /peerlink/v1}, {@code GET /healthz}, {@code GET /status} and {@code GET /metrics}, plus the STUN
 * server; components assembled by CDI (Weld SE, no classpath scanning). Everything is in memory.
 *
 * <pre>{@code
 * try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().httpPort(0).stunPort(0).open(true).build())) {
 *     URI control = server.controlUri();
 * }
 * }</pre>
 */
public final class ReferenceServer implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(ReferenceServer.class.getName());

    private final ServerConfig config;
    private final WeldContainer container;
    private final Server jetty;
    private final RendezvousService rendezvous;
    private final StunServer stun;
    private volatile TurnRelays turn;
    private final URI controlUri;
    private final ServerPin pin;
    private volatile BridgeHosting bridge;
    private volatile AllowListReloader reloader;
    private volatile boolean closed;
    private static final Jsonb JSON = JsonbBuilder.create();
    /** How often the allow-list file's modification time is checked (docs/operations.md). */
    static final long ALLOW_LIST_CHECK_MILLIS = 1000;

    /**
     * What {@code GET /status} answers (JSON-B writes it).
     *
     * @param devicesOnline admitted devices with a live control connection
     * @param introductions introductions made since start
     * @param connectRequests connect requests since start
     * @param protocolErrors protocol errors answered since start
     * @param stun STUN counters, or null when STUN is off
     */
    public record Status(int devicesOnline, long introductions, long connectRequests, long protocolErrors, StunStatus stun) {
    }

    /**
     * @param answered Binding requests answered
     * @param dropped datagrams dropped (garbage, non-requests, over the per-source limit)
     * @param rateLimited valid requests dropped by the per-source limit
     */
    public record StunStatus(long answered, long dropped, long rateLimited) {
    }

    private ReferenceServer(ServerConfig config, WeldContainer container, Server jetty, RendezvousService rendezvous,
                            StunServer stun, URI controlUri, ServerPin pin) {
        this.pin = pin;
        this.config = config;
        this.container = container;
        this.jetty = jetty;
        this.rendezvous = rendezvous;
        this.stun = stun;
        this.controlUri = controlUri;
    }

    /**
     * Starts the server.
     *
     * @param config the configuration
     * @return the running server
     * @throws IllegalStateException if a component cannot start (port taken, allow-list unreadable, unknown authenticator)
     */
    public static ReferenceServer start(ServerConfig config) {
        Objects.requireNonNull(config, "config");
        long startNanos = System.nanoTime();
        if (config.open()) {
            LOG.warning("\n*** OPEN MODE: every device that connects is admitted into network 'default' and can reach"
                    + " every other device. Use only in a trusted lab; configure an allow-list for anything else. ***");
        }
        Weld weld = new Weld("peerlink-" + UUID.randomUUID())
                .disableDiscovery()
                .skipShutdownHook()
                .addBeanClasses(ServerComponents.class)
                .addExtension(new ConfigExtension(config));
        WeldContainer container;
        long weldMillis;
        try {
            container = weld.initialize();
            weldMillis = (System.nanoTime() - startNanos) / 1_000_000;
        } catch (RuntimeException e) {
            throw new IllegalStateException("reference server failed to assemble: " + rootMessage(e), e);
        }
        Server jetty = null;
        BridgeHosting bridge = null;
        try {
            RendezvousService rendezvous = container.select(RendezvousService.class).get();
            StunServer stun = container.select(ServerComponents.StunServerHolder.class).get().server();
            TurnRelays turn = container.select(TurnRelays.class).get();
            rendezvous.relays(turn);
            ServerPin pin = config.tls() == null ? null : pinOf(config.tls());
            bridge = BridgeHosting.start(config);
            jetty = jetty(config, rendezvous, stun, bridge);
            jetty.start();
            ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
            String host = config.bindHost();
            if (host.equals("0.0.0.0") || host.equals("::")) {
                host = InetAddress.getLoopbackAddress().getHostAddress();
            }
            URI uri = URI.create((pin == null ? "ws://" : "wss://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + connector.getLocalPort() + Handshake.PATH);
            ReferenceServer server = new ReferenceServer(config, container, jetty, rendezvous, stun, uri, pin);
            server.bridge = bridge;
            server.turn = turn;
            if (container.select(io.peerlink.spi.Authenticator.class).get() instanceof AllowListAuthenticator list
                    && list.file() != null) {
                server.reloader = new AllowListReloader(list, rendezvous, ALLOW_LIST_CHECK_MILLIS);
            }
            // Every listener (HTTP, STUN, CoAP) is bound by now.
            jetty.getBean(Readiness.class).ready();
            LOG.info(() -> "PeerLink reference server: control " + uri + (pin == null ? "" : " (TLS key pin " + pin + ")")
                    + ", server names " + (config.serverNames().isEmpty() ? "this machine's addresses" : config.serverNames())
                    + ", STUN " + (stun == null ? "off" : "udp " + stun.localAddress())
                    + ", TURN " + (turn.embedded() == null ? "off" : "udp " + turn.embedded().udpAddress() + " tcp " + turn.embedded().tcpAddress())
                    + (config.relay().external().isEmpty() ? "" : " + " + config.relay().external().size() + " external")
                    + ", authenticator '" + config.effectiveAuthenticator() + "', access policy '" + config.accessPolicy()
                    + "'; started in " + (System.nanoTime() - startNanos) / 1_000_000 + " ms (CDI " + weldMillis + " ms)");
            return server;
        } catch (Exception e) {
            if (bridge != null) {
                bridge.close();
            }
            if (jetty != null) {
                try {
                    jetty.stop();
                } catch (Exception suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            container.shutdown();
            throw new IllegalStateException("reference server failed to start: " + rootMessage(e), e);
        }
    }

    /** Reads the key store once up front so that a wrong path or password fails with one clear message. */
    private static ServerPin pinOf(ServerConfig.Tls tls) {
        if (!Files.isRegularFile(tls.keyStore())) {
            throw new IllegalStateException("TLS key store " + tls.keyStore() + " does not exist or is not a file");
        }
        try (InputStream in = Files.newInputStream(tls.keyStore())) {
            KeyStore ks = KeyStore.getInstance("PKCS12");
            ks.load(in, tls.password().toCharArray());
            for (String alias : Collections.list(ks.aliases())) {
                if (ks.isKeyEntry(alias)) {
                    Certificate cert = ks.getCertificate(alias);
                    if (cert != null) {
                        return ServerPin.of(cert);
                    }
                }
            }
            throw new IllegalStateException("TLS key store " + tls.keyStore() + " holds no private key with a certificate");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read TLS key store " + tls.keyStore() + " (PKCS#12 expected; wrong password?): "
                    + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot read TLS key store " + tls.keyStore() + ": " + e.getMessage(), e);
        }
    }

    private static Server jetty(ServerConfig config, RendezvousService rendezvous, StunServer stun, BridgeHosting bridge) {
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("peerlink-http");
        threads.setDaemon(true);
        Server server = new Server(threads);
        ServerConnector connector;
        if (config.tls() == null) {
            connector = new ServerConnector(server);
        } else {
            SslContextFactory.Server tls = new SslContextFactory.Server();
            tls.setKeyStorePath(config.tls().keyStore().toAbsolutePath().toString());
            tls.setKeyStoreType("PKCS12");
            tls.setKeyStorePassword(config.tls().password());
            HttpConfiguration https = new HttpConfiguration();
            // Devices pin the key and may dial an IP address: do not insist on SNI matching a certificate name.
            SecureRequestCustomizer customizer = new SecureRequestCustomizer();
            customizer.setSniHostCheck(false);
            https.addCustomizer(customizer);
            connector = new ServerConnector(server, new SslConnectionFactory(tls, "http/1.1"), new HttpConnectionFactory(https));
        }
        // Total TCP connections: Jetty's NetworkConnectionLimit stops accepting above the cap (the kernel backlog holds the rest).
        server.addBean(new NetworkConnectionLimit(config.limits().maxConnections(), connector));
        AddressCaps caps = new AddressCaps(config.limits().maxConnectionsPerAddress());
        connector.setHost(config.bindHost());
        connector.setPort(config.httpPort());
        bridge.configure(connector);
        server.addConnector(connector);
        // Added as a bean so start() can find it; connection metrics attach to the connector added above.
        ServerMetrics metrics = new ServerMetrics(rendezvous, stun, server);
        server.addBean(metrics, false);
        Readiness readiness = new Readiness();
        server.addBean(readiness, false);
        ContextHandler context = new ContextHandler("/");
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, context, container -> {
            // Jetty's own limit is set above ours so an oversized message reaches the protocol layer and
            // gets a TOO_LARGE error; only absurd sizes are cut off by Jetty itself (close 1009).
            container.setMaxTextMessageSize(4L * config.limits().maxMessageBytes());
            container.setMaxBinaryMessageSize(1024);
            container.setIdleTimeout(Duration.ofMillis(config.keepalive().toMillis() * 4));
            container.addMapping(Handshake.PATH, (request, response, callback) ->
                    new JettyControlEndpoint(rendezvous, caps, config.limits().maxQueuedBytes()));
        });
        ws.setHandler(bridge.httpHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                String path = Request.getPathInContext(request);
                if (!"GET".equals(request.getMethod())) {
                    return false;
                }
                if ("/readyz".equals(path)) {
                    Readiness.State state = readiness.state();
                    response.setStatus(state == Readiness.State.READY ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503);
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                    Content.Sink.write(response, true, state.name().toLowerCase(java.util.Locale.ROOT) + "\n", callback);
                    return true;
                }
                if ("/healthz".equals(path)) {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                    Content.Sink.write(response, true, "ok\n", callback);
                    return true;
                }
                boolean operatorPath = "/status".equals(path) || "/metrics".equals(path);
                if (operatorPath && config.statusToken() != null
                        && !authorized(request.getHeaders().get(HttpHeader.AUTHORIZATION), config.statusToken())) {
                    response.setStatus(HttpStatus.UNAUTHORIZED_401);
                    response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"peerlink\"");
                    Content.Sink.write(response, true, "operator token required\n", callback);
                    return true;
                }
                if ("/metrics".equals(path) && config.statusToken() != null) {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, ServerMetrics.contentType());
                    Content.Sink.write(response, true, metrics.scrape(), callback);
                    return true;
                }
                if ("/status".equals(path) && config.statusToken() != null) {
                    Status status = new Status(rendezvous.devicesOnline(), rendezvous.introductions(), rendezvous.connectRequests(),
                            rendezvous.protocolErrors(), stun == null ? null : new StunStatus(stun.answered(), stun.dropped(), stun.rateLimited()));
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                    Content.Sink.write(response, true, JSON.toJson(status), callback);
                    return true;
                }
                return false;
            }
        }));
        context.setHandler(ws);
        server.setHandler(context);
        server.setStopTimeout(2000);
        return server;
    }

    private static boolean authorized(String header, String token) {
        String expected = "Bearer " + token;
        // Constant time: the comparison must not tell an attacker how much of a guess was right.
        return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }

    /** The most useful message in a cause chain: our own configuration errors first, else the root cause's. */
    private static String rootMessage(Throwable e) {
        Throwable t = e;
        for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if ((c instanceof IllegalStateException || c instanceof java.io.UncheckedIOException) && c.getMessage() != null) {
                return c.getMessage();
            }
            t = c;
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    /** @return the control WebSocket URI, e.g. {@code ws://127.0.0.1:8080/peerlink/v1} (loopback when bound to any address) */
    public URI controlUri() {
        return controlUri;
    }

    /** @return the pin of the TLS key devices should configure ({@code sha256/...}), or null without TLS */
    public ServerPin serverPin() {
        return pin;
    }

    /** @return the server names a hello may be signed for */
    public java.util.Set<String> serverNames() {
        return rendezvous.serverNames();
    }

    /** @return the STUN server's bound address, or null if STUN is disabled */
    public InetSocketAddress stunAddress() {
        return stun == null ? null : stun.localAddress();
    }

    /** @return the embedded TURN server (docs/relay.md), or null if it is off */
    public io.peerlink.relay.turn.TurnServer turnServer() {
        return turn == null ? null : turn.embedded();
    }

    /** @return the resource directory's CoAP endpoint, or null if the bridge is off */
    public io.peerlink.Endpoint coapEndpoint() {
        return bridge == null ? null : bridge.coapEndpoint();
    }

    /** @return devices with a live, admitted control connection */
    public int connectedDevices() {
        return rendezvous.devicesOnline();
    }

    /** @return devices whose network the server remembers (bounded by the devices online unless an allow-list bounds it) */
    public int knownDevices() {
        return rendezvous.registry().knownCount();
    }

    /** @return introductions made since start */
    public long introductions() {
        return rendezvous.introductions();
    }

    /** @return the configuration this server runs with */
    public ServerConfig config() {
        return config;
    }

    /**
     * Starts draining: {@code /readyz} answers 503 from now on, and every device is disconnected
     * with WebSocket close code 1012 (service restart), on which devices reconnect with jittered
     * backoff — to another node when the control URI's name points elsewhere. New control
     * connections are closed the same way. The server keeps serving HTTP until {@link #close()}.
     * Idempotent.
     */
    public void drain() {
        jetty.getBean(Readiness.class).draining();
        rendezvous.drain();
    }

    /** Drains (see {@link #drain()}), then stops Jetty, STUN and the CDI container; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (reloader != null) {
            reloader.close();
        }
        drain();
        if (bridge != null) {
            bridge.close();
        }
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.warning("stopping Jetty: " + e);
        }
        // Closed here as well as by the CDI disposers, so the ports are free when close() returns.
        if (stun != null) {
            stun.close();
        }
        ServerMetrics metrics = jetty.getBean(ServerMetrics.class);
        if (metrics != null) {
            metrics.close();
        }
        rendezvous.close();
        container.shutdown();
    }

    /** Makes the {@link ServerConfig} injectable. */
    public static final class ConfigExtension implements Extension {
        private final ServerConfig config;

        ConfigExtension(ServerConfig config) {
            this.config = config;
        }

        void addConfig(@Observes AfterBeanDiscovery event) {
            event.addBean().types(ServerConfig.class, Object.class).scope(Singleton.class).createWith(c -> config);
        }
    }
}
