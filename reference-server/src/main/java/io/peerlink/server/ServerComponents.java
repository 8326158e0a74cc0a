package io.peerlink.server;

import io.peerlink.server.auth.ServerConfigurable;
import io.peerlink.server.relay.TurnRelays;
import io.peerlink.server.rendezvous.PresenceRegistry;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.stun.StunServer;
import io.peerlink.spi.AccessPolicy;
import io.peerlink.spi.Authenticator;
import jakarta.enterprise.context.Dependent;
import jakarta.enterprise.inject.Disposes;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.logging.Logger;

/**
 * CDI producers that assemble the reference server. {@code @Singleton} (a pseudo-scope) rather
 * than {@code @ApplicationScoped}: no client proxies, so Weld starts fast and calls are direct.
 * Authenticators and access policies are found with {@link ServiceLoader} by name, so a
 * third-party one plugs in exactly like the built-ins.
 */
@Dependent
public class ServerComponents {
    private static final Logger LOG = Logger.getLogger(ServerComponents.class.getName());

    /** CDI needs a public no-arg constructor. */
    public ServerComponents() {
    }

    @Produces
    @Singleton
    Authenticator authenticator(ServerConfig config) {
        Authenticator a = byName(Authenticator.class, Authenticator::name, config.effectiveAuthenticator());
        if (a instanceof ServerConfigurable c) {
            c.configure(config);
        }
        return a;
    }

    @Produces
    @Singleton
    AccessPolicy accessPolicy(ServerConfig config) {
        AccessPolicy p = byName(AccessPolicy.class, AccessPolicy::name, config.accessPolicy());
        if (p instanceof ServerConfigurable c) {
            c.configure(config);
        }
        return p;
    }

    @Produces
    @Singleton
    PresenceRegistry presenceRegistry(ServerConfig config) {
        // Only an allow-list bounds the set of devices that can ever be admitted; otherwise forget those that leave.
        return new PresenceRegistry(!"allow-list".equals(config.effectiveAuthenticator()));
    }

    @Produces
    @Singleton
    RendezvousService rendezvous(ServerConfig config, Authenticator authenticator, AccessPolicy policy, PresenceRegistry registry) {
        return new RendezvousService(config, authenticator, policy, registry);
    }

    void closeRendezvous(@Disposes RendezvousService service) {
        service.close();
    }

    @Produces
    @Singleton
    StunServerHolder stun(ServerConfig config) {
        if (config.stunPort() < 0) {
            return new StunServerHolder(null);
        }
        return new StunServerHolder(StunServer.start(new InetSocketAddress(config.bindHost(), config.stunPort()),
                config.limits().stunPerSourcePerSecond()));
    }

    void closeStun(@Disposes StunServerHolder holder) {
        holder.close();
    }

    @Produces
    @Singleton
    TurnRelays turn(ServerConfig config) {
        return TurnRelays.start(config);
    }

    void closeTurn(@Disposes TurnRelays relays) {
        relays.close();
    }

    private static <T> T byName(Class<T> type, Function<T, String> name, String wanted) {
        List<String> available = new ArrayList<>();
        for (T candidate : ServiceLoader.load(type, ServerComponents.class.getClassLoader())) {
            String n = name.apply(candidate);
            if (n.equals(wanted)) {
                LOG.info(() -> type.getSimpleName() + " '" + wanted + "': " + candidate.getClass().getName());
                return candidate;
            }
            available.add(n);
        }
        throw new IllegalStateException("no " + type.getSimpleName() + " named '" + wanted + "'; available: " + available
                + " (register yours in META-INF/services/" + type.getName() + ")");
    }

    /** The STUN server, or none when disabled; a holder because CDI producers may not return null for a singleton. */
    public static final class StunServerHolder implements AutoCloseable {
        private final StunServer server;

        StunServerHolder(StunServer server) {
            this.server = server;
        }

        /** @return the server, or null if STUN is disabled */
        public StunServer server() {
            return server;
        }

        @Override
        public void close() {
            if (server != null) {
                server.close();
            }
        }
    }
}
