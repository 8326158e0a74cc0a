package io.peerlink.server;

import io.peerlink.protocol.rendezvous.ServerPin;
import io.peerlink.server.bridge.BridgeHosting;
import io.peerlink.server.gateway.GatewayEndpoint;
import io.peerlink.server.mqtt.MqttBrokerService;
import io.peerlink.server.rendezvous.RendezvousEndpoint;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.relay.TurnRelays;
import io.peerlink.server.stun.StunService;
import jakarta.enterprise.event.Observes;
import jakarta.enterprise.inject.spi.AfterBeanDiscovery;
import jakarta.enterprise.inject.spi.Extension;
import jakarta.inject.Singleton;
import org.jboss.weld.environment.se.Weld;
import org.jboss.weld.environment.se.WeldContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * The PeerLink reference server in one object. CDI (Weld SE) composes it: every component is a
 * bean, and what the server hosts is contributed as beans: {@link HttpEndpoint}s mounted into
 * Jetty's handler tree (the rendezvous control WebSocket at {@code /peerlink/v1}, {@code /healthz},
 * {@code /readyz}, {@code /status}, {@code /metrics}, the HTTP-to-CoAP proxy, the Socket.IO gateway)
 * and {@link ServerService}s beside it (STUN, the CoAP resource directory, the embedded MQTT broker).
 * A jar on the class path contributes its own by naming the bean classes in
 * {@code META-INF/services/io.peerlink.server.HttpEndpoint} (or {@code ...ServerService}).
 * Everything is in memory by default.
 *
 * <pre>{@code
 * try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().httpPort(0).stunPort(0).open(true).build())) {
 *     URI control = server.controlUri();
 * }
 * }</pre>
 */
