package io.peerlink.bridge.internal;

import io.peerlink.DirectoryEvent;
import io.peerlink.Endpoint;
import io.peerlink.LookupQuery;
import io.peerlink.PeerLinkException;
import io.peerlink.Registration;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceBridge;
import io.peerlink.ResourceLink;
import io.peerlink.VirtualService;
import io.peerlink.bridge.internal.ws.VirtualServices;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.config.CoapConfig;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.californium.elements.config.Configuration;
import org.eclipse.californium.elements.config.UdpConfig;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * The {@link ResourceBridge}: a Californium {@link CoapServer} serving the {@link Directory}
 * through {@link RdResources} and {@link OcfResources}, plus the Java API over the same directory.
 */
public final class CoapResourceBridge implements ResourceBridge {
    /** Largest request or response body, also across Block1/Block2 transfers. */
    public static final int MAX_BODY = LinkFormat.MAX_DOCUMENT;

    private final CoapServer server;
    private final CoapEndpoint coapEndpoint;
    private final Directory directory;
    private final EventDispatcher events;
    private final RegistrationStore store;
    private final ExecutorService worker;
    private final ScheduledExecutorService expiry;
    private final ExecutorService ownEventExecutor;
    private final Endpoint endpoint;
    private final HttpClient http;
    private final VirtualServices virtualServices;
    private final AtomicBoolean closed = new AtomicBoolean();

    CoapResourceBridge(BridgeSettings settings) {
        this.ownEventExecutor = settings.eventExecutor() == null ? Executors.newSingleThreadExecutor(
                daemon("peerlink-rd-events")) : null;
        this.events = new EventDispatcher(ownEventExecutor != null ? ownEventExecutor : settings.eventExecutor());
        this.store = settings.storage() == null ? new RegistrationStore.InMemory()
                : new H2RegistrationStore(settings.storage());
        this.worker = Executors.newSingleThreadExecutor(daemon("peerlink-rd-api"));
        this.expiry = Executors.newSingleThreadScheduledExecutor(daemon("peerlink-rd-expiry"));
        try {
            this.directory = new Directory(settings.clock(), store, events);
            Configuration config = configuration();
            this.coapEndpoint = new CoapEndpoint.Builder().setConfiguration(config)
                    .setInetSocketAddress(settings.bind()).build();
            this.server = new CoapServer(config);
            server.addEndpoint(coapEndpoint);
            addResources(server, directory);
            server.start();
        } catch (RuntimeException e) {
            releaseThreads();
            store.close();
            throw new PeerLinkException("cannot start the resource directory on " + settings.bind() + ": "
                    + e.getMessage(), e);
        }
        InetSocketAddress bound = coapEndpoint.getAddress();
        this.endpoint = Endpoint.of("coap", bound);
        expiry.scheduleWithFixedDelay(directory::expire, 250, 250, TimeUnit.MILLISECONDS);
        if (settings.descriptions() == null) {
            this.http = null;
            this.virtualServices = null;
            return;
        }
        try {
            this.http = httpClient();
            CoapResource ws = new CoapResource("ws");
            server.add(ws);
            this.virtualServices = new VirtualServices(settings.descriptions(), settings.secrets(),
                    settings.serviceBases(), settings.httpTimeout(), directory, ws, advertisedBase(bound), http);
        } catch (Exception e) {
            close();
            throw new PeerLinkException("cannot serve the descriptions in " + settings.descriptions() + ": "
                    + e.getMessage(), e);
        }
    }

    private static HttpClient httpClient() throws Exception {
        QueuedThreadPool threads = new QueuedThreadPool(16, 2);
        threads.setName("peerlink-ws-http");
        threads.setDaemon(true);
        HttpClient client = new HttpClient();
        client.setExecutor(threads);
        // A redirect is the web service's business with its own clients; the bridge reports it (5.02).
        client.setFollowRedirects(false);
        client.setMaxConnectionsPerDestination(64);
        client.start();
        return client;
    }

