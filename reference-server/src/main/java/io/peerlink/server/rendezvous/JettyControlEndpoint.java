package io.peerlink.server.rendezvous;

import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.net.InetSocketAddress;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import io.peerlink.server.log.RateLimitedLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Adapts one Jetty WebSocket session to a {@link ControlSession}. Jetty delivers a session's
 * messages one at a time (auto-demand after each), which is the serial order the rendezvous
 * logic relies on. Sends are asynchronous and queued by Jetty, so other devices' threads may
 * send here without blocking; the bytes queued and not yet written are counted, and a device
 * that lets more than the limit pile up (it does not read) is disconnected as a slow reader.
 * Connections beyond the per-address cap are closed before the rendezvous sees them.
 */
public final class JettyControlEndpoint implements Session.Listener.AutoDemanding {
    private static final Logger LOG = LoggerFactory.getLogger(JettyControlEndpoint.class);
    private static final RateLimitedLogger SLOW_READERS = RateLimitedLogger.of(LOG);
    /** WebSocket close code: try again later (RFC 6455 registry, 1013). */
    static final int CLOSE_TRY_AGAIN_LATER = 1013;
    private final RendezvousService service;
    private final AddressCaps caps;
    private final long maxQueuedBytes;
    private final AtomicLong queued = new AtomicLong();
    private final AtomicBoolean released = new AtomicBoolean();
    private volatile ControlSession control;
    private volatile InetSocketAddress remote;
    private volatile boolean counted;

    /**
     * @param service the rendezvous logic
     * @param caps per-address connection caps
     * @param maxQueuedBytes bytes queued for this device beyond which it is disconnected
     */
    public JettyControlEndpoint(RendezvousService service, AddressCaps caps, long maxQueuedBytes) {
        this.service = service;
        this.caps = caps;
        this.maxQueuedBytes = maxQueuedBytes;
    }

    @Override
    public void onWebSocketOpen(Session session) {
        remote = session.getRemoteSocketAddress() instanceof InetSocketAddress a ? a : new InetSocketAddress(0);
        if (!caps.tryAcquire(remote.getAddress())) {
            LOG.debug("closing a control connection from {}: over {} from that address", remote, caps.perAddress());
            session.close(CLOSE_TRY_AGAIN_LATER, "too many connections from this address", Callback.NOOP);
            return;
        }
        counted = true;
        control = service.open(new Connection() {
            @Override
            public void send(String text) {
                if (!session.isOpen()) {
                    return;
                }
                // Jetty sends UTF-8; the UTF-16 length bounds it within a factor of 3, close enough for a queue bound.
                long size = text.length();
                service.queuedBytes.addAndGet(size);
                if (queued.addAndGet(size) > maxQueuedBytes) {
                    service.queuedBytes.addAndGet(-size);
                    SLOW_READERS.info("disconnecting {}: more than {} bytes queued (slow reader)", remote, maxQueuedBytes);
                    session.disconnect();
                    return;
                }
                session.sendText(text, Callback.from(() -> dequeued(size), failure -> dequeued(size)));
            }

            @Override
            public boolean sendBinary(java.nio.ByteBuffer frame) {
                if (!session.isOpen()) {
                    return false;
                }
                long size = frame.remaining();
                service.queuedBytes.addAndGet(size);
                if (queued.addAndGet(size) > maxQueuedBytes) {
                    service.queuedBytes.addAndGet(-size);
                    SLOW_READERS.info("disconnecting {}: more than {} bytes queued (slow reader)", remote, maxQueuedBytes);
                    session.disconnect();
                    return false;
                }
                session.sendBinary(frame, Callback.from(() -> dequeued(size), failure -> dequeued(size)));
                return true;
            }

            @Override
            public void close(int code, String reason) {
                session.close(code, reason, Callback.NOOP);
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return remote;
            }

            @Override
            public InetSocketAddress localAddress() {
                return session.getLocalSocketAddress() instanceof InetSocketAddress a ? a : null;
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
    public void onWebSocketBinary(java.nio.ByteBuffer payload, Callback callback) {
        try {
            ControlSession c = control;
            if (c != null) {
                c.onBinary(payload);
            }
        } finally {
            callback.succeed();
        }
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        closed();
        callback.succeed();
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        LOG.debug("control connection error", cause);
        closed();
    }

    private void closed() {
        if (counted && released.compareAndSet(false, true)) {
            caps.release(remote.getAddress());
        }
        ControlSession c = control;
        if (c != null) {
            c.onClose();
        }
    }

    private void dequeued(long size) {
        queued.addAndGet(-size);
        service.queuedBytes.addAndGet(-size);
    }

    /** @return bytes queued for this device and not yet written (diagnostics, tests) */
    long queuedBytes() {
        return queued.get();
    }
}
