package io.peerlink.server.rendezvous;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.net.InetSocketAddress;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * Adapts one Jetty WebSocket session to a {@link ControlSession}. Jetty delivers a session's
 * messages one at a time (auto-demand after each), which is the serial order the rendezvous
 * logic relies on. Sends are asynchronous and queued by Jetty, so other devices' threads may
 * send here without blocking.
 */
public final class JettyControlEndpoint implements Session.Listener.AutoDemanding {
    private static final Logger LOG = Logger.getLogger(JettyControlEndpoint.class.getName());
    private final RendezvousService service;
    private volatile ControlSession control;

    /** @param service the rendezvous logic */
    public JettyControlEndpoint(RendezvousService service) {
        this.service = service;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        control = service.open(new Connection() {
            @Override
            public void send(String text) {
                if (session.isOpen()) {
                    session.sendText(text, Callback.NOOP);
                }
            }

            @Override
            public void close(int code, String reason) {
                session.close(code, reason, Callback.NOOP);
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return session.getRemoteSocketAddress() instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
            }
        });
    }

    @Override
    public void onWebSocketText(String message) {
        ControlSession c = control;
        if (c != null) {
            c.onText(message);
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, org.eclipse.jetty.websocket.api.Callback callback) {
        ControlSession c = control;
        if (c != null) {
            c.onClose();
        }
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.log(Level.FINE, "control connection error", cause);
        ControlSession c = control;
        if (c != null) {
            c.onClose();
        }
    }
}