    /** The CoAP base virtual resources are registered under: the bound address, loopback for a wildcard. */
    private static URI advertisedBase(InetSocketAddress bound) {
        java.net.InetAddress address = bound.getAddress();
        if (address == null || address.isAnyLocalAddress()) {
            address = java.net.InetAddress.getLoopbackAddress();
        }
        String host = address.getHostAddress();
        if (address instanceof java.net.Inet6Address) {
            int zone = host.indexOf('%');
            host = "[" + (zone < 0 ? host : host.substring(0, zone)) + "]";
        }
        return URI.create("coap://" + host + ":" + bound.getPort());
    }

    /** @return the Californium configuration the bridge uses (no properties file) */
    public static Configuration configuration() {
        CoapConfig.register();
        UdpConfig.register();
        Configuration config = Configuration.createStandardWithoutFile();
        config.set(CoapConfig.MAX_RESOURCE_BODY_SIZE, MAX_BODY);
        return config;
    }

    private static void addResources(CoapServer server, Directory directory) {
        server.add(new RdResources.RdResource(directory));
        CoapResource lookup = new CoapResource("rd-lookup");
        lookup.add(new RdResources.LookupResource(directory, true));
        lookup.add(new RdResources.LookupResource(directory, false));
        server.add(lookup);
        Resource wellKnown = server.getRoot().getChild(".well-known");
        wellKnown.add(new RdResources.SimpleRegistrationResource(directory, 5_000));
        CoapResource oic = new CoapResource("oic");
        oic.add(new OcfResources.OicRd(directory));
        oic.add(new OcfResources.OicRes(directory));
        server.add(oic);
    }

    private static java.util.concurrent.ThreadFactory daemon(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    /** @return the directory, for in-module hosting code and tests */
    public Directory directory() {
        return directory;
    }

    /** @return the Californium server, for in-module code that adds resources */
    public CoapServer server() {
        return server;
    }

    @Override
    public Endpoint endpoint() {
        return endpoint;
    }

    private <T> CompletionStage<T> async(Supplier<T> work) {
        if (closed.get()) {
            throw new IllegalStateException("the resource bridge is closed");
        }
        return CompletableFuture.supplyAsync(work, worker);
    }

    @Override
    public CompletionStage<Registration> register(RegistrationRequest request) {
        Objects.requireNonNull(request, "request");
        URI self = advertisedBase(coapEndpoint.getAddress());
        return async(() -> directory.register(request, self));
    }

    @Override
    public CompletionStage<Registration> update(String location) {
        Objects.requireNonNull(location, "location");
        return async(() -> directory.update(location, Optional.empty(), Optional.empty(), java.util.Map.of()));
    }

    @Override
    public CompletionStage<Void> remove(String location) {
        Objects.requireNonNull(location, "location");
        return async(() -> {
            directory.remove(location);
            return null;
        });
    }

    @Override
    public CompletionStage<List<Registration>> lookupEndpoints(LookupQuery query) {
        Objects.requireNonNull(query, "query");
        return async(() -> directory.lookupEndpoints(query));
    }

    @Override
    public CompletionStage<List<ResourceLink>> lookupResources(LookupQuery query) {
        Objects.requireNonNull(query, "query");
        return async(() -> directory.lookupResources(query));
    }

    @Override
    public List<VirtualService> virtualServices() {
        return virtualServices == null ? List.of() : virtualServices.snapshot();
    }

    @Override
    public Subscription subscribe(Consumer<? super DirectoryEvent> listener) {
        Objects.requireNonNull(listener, "listener");
        if (closed.get()) {
            throw new IllegalStateException("the resource bridge is closed");
        }
        return events.subscribe(listener);
    }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        if (virtualServices != null) {
            virtualServices.close();
        }
        if (http != null) {
            try {
                http.stop();
            } catch (Exception e) {
                java.util.logging.Logger.getLogger(CoapResourceBridge.class.getName()).log(
                        java.util.logging.Level.FINE, "stopping the HTTP client", e);
            }
        }
        server.destroy();
        releaseThreads();
        store.close();
    }

