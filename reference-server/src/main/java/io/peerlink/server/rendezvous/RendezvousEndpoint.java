package io.peerlink.server.rendezvous;

import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.server.HttpEndpoint;
import io.peerlink.server.ServerConfig;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.handler.ContextHandler;
import org.eclipse.jetty.websocket.server.WebSocketUpgradeHandler;

import java.time.Duration;

/**
 * The rendezvous control WebSocket ({@value Handshake#PATH}) as an {@link HttpEndpoint}: a context
 * at the path's parent ({@code /peerlink}) upgrading {@code /v1} to a {@link JettyControlEndpoint}.
 */
@ApplicationScoped
public class RendezvousEndpoint implements HttpEndpoint {
    private static final String CONTEXT = Handshake.PATH.substring(0, Handshake.PATH.lastIndexOf('/'));
    private static final String MAPPING = Handshake.PATH.substring(Handshake.PATH.lastIndexOf('/'));

    private ServerConfig config;
    private RendezvousService rendezvous;

    /** CDI. */
    protected RendezvousEndpoint() {
    }

    /**
     * @param config the server configuration
     * @param rendezvous the rendezvous logic
     */
    @Inject
    public RendezvousEndpoint(ServerConfig config, RendezvousService rendezvous) {
        this.config = config;
        this.rendezvous = rendezvous;
    }

    @Override
    public String name() {
        return "rendezvous";
    }

    @Override
    public String contextPath() {
        return CONTEXT;
    }

    @Override
    public Handler handler(Server jetty) {
        AddressCaps caps = new AddressCaps(config.limits().maxConnectionsPerAddress());
        ContextHandler context = new ContextHandler(CONTEXT);
        WebSocketUpgradeHandler ws = WebSocketUpgradeHandler.from(jetty, context, container -> {
            // Jetty's own limit is set above ours so an oversized message reaches the protocol layer and
            // gets a TOO_LARGE error; only absurd sizes are cut off by Jetty itself (close 1009).
            container.setMaxTextMessageSize(4L * config.limits().maxMessageBytes());
            // Binary messages are relay frames (docs/protocol-rendezvous.md, "Relay frames").
            container.setMaxBinaryMessageSize(io.peerlink.protocol.rendezvous.RelayFrame.MAX_FRAME);
            container.setIdleTimeout(Duration.ofMillis(config.keepalive().toMillis() * 4));
            container.addMapping(MAPPING, (request, response, callback) ->
                    new JettyControlEndpoint(rendezvous, caps, config.limits().maxQueuedBytes()));
        });
        context.setHandler(ws);
        return context;
    }
}
