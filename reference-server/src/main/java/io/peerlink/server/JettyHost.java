package io.peerlink.server;

import io.peerlink.protocol.rendezvous.Handshake;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Event;
import jakarta.enterprise.inject.Any;
import jakarta.enterprise.inject.Instance;
import jakarta.inject.Inject;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetAddress;
import java.net.URI;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Composes the running server from the contributed beans: starts every enabled
 * {@link ServerService}, mounts every enabled {@link HttpEndpoint} into Jetty's handler tree
 * (see {@link HttpEndpoint} for the rules), starts Jetty and fires {@link ServerStarted};
 * {@link #stop()} fires {@link ServerStopping} and undoes it all in reverse.
 */
@ApplicationScoped
public class JettyHost {
    private static final Logger LOG = LoggerFactory.getLogger(JettyHost.class);

    private ServerConfig config;
    private Server jetty;
    private Instance<HttpEndpoint> endpoints;
    private Instance<ServerService> services;
    private Event<ServerStarted> started;
    private Event<ServerStopping> stopping;
    private final List<ServerService> running = new ArrayList<>();
    private final List<HttpEndpoint> mounted = new ArrayList<>();
    private volatile URI controlUri;
    private volatile boolean stopped;

    /** CDI. */
    protected JettyHost() {
    }

    @Inject
    JettyHost(ServerConfig config, Server jetty, @Any Instance<HttpEndpoint> endpoints, @Any Instance<ServerService> services,
              Event<ServerStarted> started, Event<ServerStopping> stopping) {
        this.config = config;
        this.jetty = jetty;
        this.endpoints = endpoints;
        this.services = services;
        this.started = started;
        this.stopping = stopping;
    }

    /**
     * Starts services, mounts endpoints, starts Jetty; on failure stops what was started.
     *
     * @param secure whether the connector speaks TLS (the control URI's scheme)
     * @return the control URI
     * @throws IllegalStateException if something cannot start; the message says what to fix
     */
    synchronized URI start(boolean secure) {
        try {
            List<ServerService> toStart = new ArrayList<>();
            services.forEach(s -> {
                if (s.enabled()) {
                    toStart.add(s);
                }
            });
            toStart.sort(Comparator.comparing(ServerService::name));
            for (ServerService s : toStart) {
                s.start();
                running.add(s);
            }
            jetty.setHandler(handlerTree());
            jetty.start();
        } catch (RuntimeException e) {
            stopAll();
            throw e;
        } catch (Exception e) {
            stopAll();
            throw new IllegalStateException("cannot start the HTTP server on " + config.bindHost() + ":" + config.httpPort()
                    + " (http.port): " + e.getMessage(), e);
        }
        ServerConnector connector = (ServerConnector) jetty.getConnectors()[0];
        String host = config.bindHost();
        if (host.equals("0.0.0.0") || host.equals("::")) {
            host = InetAddress.getLoopbackAddress().getHostAddress();
        }
        URI uri = URI.create((secure ? "wss://" : "ws://") + (host.indexOf(':') >= 0 ? "[" + host + "]" : host) + ":"
                + connector.getLocalPort() + Handshake.PATH);
        controlUri = uri;
        started.fire(new ServerStarted(uri));
        return uri;
    }

    private Handler handlerTree() {
        List<HttpEndpoint> enabled = new ArrayList<>();
        endpoints.forEach(e -> {
            if (e.enabled()) {
                enabled.add(e);
            }
        });
        enabled.sort(Comparator.comparing(HttpEndpoint::contextPath).thenComparingInt(HttpEndpoint::order)
                .thenComparing(HttpEndpoint::name));
        HttpConfiguration http = jetty.getConnectors()[0].getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration();
        Map<String, String> owners = new TreeMap<>();
        Map<String, List<Handler>> shared = new LinkedHashMap<>();
        Map<String, String> sharedBy = new TreeMap<>();
        List<Handler> contexts = new ArrayList<>();
        for (HttpEndpoint e : enabled) {
            String path = e.contextPath();
            if (!path.startsWith("/") || (path.length() > 1 && path.endsWith("/"))) {
                throw new IllegalStateException("endpoint '" + e.name() + "' has context path '" + path
                        + "': it must start with '/' and not end with one");
            }
            e.customize(http);
            Handler h = e.handler(jetty);
            if (h instanceof ContextHandler context) {
                if (!path.equals(context.getContextPath())) {
                    throw new IllegalStateException("endpoint '" + e.name() + "' declares context path " + path
                            + " but its handler is a context at " + context.getContextPath());
                }
                String other = owners.putIfAbsent(path, e.name());
                if (other != null || sharedBy.containsKey(path)) {
                    throw new IllegalStateException("endpoints '" + (other != null ? other : sharedBy.get(path)) + "' and '" + e.name()
                            + "' both claim context path " + path + "; change one of their paths");
                }
                contexts.add(context);
            } else {
                if (owners.containsKey(path)) {
                    throw new IllegalStateException("endpoints '" + owners.get(path) + "' and '" + e.name()
                            + "' both claim context path " + path + "; change one of their paths");
                }
                shared.computeIfAbsent(path, p -> new ArrayList<>()).add(h);
                sharedBy.merge(path, e.name(), (a, b) -> a + ", " + b);
            }
            mounted.add(e);
        }
        shared.forEach((path, handlers) -> {
            ContextHandler context = new ContextHandler(path);
            context.setHandler(handlers.size() == 1 ? handlers.get(0) : new Handler.Sequence(handlers.toArray(new Handler[0])));
            contexts.add(context);
        });
        return new ContextHandlerCollection(contexts.toArray(new ContextHandler[0]));
    }

    /** Fires {@link ServerStopping}, stops Jetty, then the services in reverse order; idempotent. */
    synchronized void stop() {
        if (stopped) {
            return;
        }
        stopped = true;
        stopping.fire(new ServerStopping());
        stopAll();
    }

    private void stopAll() {
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.warn("stopping Jetty: {}", e.toString());
        }
        for (int i = running.size() - 1; i >= 0; i--) {
            ServerService s = running.get(i);
            try {
                s.stop();
            } catch (RuntimeException e) {
                LOG.warn("stopping {}: {}", s.name(), e.toString());
            }
        }
        running.clear();
    }

    /** @return one line per running service and mounted endpoint, for the startup log */
    String describe() {
        StringBuilder b = new StringBuilder();
        for (ServerService s : running) {
            b.append("\n  service  ").append(s.name()).append(": ").append(s.describe());
        }
        for (HttpEndpoint e : mounted) {
            b.append("\n  endpoint ").append(e.name()).append(" at ").append(e.contextPath());
        }
        return b.toString();
    }

    /** @return the names of the mounted endpoints, in mounting order */
    List<String> mountedEndpoints() {
        return mounted.stream().map(HttpEndpoint::name).toList();
    }

    /** @return the names of the running services */
    List<String> runningServices() {
        return running.stream().map(ServerService::name).toList();
    }

    URI controlUri() {
        return controlUri;
    }
}
