package io.peerlink.server;

import io.peerlink.server.auth.AllowListAuthenticator;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.spi.Authenticator;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

/**
 * Watches the allow-list file from {@link ServerStarted} to {@link ServerStopping} when the
 * authenticator is the allow-list and it was read from a file (docs/operations.md).
 */
@ApplicationScoped
public class AllowListWatch {
    /** How often the allow-list file's modification time is checked. */
    static final long CHECK_MILLIS = 1000;

    private Authenticator authenticator;
    private RendezvousService rendezvous;
    private AllowListReloader reloader;

    /** CDI. */
    protected AllowListWatch() {
    }

    @Inject
    AllowListWatch(Authenticator authenticator, RendezvousService rendezvous) {
        this.authenticator = authenticator;
        this.rendezvous = rendezvous;
    }

    synchronized void start(@Observes ServerStarted started) {
        if (reloader == null && authenticator instanceof AllowListAuthenticator list && list.file() != null) {
            reloader = new AllowListReloader(list, rendezvous, CHECK_MILLIS);
        }
    }

    synchronized void stop(@Observes ServerStopping stopping) {
        if (reloader != null) {
            reloader.close();
            reloader = null;
        }
    }

    @PreDestroy
    synchronized void destroy() {
        stop(null);
    }
}
