package io.peerlink.server.dashboard;

import io.peerlink.server.HttpEndpoint;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerStopping;
import io.peerlink.server.rendezvous.RendezvousService;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;

import java.time.Duration;

/**
 * The operator dashboard as the server's endpoint bean: mounted at {@code /dashboard} when an
 * operator token is configured, absent otherwise (docs/operations.md, "Dashboard").
 */
@ApplicationScoped
public class DashboardEndpoint implements HttpEndpoint {
    private ServerConfig config;
    private RendezvousService rendezvous;
    private volatile Dashboard dashboard;

    /** CDI. */
    protected DashboardEndpoint() {
    }

    @Inject
    DashboardEndpoint(ServerConfig config, RendezvousService rendezvous) {
        this.config = config;
        this.rendezvous = rendezvous;
    }

    @Override
    public String name() {
        return "dashboard";
    }

    @Override
    public String contextPath() {
        return Dashboard.PATH;
    }

    @Override
    public boolean enabled() {
        return config.statusToken() != null;
    }

    @Override
    public Handler handler(Server jetty) {
        Dashboard d = new Dashboard(rendezvous, config.statusToken(), Duration.ofMillis(Dashboard.DEFAULT_PERIOD_MILLIS));
        rendezvous.addEvents(d.events());
        dashboard = d;
        return d.handler();
    }

    /** @return the running dashboard, or null when it is not mounted */
    public Dashboard dashboard() {
        return dashboard;
    }

    /** Ends the open event streams before Jetty stops, so stopping does not wait for them. */
    void stopping(@Observes ServerStopping event) {
        close();
    }

    @PreDestroy
    void close() {
        Dashboard d = dashboard;
        if (d != null) {
            d.close();
        }
    }
}