public final class ReferenceServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ReferenceServer.class);
    /** The server's own beans; third-party ones are registered by jars on the class path ({@link #CONTRIBUTION_FILES}). */
    private static final Class<?>[] BEANS = {ServerComponents.class, JettyHost.class, Readiness.class, AllowListWatch.class,
        OperationsEndpoint.class, RendezvousEndpoint.class, StunService.class, BridgeHosting.class, GatewayEndpoint.class,
        MqttBrokerService.class, io.peerlink.server.mqtt.MqttRendezvousService.class, io.peerlink.server.dashboard.DashboardEndpoint.class};

    private final ServerConfig config;
    private final WeldContainer container;
    private final JettyHost host;
    private final RendezvousService rendezvous;
    private final URI controlUri;
    private final ServerPin pin;
    private volatile boolean closed;
    /** How often the allow-list file's modification time is checked (docs/operations.md). */
    static final long ALLOW_LIST_CHECK_MILLIS = AllowListWatch.CHECK_MILLIS;

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

    private ReferenceServer(ServerConfig config, WeldContainer container, JettyHost host, RendezvousService rendezvous,
                            URI controlUri, ServerPin pin) {
        this.pin = pin;
        this.config = config;
        this.container = container;
        this.host = host;
        this.rendezvous = rendezvous;
        this.controlUri = controlUri;
    }

    /**
     * Starts the server.
     *
     * @param config the configuration
     * @return the running server
     * @throws IllegalStateException if a component cannot start (port taken, allow-list unreadable, unknown authenticator);
     *         the message is one line saying what to fix
     */
    public static ReferenceServer start(ServerConfig config) {
        Objects.requireNonNull(config, "config");
        long startNanos = System.nanoTime();
        if (config.open()) {
            LOG.warn("\n*** OPEN MODE: every device that connects is admitted into network 'default' and can reach"
                    + " every other device. Use only in a trusted lab; configure an allow-list for anything else. ***");
        }
        ServerPin pin = null;
        if (config.tls() != null) {
            try {
                pin = pinOf(config.tls());
            } catch (IllegalStateException e) {
                throw new IllegalStateException("reference server failed to start: " + e.getMessage(), e);
            }
        }
        // No class-path scanning: an application's own bean archives (and its CDI extensions) must not
        // leak into the server's container. Contributions are registered bean classes (see contributedBeans).
        Weld weld = new Weld("peerlink-" + UUID.randomUUID())
                .disableDiscovery()
                .skipShutdownHook()
                .addBeanClasses(BEANS)
                .addExtension(new ConfigExtension(config));
        List<Class<?>> contributed;
        try {
            contributed = contributedBeans();
        } catch (IllegalStateException e) {
            throw new IllegalStateException("reference server failed to assemble: " + e.getMessage(), e);
        }
        if (!contributed.isEmpty()) {
            weld.addBeanClasses(contributed.toArray(new Class<?>[0]));
            LOG.info("contributed beans: {}", contributed.stream().map(Class::getName).toList());
        }
        WeldContainer container;
        long weldMillis;
        try {
            container = weld.initialize();
            weldMillis = (System.nanoTime() - startNanos) / 1_000_000;
        } catch (RuntimeException e) {
            throw new IllegalStateException("reference server failed to assemble: " + rootMessage(e), e);
        }
        try {
            // The one look-up: the composition root; everything below it is injected.
            JettyHost host = container.select(JettyHost.class).get();
            RendezvousService rendezvous = container.select(RendezvousService.class).get();
            TurnRelays turn = container.select(TurnRelays.class).get();
            rendezvous.relays(turn);
            URI uri = host.start(pin != null);
            ReferenceServer server = new ReferenceServer(config, container, host, rendezvous, uri, pin);
            ServerPin shownPin = pin;
            LOG.info("PeerLink reference server: control {}{}, server names {}, authenticator '{}', access policy '{}';"
                    + " started in {} ms (CDI {} ms){}; TURN {}", uri, shownPin == null ? "" : " (TLS key pin " + shownPin + ")",
                    config.serverNames().isEmpty() ? "this machine's addresses" : config.serverNames(),
                    config.effectiveAuthenticator(), config.accessPolicy(), (System.nanoTime() - startNanos) / 1_000_000,
                    weldMillis, host.describe(), turn.embedded() == null ? "off"
                            : "udp " + turn.embedded().udpAddress() + " tcp " + turn.embedded().tcpAddress());
            return server;
        } catch (RuntimeException e) {
            container.shutdown();
            throw new IllegalStateException("reference server failed to start: " + rootMessage(e), e);
        }
    }

    /** Where a jar registers the bean classes it contributes (one class name per line, {@code #} comments). */
    static final List<String> CONTRIBUTION_FILES = List.of("META-INF/services/" + HttpEndpoint.class.getName(),
            "META-INF/services/" + ServerService.class.getName());

    /**
     * The bean classes third-party jars contribute: those named in {@code META-INF/services/io.peerlink.server.HttpEndpoint}
     * or {@code ...ServerService} on the context class loader's class path. They become beans of the server's
     * container (injection, scopes, observers); nothing instantiates them but CDI.
     */
    private static List<Class<?>> contributedBeans() {
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        if (loader == null) {
            loader = ReferenceServer.class.getClassLoader();
        }
        java.util.Set<Class<?>> out = new java.util.LinkedHashSet<>();
        for (String file : CONTRIBUTION_FILES) {
            java.util.Enumeration<java.net.URL> urls;
            try {
                urls = loader.getResources(file);
            } catch (IOException e) {
                throw new IllegalStateException("cannot list " + file + ": " + e.getMessage(), e);
            }
            for (java.net.URL url : Collections.list(urls)) {
                List<String> lines;
                try (InputStream in = url.openStream()) {
                    lines = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).lines().toList();
                } catch (IOException e) {
                    throw new IllegalStateException("cannot read " + url + ": " + e.getMessage(), e);
                }
                for (String line : lines) {
                    int hash = line.indexOf('#');
                    String name = (hash >= 0 ? line.substring(0, hash) : line).strip();
                    if (name.isEmpty()) {
                        continue;
                    }
                    try {
                        out.add(Class.forName(name, false, loader));
                    } catch (ClassNotFoundException | LinkageError e) {
                        throw new IllegalStateException(url + " names " + name + ", which cannot be loaded: " + e, e);
                    }
                }
            }
        }
        out.removeAll(List.of(BEANS));
        return List.copyOf(out);
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

    /** @return the operator dashboard's address ({@code http(s)://host:port/dashboard/}), or null without an operator token */
    public URI dashboardUri() {
        if (config.statusToken() == null) {
            return null;
        }
        return URI.create((pin == null ? "http://" : "https://") + controlUri.getRawAuthority() + "/dashboard/");
    }

    /** @return the pin of the TLS key devices should configure ({@code sha256/...}), or null without TLS */
    public ServerPin serverPin() {
        return pin;
    }

    /** @return the server names a hello may be signed for */
    public java.util.Set<String> serverNames() {
        return rendezvous.serverNames();
    }

    /** @return the embedded TURN server (docs/relay.md), or null if it is off */
    public io.peerlink.relay.turn.TurnServer turnServer() {
        return container.select(TurnRelays.class).get().embedded();
    }

    /** @return the relay over rendezvous WebSockets (docs/relay.md, "WebSocket relay") */
    public io.peerlink.server.rendezvous.WsRelay wsRelay() {
        return rendezvous.wsRelay();
    }

    /** @return the Prometheus text of {@code /metrics}, as the operator scrapes it */
    public String metricsText() {
        return container.select(io.peerlink.server.metrics.ServerMetrics.class).get().scrape();
    }

    /** @return the STUN server's address, or null when STUN is off */
    public InetSocketAddress stunAddress() {
        StunService stun = container.select(StunService.class).get();
        return stun.server() == null ? null : stun.server().localAddress();
    }

    /** @return the resource directory's CoAP endpoint, or null if the bridge is off */
    public io.peerlink.Endpoint coapEndpoint() {
        return container.select(BridgeHosting.class).get().coapEndpoint();
    }

    /** @return the embedded MQTT broker's TCP port, or -1 when it is off */
    public int mqttPort() {
        return container.select(MqttBrokerService.class).get().port();
    }

    /** @return the HTTP base URI, e.g. {@code http://127.0.0.1:8080} (Socket.IO gateways connect here, path {@code gateway.path}) */
    public URI httpUri() {
        return URI.create(controlUri.toString().replaceFirst("^ws", "http").replace(io.peerlink.protocol.rendezvous.Handshake.PATH, ""));
    }

    /** @return the gateway platform (commands, models, telemetry listeners), or null when the gateway is off */
    public io.peerlink.gateway.GatewayPlatform gatewayPlatform() {
        GatewayEndpoint gateway = container.select(GatewayEndpoint.class).get();
        return gateway.enabled() ? gateway.platform() : null;
    }

    /** @return the names of the mounted HTTP endpoints, e.g. {@code [operations, resource-directory, rendezvous]} */
    public List<String> endpoints() {
        return host.mountedEndpoints();
    }

    /** @return the names of the running services, e.g. {@code [resource-directory, stun]} */
    public List<String> services() {
        return host.runningServices();
    }

    /**
     * @param type a bean type the server's container holds (an endpoint, a service, {@link RendezvousService}, ...)
     * @param <T> the type
     * @return the bean
     * @throws jakarta.enterprise.inject.UnsatisfiedResolutionException if there is none
     */
    public <T> T bean(Class<T> type) {
        return container.select(type).get();
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
        container.select(Readiness.class).get().draining();
        rendezvous.drain();
    }

    /**
     * Drains (see {@link #drain()}), fires {@link ServerStopping}, stops Jetty and the services, then shuts
     * the CDI container down (disposers and {@code @PreDestroy} run); idempotent.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        drain();
        host.stop();
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
