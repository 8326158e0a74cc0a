package io.peerlink.gateway.internal;

import io.socket.engineio.server.EngineIoServer;
import io.socket.engineio.server.EngineIoWebSocket;

import jakarta.websocket.CloseReason;
import jakarta.websocket.Endpoint;
import jakarta.websocket.EndpointConfig;
import jakarta.websocket.MessageHandler;
import jakarta.websocket.Session;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Bridges a {@code jakarta.websocket} session to engine.io-server-java's transport-neutral
 * {@link EngineIoWebSocket}: incoming frames are emitted as {@code "message"}, the session's end
 * as {@code "close"}, failures as {@code "error"}; engine.io writes through the session's basic
 * remote. The container enforces the message size limit ({@code CloseCodes.TOO_BIG}) before a
 * frame reaches engine.io.
 */
public final class JakartaEngineIoEndpoint extends Endpoint {

    private final EngineIoServer engineIo;
    private final int maxMessageBytes;
    private volatile Adapter adapter;

    public JakartaEngineIoEndpoint(EngineIoServer engineIo, int maxMessageBytes) {
        this.engineIo = engineIo;
        this.maxMessageBytes = maxMessageBytes;
    }

    @Override
    public void onOpen(Session session, EndpointConfig config) {
        session.setMaxTextMessageBufferSize(maxMessageBytes);
        session.setMaxBinaryMessageBufferSize(maxMessageBytes);
        Adapter a = new Adapter(session);
        adapter = a;
        session.addMessageHandler(String.class, (MessageHandler.Whole<String>) text -> a.emit("message", text));
        session.addMessageHandler(ByteBuffer.class, (MessageHandler.Whole<ByteBuffer>) buffer -> {
            byte[] bytes = new byte[buffer.remaining()];
            buffer.get(bytes);
            a.emit("message", (Object) bytes);
        });
        engineIo.handleWebSocket(a);
    }

    @Override
    public void onClose(Session session, CloseReason closeReason) {
        Adapter a = adapter;
        if (a != null) {
            a.emit("close");
        }
    }

    @Override
    public void onError(Session session, Throwable thr) {
        Adapter a = adapter;
        if (a != null) {
            a.emit("error", "websocket error", String.valueOf(thr.getMessage()));
        }
    }

    private static final class Adapter extends EngineIoWebSocket {
        private final Session session;
        private final Map<String, String> query;

        Adapter(Session session) {
            this.session = session;
            Map<String, String> q = new HashMap<>();
            for (Map.Entry<String, List<String>> e : session.getRequestParameterMap().entrySet()) {
                if (!e.getValue().isEmpty()) {
                    q.put(e.getKey(), e.getValue().get(0));
                }
            }
            this.query = Map.copyOf(q);
        }

        @Override
        public Map<String, String> getQuery() {
            return query;
        }

        @Override
        public Map<String, List<String>> getConnectionHeaders() {
            // engine.io only consults headers for a handshake interceptor, which we do not install:
            // admission control happens before the upgrade (AdmissionHandler).
            return Map.of();
        }

        // The basic remote allows one writer at a time; engine.io writes from the receiving
        // thread and from its ping timer.
        @Override
        public synchronized void write(String message) throws IOException {
            if (session.isOpen()) {
                session.getBasicRemote().sendText(message);
            }
        }

        @Override
        public synchronized void write(byte[] message) throws IOException {
            if (session.isOpen()) {
                session.getBasicRemote().sendBinary(ByteBuffer.wrap(message));
            }
        }

        @Override
        public void close() {
            try {
                session.close();
            } catch (IOException ignored) {
                // Already closing: nothing left to release.
            }
        }
    }
}
