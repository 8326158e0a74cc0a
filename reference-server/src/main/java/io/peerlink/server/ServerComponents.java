package io.peerlink.server;

import io.peerlink.server.rendezvous.InMemoryPresenceRegistry;
import io.peerlink.server.metrics.ServerMetrics;
import io.peerlink.server.relay.TurnRelays;
import io.peerlink.server.rendezvous.PresenceRegistry;
import io.peerlink.server.rendezvous.RedisPresenceRegistry;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.stun.StunService;
import io.peerlink.spi.AccessPolicy;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.PluginConfigException;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.NetworkConnectionLimit;
import org.eclipse.jetty.server.SecureRequestCustomizer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.SslConnectionFactory;
import org.eclipse.jetty.util.ssl.SslContextFactory;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;

/**
 * CDI producers for the server's components that are not beans by themselves: the plug-ins
 * (found with {@link ServiceLoader} by name and configured through the SPI's
 * {@link io.peerlink.spi.PluginConfig}), the rendezvous service, the Jetty server with its
 * connector, and the metrics. {@code @Singleton} (a pseudo-scope) because these types are final
 * or third-party classes that cannot be proxied; the endpoint and service beans themselves are
 * {@code @ApplicationScoped}.
 */
@Dependent
public class ServerComponents {
    private static final Logger LOG = LoggerFactory.getLogger(ServerComponents.class);

    /** CDI needs a public no-arg constructor. */
    public ServerComponents() {
    }

    @Produces
    @Singleton
    Authenticator authenticator(ServerConfig config) {
        String name = config.effectiveAuthenticator();
        Authenticator a = byName(Authenticator.class, Authenticator::name, name, "authenticator");
        configure(() -> a.configure(config.plugin("authenticator." + name + ".")), "authenticator", name);
        return a;
    }

    @Produces
    @Singleton
    AccessPolicy accessPolicy(ServerConfig config) {
        String name = config.accessPolicy();
        AccessPolicy p = byName(AccessPolicy.class, AccessPolicy::name, name, "access-policy");
        configure(() -> p.configure(config.plugin("access-policy." + name + ".")), "access-policy", name);
        return p;
    }

    private static void configure(Runnable configure, String kind, String name) {
        try {
            configure.run();
        } catch (PluginConfigException e) {
            throw e;
        } catch (RuntimeException e) {
            // A plug-in that threw something else still gets a message that names where to look.
            throw new PluginConfigException(kind + "." + name + ".*", "the plug-in refused its configuration: " + e.getMessage(), e);
        }
    }

    @Produces
    @Singleton
    PresenceRegistry presenceRegistry(ServerConfig config) {
        // Only an allow-list bounds the set of devices that can ever be admitted; otherwise forget those that leave.
        boolean forgetOnLeave = !"allow-list".equals(config.effectiveAuthenticator());
        if (config.redis() != null) {
            return RedisPresenceRegistry.connect(config.redis(), config.keepalive().multipliedBy(3), forgetOnLeave);
        }
        return new InMemoryPresenceRegistry(forgetOnLeave);
    }

    void closePresenceRegistry(@Disposes PresenceRegistry registry) {
        registry.close();
    }

    @Produces
    @Singleton
    RendezvousService rendezvous(ServerConfig config, Authenticator authenticator, AccessPolicy policy, PresenceRegistry registry) {
        return new RendezvousService(config, authenticator, policy, registry);
    }

    void closeRendezvous(@Disposes RendezvousService service) {
        service.close();
    }

    /** Jetty with its one connector (HTTP or HTTPS) and no handler yet: {@link JettyHost} mounts the endpoints. */
    @Produces
    @Singleton
    Server jetty(ServerConfig config) {
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
        connector.setHost(config.bindHost());
        connector.setPort(config.httpPort());
        server.addConnector(connector);
        server.setStopTimeout(2000);
        return server;
    }

    void stopJetty(@Disposes Server jetty) {
        try {
            jetty.stop();
        } catch (Exception e) {
            LOG.warn("stopping Jetty: {}", e.toString());
        }
    }

    @Produces
    @Singleton
    ServerMetrics metrics(RendezvousService rendezvous, StunService stun, Server jetty) {
        // Connection metrics attach to the connector the Jetty producer added.
        return new ServerMetrics(rendezvous, stun.enabled() ? stun : null, jetty);
    }

    void closeMetrics(@Disposes ServerMetrics metrics) {
        metrics.close();
    }

    @Produces
    @Singleton
    TurnRelays turn(ServerConfig config) {
        return TurnRelays.start(config);
    }

    void closeTurn(@Disposes TurnRelays relays) {
        relays.close();
    }

    private static <T> T byName(Class<T> type, Function<T, String> name, String wanted, String key) {
        List<String> available = new ArrayList<>();
        for (T candidate : ServiceLoader.load(type, ServerComponents.class.getClassLoader())) {
            String n = name.apply(candidate);
            if (n.equals(wanted)) {
                LOG.info("{} '{}': {}", type.getSimpleName(), wanted, candidate.getClass().getName());
                return candidate;
            }
            available.add(n);
        }
        throw new IllegalStateException(key + ": no " + type.getSimpleName() + " named '" + wanted + "'; available: " + available
                + " (put a jar registering yours in META-INF/services/" + type.getName() + " on the class path)");
    }
}
