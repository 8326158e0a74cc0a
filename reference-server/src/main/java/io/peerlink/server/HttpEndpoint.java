package io.peerlink.server;

import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;

/**
 * Something the reference server serves on its HTTP port, contributed as a CDI bean: the
 * rendezvous WebSocket, the operations endpoints, the HTTP-to-CoAP proxy, the Socket.IO gateway,
 * or a third party's own. The server collects every bean of this type and mounts the enabled ones
 * into its Jetty handler tree before Jetty starts (docs/embedding.md, "Contributing an endpoint"):
 *
 * <ul>
 *   <li>a handler that is a {@link org.eclipse.jetty.server.handler.ContextHandler} is mounted as it
 *       is; its context path must be {@link #contextPath()} and no other endpoint may claim that path;</li>
 *   <li>any other handler shares one context at {@link #contextPath()} with the other plain handlers
 *       at that path, tried in {@link #order()} until one handles the request.</li>
 * </ul>
 *
 * A third-party endpoint is a bean class in a jar on the server's class path, named in the jar's
 * {@code META-INF/services/io.peerlink.server.HttpEndpoint}; the server adds it to its CDI container
 * (no class-path scanning, so an application's own beans never leak in). It may {@code @Inject} the
 * {@link ServerConfig} and read its own settings with {@code config.plugin("endpoint.<name>.")},
 * inject server components and observe {@link ServerStarted} / {@link ServerStopping}.
 */
public interface HttpEndpoint {

    /** @return a short name for logs and errors, e.g. {@code rendezvous} */
    String name();

    /** @return the context path, {@code /} or {@code /something} without a trailing slash */
    String contextPath();

    /** @return false to leave this endpoint out (e.g. switched off in the configuration); default true */
    default boolean enabled() {
        return true;
    }

    /** @return among plain handlers at the same context path, lower runs first; default 0 */
    default int order() {
        return 0;
    }

    /**
     * Adjusts the HTTP connector's configuration (e.g. URI compliance) before Jetty starts; default nothing.
     *
     * @param http the connector's configuration
     */
    default void customize(HttpConfiguration http) {
    }

    /**
     * Builds the handler; called once, before Jetty starts.
     *
     * @param jetty the server it will run in (for handlers that need it, e.g. WebSocket upgrades)
     * @return the handler
     * @throws IllegalStateException if the endpoint cannot be set up; the message says what to fix
     */
    Handler handler(Server jetty);
}
