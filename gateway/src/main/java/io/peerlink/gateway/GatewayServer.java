package io.peerlink.gateway;

import io.peerlink.gateway.internal.AdmissionHandler;
import io.peerlink.gateway.internal.GatewayHub;
import io.peerlink.gateway.internal.GatewayState;
import io.peerlink.gateway.internal.InMemoryGatewayState;
import io.peerlink.gateway.internal.RedisGatewayState;
import io.peerlink.gateway.internal.JakartaEngineIoEndpoint;
import io.peerlink.gateway.internal.PollingServlet;
import io.peerlink.gateway.internal.RelayHub;
import io.socket.engineio.server.EngineIoServer;
import io.socket.engineio.server.EngineIoServerOptions;
import io.socket.socketio.server.SocketIoServer;

import jakarta.websocket.server.ServerEndpointConfig;

import org.eclipse.jetty.ee10.servlet.ServletContextHandler;
import org.eclipse.jetty.ee10.servlet.ServletHolder;
import org.eclipse.jetty.ee10.websocket.jakarta.server.config.JakartaWebSocketServletContainerInitializer;

import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The Socket.IO gateway endpoint: socket.io-server-java on Jetty 12 ee10, WebSocket (through a
 * {@code jakarta.websocket} adapter) and HTTP long-polling on the same path, with the gateway
 * protocol on namespace {@value #NAMESPACE} (docs/gateway.md).
 *
 * <p>Mount {@link #contextHandler()} in a Jetty server, e.g. in a
 * {@code ContextHandlerCollection}; gateways then connect to
 * {@code http://host:port/socket.io/} + namespace {@code /gateway}. Use {@link #platform()} for
 * commands, models and listeners. {@link #close()} stops the timers and disconnects gateways;
 * it does not stop Jetty.
 */
public final class GatewayServer implements AutoCloseable {

    public static final String NAMESPACE = "/gateway";
    public static final String DEFAULT_CONTEXT_PATH = "/socket.io";
    public static final String RELAY_NAMESPACE = "/relay";
    /** Largest datagram the relay forwards. */
    public static final int MAX_RELAY_DATAGRAM = 16 * 1024;

    private final GatewayLimits limits;
    private final ScheduledExecutorService scheduler;
    private final EngineIoServer engineIo;
    private final GatewayHub hub;
    private final String contextPath;

    private GatewayServer(GatewayKeyStore keys, GatewayLimits limits, String contextPath, boolean relay, java.net.URI redis,
                          String redisKeyPrefix) {
        this.limits = limits;
        this.contextPath = contextPath;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "peerlink-gateway-timer");
            t.setDaemon(true);
            return t;
        });
        EngineIoServerOptions options = EngineIoServerOptions.newFromDefault();
        // Gateways are not browsers; cross-origin requests are refused unless a deployment opts in.
        options.setAllowedCorsOrigins(EngineIoServerOptions.ALLOWED_CORS_ORIGIN_NONE);
        this.engineIo = new EngineIoServer(options);
        SocketIoServer socketIo = new SocketIoServer(engineIo);
        GatewayState state = redis == null ? new InMemoryGatewayState()
                : new RedisGatewayState(redis, redisKeyPrefix, limits.heartbeatInterval().multipliedBy(limits.missedHeartbeats()));
        this.hub = new GatewayHub(keys, limits, scheduler, state);
        hub.attach(socketIo.namespace(NAMESPACE));
        if (relay) {
            new RelayHub(keys, limits.nonceTtl().toMillis(), MAX_RELAY_DATAGRAM, 50_000, 100_000)
                    .attach(socketIo.namespace(RELAY_NAMESPACE));
        }
    }

    public static Builder builder(GatewayKeyStore keys) {
        return new Builder(keys);
    }

    /** The platform-side API. */
    public GatewayPlatform platform() {
        return hub;
    }

    public GatewayLimits limits() {
        return limits;
    }

    /**
     * A new Jetty context at the configured path (default {@value #DEFAULT_CONTEXT_PATH}) serving
     * the polling servlet and the WebSocket endpoint behind the admission control.
     */
    public ServletContextHandler contextHandler() {
        ServletContextHandler context = new ServletContextHandler(contextPath);
        ServletHolder polling = new ServletHolder("engine.io-polling", new PollingServlet(engineIo));
        polling.setAsyncSupported(true);
        context.addServlet(polling, "/*");
        int max = limits.maxMessageBytes();
        JakartaWebSocketServletContainerInitializer.configure(context, (servletContext, container) -> {
            container.setDefaultMaxTextMessageBufferSize(max);
            container.setDefaultMaxBinaryMessageBufferSize(max);
            container.addEndpoint(ServerEndpointConfig.Builder.create(JakartaEngineIoEndpoint.class, "/")
                    .configurator(new ServerEndpointConfig.Configurator() {
                        @Override
                        public <T> T getEndpointInstance(Class<T> endpointClass) {
                            return endpointClass.cast(new JakartaEngineIoEndpoint(engineIo, max));
                        }
                    })
                    .build());
        });
        context.insertHandler(new AdmissionHandler(limits.connectsPerSecond(), limits.connectBurst(), max));
        return context;
    }

    @Override
    public void close() {
        hub.close();
        scheduler.shutdownNow();
        engineIo.shutdown();
    }

    public static final class Builder {
        private final GatewayKeyStore keys;
        private GatewayLimits limits = GatewayLimits.DEFAULTS;
        private String contextPath = DEFAULT_CONTEXT_PATH;
        private boolean relay;
        private java.net.URI redis;
        private String redisKeyPrefix = "peerlink:";

        private Builder(GatewayKeyStore keys) {
            this.keys = Objects.requireNonNull(keys, "keys");
        }

        public Builder limits(GatewayLimits limits) {
            this.limits = Objects.requireNonNull(limits, "limits");
            return this;
        }

        public Builder contextPath(String contextPath) {
            if (!contextPath.startsWith("/")) {
                throw new IllegalArgumentException("context path must start with '/': " + contextPath);
            }
            this.contextPath = contextPath;
            return this;
        }

        /**
         * Also serves the datagram relay on {@value #RELAY_NAMESPACE} for the Socket.IO transport
         * ({@code transports/socketio}); every id of the key store may use it. Off by default.
         */
        public Builder datagramRelay(boolean enabled) {
            this.relay = enabled;
            return this;
        }

        /**
         * Several platform nodes behind one name: the device registry, models, online status and
         * command routing live in this Redis (docs/gateway.md, "Several nodes"). Default: none, one
         * node with in-memory state.
         *
         * @param uri {@code redis://host:port} or {@code rediss://...}, or null for in-memory
         * @param keyPrefix prefix of every key and channel (default {@code peerlink:})
         */
        public Builder redis(java.net.URI uri, String keyPrefix) {
            if (uri != null && !"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme())) {
                throw new IllegalArgumentException("the Redis URI must start with redis:// or rediss://: " + uri.getScheme() + "://...");
            }
            this.redis = uri;
            this.redisKeyPrefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
            return this;
        }

        public GatewayServer build() {
            return new GatewayServer(keys, limits, contextPath, relay, redis, redisKeyPrefix);
        }
    }
}
