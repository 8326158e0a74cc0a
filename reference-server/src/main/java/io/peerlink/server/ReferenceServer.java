package io.peerlink.server;

import io.peerlink.core.internal.rendezvous.protocol.Handshake;
import io.peerlink.server.bridge.BridgeHosting;
import io.peerlink.server.rendezvous.JettyControlEndpoint;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.stun.StunServer;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterBeanDiscovery;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.inject.Singleton;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
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
import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;
import java.util.logging.Logger;

/**
 * The PeerLink reference server in one object: Jetty 12 serving the rendezvous control
 * WebSocket at {@code /peerlink/v1}, {@code GET /healthz} and {@code GET /status}, plus the STUN
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
    private final URI controlUri;
    private volatile BridgeHosting bridge;
    private volatile boolean closed;

    private ReferenceServer(ServerConfig config, WeldContainer container, Server jetty, RendezvousService rendezvous,
                            StunServer stun, URI controlUri) {
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
            bridge = BridgeHosting.start(config);
            jetty = jetty(config, rendezvous, stun, bridge);
            jetty.start();
            ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
            String host = config.bindHost();
            if (host.equals("0.0.0.0") || host.equals("::")) {
                host = InetAddress.getLoopbackAddress().getHostAddress();
            }
            URI uri = URI.create("ws://" + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":" + connector.getLocalPort() + Handshake.PATH);
            ReferenceServer server = new ReferenceServer(config, container, jetty, rendezvous, stun, uri);
            server.bridge = bridge;
            LOG.info(() -> "PeerLink reference server: control " + uri + ", STUN " + (stun == null ? "off" : "udp " + stun.localAddress())
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

    private static Server jetty(ServerConfig config, RendezvousService rendezvous, StunServer stun, BridgeHosting bridge) {
        QueuedThreadPool threads = new QueuedThreadPool(200, 8);
        threads.setName("peerlink-http");
        threads.setDaemon(true);
        Server server = new Server(threads);
        ServerConnector connector = new ServerConnector(server);
        connector.setHost(config.bindHost());
        connector.setPort(config.httpPort());
        bridge.configure(connector);
        server.addConnector(connector);
        ContextHandler context = new ContextHandler("/");
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(server, context, container -> {
            // Jetty's own limit is set above ours so an oversized message reaches the protocol layer and
            // gets a TOO_LARGE error; only absurd sizes are cut off by Jetty itself (close 1009).
            container.setMaxTextMessageSize(4L * config.limits().maxMessageBytes());
            container.setMaxBinaryMessageSize(1024);
            container.setIdleTimeout(Duration.ofMillis(config.keepalive().toMillis() * 4));
            container.addMapping(Handshake.PATH, (request, response, callback) -> new JettyControlEndpoint(rendezvous));
        });
        ws.setHandler(bridge.httpHandler(new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                String path = Request.getPathInContext(request);
                if (!"GET".equals(request.getMethod())) {
                    return false;
                }
                if ("/healthz".equals(path)) {
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                    Content.Sink.write(response, true, "ok\n", callback);
                    return true;
                }
                if ("/status".equals(path)) {
                    String json = "{\"devicesOnline\":" + rendezvous.devicesOnline()
                            + ",\"introductions\":" + rendezvous.introductions()
                            + ",\"connectRequests\":" + rendezvous.connectRequests()
                            + ",\"protocolErrors\":" + rendezvous.protocolErrors()
                            + ",\"stun\":" + (stun == null ? "null" : "{\"answered\":" + stun.answered() + ",\"dropped\":" + stun.dropped() + "}")
                            + "}";
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                    Content.Sink.write(response, true, json, callback);
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

    /** @return the STUN server's bound address, or null if STUN is disabled */
    public InetSocketAddress stunAddress() {
        return stun == null ? null : stun.localAddress();
    }

    /** @return the resource directory's CoAP endpoint, or null if the bridge is off */
    public io.peerlink.Endpoint coapEndpoint() {
        return bridge == null ? null : bridge.coapEndpoint();
    }

    /** @return devices with a live, admitted control connection */
    public int connectedDevices() {
        return rendezvous.devicesOnline();
    }

    /** @return introductions made since start */
    public long introductions() {
        return rendezvous.introductions();
    }

    /** @return the configuration this server runs with */
    public ServerConfig config() {
        return config;
    }

    /** Stops Jetty (closing every control connection), STUN and the CDI container; idempotent. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
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