    private void releaseThreads() {
        expiry.shutdownNow();
        worker.shutdown();
        if (ownEventExecutor != null) {
            ownEventExecutor.shutdown();
        }
    }

    /**
     * What the builder collected.
     *
     * @param bind the CoAP bind address
     * @param storage the database file, or null for memory only
     * @param eventExecutor the listeners' executor, or null for a bridge thread
     * @param clock the time source
     * @param descriptions the description directory, or null for no virtual resources
     * @param secrets secrets by name
     * @param serviceBases base URL overrides by service
     * @param httpTimeout the web-service timeout
     */
    record BridgeSettings(InetSocketAddress bind, java.nio.file.Path storage,
                          java.util.concurrent.Executor eventExecutor, Clock clock, java.nio.file.Path descriptions,
                          Map<String, String> secrets, Map<String, URI> serviceBases, Duration httpTimeout) {
    }

    /** The builder behind {@link io.peerlink.PeerLinks#resourceBridge()}. */
    public static final class Builder implements ResourceBridge.Builder {
        private InetSocketAddress bind = new InetSocketAddress(5683);
        private java.nio.file.Path storage;
        private java.util.concurrent.Executor eventExecutor;
        private Clock clock = Clock.systemUTC();
        private java.nio.file.Path descriptions;
        private final Map<String, String> secrets = new LinkedHashMap<>();
        private final Map<String, URI> serviceBases = new LinkedHashMap<>();
        private Duration httpTimeout = Duration.ofSeconds(5);

        @Override
        public Builder coap(InetSocketAddress bindAddress) {
            this.bind = Objects.requireNonNull(bindAddress, "bindAddress");
            return this;
        }

        @Override
        public Builder storage(java.nio.file.Path databaseFile) {
            this.storage = Objects.requireNonNull(databaseFile, "databaseFile");
            return this;
        }

        @Override
        public Builder eventExecutor(java.util.concurrent.Executor executor) {
            this.eventExecutor = Objects.requireNonNull(executor, "executor");
            return this;
        }

        /**
         * @param value the time source for lifetimes (tests)
         * @return this
         */
        public Builder clock(Clock value) {
            this.clock = Objects.requireNonNull(value, "clock");
            return this;
        }

        @Override
        public Builder descriptions(java.nio.file.Path directory) {
            this.descriptions = Objects.requireNonNull(directory, "directory");
            return this;
        }

        @Override
        public Builder secret(String name, String value) {
            secrets.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
            return this;
        }

        @Override
        public Builder serviceBase(String service, URI baseUrl) {
            Objects.requireNonNull(baseUrl, "baseUrl");
            if (!baseUrl.isAbsolute() || !List.of("http", "https").contains(baseUrl.getScheme())) {
                throw new IllegalArgumentException("a service base must be an http or https URL: " + baseUrl);
            }
            serviceBases.put(Objects.requireNonNull(service, "service"), baseUrl);
            return this;
        }

        @Override
        public Builder httpTimeout(Duration timeout) {
            Objects.requireNonNull(timeout, "timeout");
            if (timeout.isNegative() || timeout.isZero()) {
                throw new IllegalArgumentException("httpTimeout must be positive: " + timeout);
            }
            this.httpTimeout = timeout;
            return this;
        }

        @Override
        public CompletionStage<ResourceBridge> start() {
            BridgeSettings settings = new BridgeSettings(bind, storage, eventExecutor, clock, descriptions,
                    Map.copyOf(secrets), Map.copyOf(serviceBases), httpTimeout);
            try {
                return CompletableFuture.completedFuture(new CoapResourceBridge(settings));
            } catch (PeerLinkException e) {
                return CompletableFuture.failedFuture(e);
            }
        }
    }
}
