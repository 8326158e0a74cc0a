package io.peerlink.server.stun;

import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import java.io.UncheckedIOException;
import java.net.InetSocketAddress;

/** The STUN server as a {@link ServerService}: on {@code stun.port} (3478), off when it is -1. */
@ApplicationScoped
public class StunService implements ServerService {
    private ServerConfig config;
    private volatile StunServer server;

    /** CDI. */
    protected StunService() {
    }

    /** @param config the server configuration */
    @Inject
    public StunService(ServerConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "stun";
    }

    @Override
    public boolean enabled() {
        return config.stunPort() >= 0;
    }

    @Override
    public void start() {
        try {
            server = StunServer.start(new InetSocketAddress(config.bindHost(), config.stunPort()),
                    config.limits().stunPerSourcePerSecond());
        } catch (UncheckedIOException e) {
            throw new IllegalStateException(e.getMessage() + " (stun.port " + config.stunPort() + "; -1 turns STUN off)", e);
        }
    }

    @Override
    public String describe() {
        StunServer s = server;
        return s == null ? "off" : "udp " + s.localAddress();
    }

    @Override
    public void stop() {
        StunServer s = server;
        if (s != null) {
            s.close();
        }
    }

    /** @return the running server, or null when off or not started */
    public StunServer server() {
        return server;
    }

    /** @return Binding requests answered (0 when off) */
    public long answered() {
        StunServer s = server;
        return s == null ? 0 : s.answered();
    }

    /** @return datagrams dropped (0 when off) */
    public long dropped() {
        StunServer s = server;
        return s == null ? 0 : s.dropped();
    }

    /** @return valid requests dropped by the per-source limit (0 when off) */
    public long rateLimited() {
        StunServer s = server;
        return s == null ? 0 : s.rateLimited();
    }
}
