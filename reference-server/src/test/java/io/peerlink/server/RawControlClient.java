package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.RendezvousCodec;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A bare JDK WebSocket speaking whatever the test says, to send the server hostile input. */
final class RawControlClient implements AutoCloseable {
    static final RendezvousCodec CODEC = new RendezvousCodec();
    final BlockingQueue<String> received = new LinkedBlockingQueue<>();
    /** Binary messages (relay frames), whole. */
    final BlockingQueue<java.nio.ByteBuffer> binary = new LinkedBlockingQueue<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    final WebSocket ws;
    /** Set to stop reading: the client then lets what the server sends pile up (a slow reader). */
    volatile boolean paused;
    /** The identity this client was admitted with, if a test set it. */
    DeviceIdentity identity;
    final Message.Challenge challenge;

    RawControlClient(URI uri) throws Exception {
        ws = HttpClient.newHttpClient().newWebSocketBuilder().buildAsync(uri, new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    received.add(partial.toString());
                    partial.setLength(0);
                }
                if (!paused) {
                    webSocket.request(1);
                }
                return null;
            }

            private java.nio.ByteBuffer parts = java.nio.ByteBuffer.allocate(0);

            @Override
            public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
                java.nio.ByteBuffer joined = java.nio.ByteBuffer.allocate(parts.remaining() + data.remaining());
                joined.put(parts).put(data).flip();
                parts = joined;
                if (last) {
                    binary.add(parts);
                    parts = java.nio.ByteBuffer.allocate(0);
                }
                if (!paused) {
                    webSocket.request(1);
                }
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
                closed.complete(statusCode);
                return null;
            }

            @Override
            public void onError(WebSocket webSocket, Throwable error) {
                closed.complete(-1);
            }
        }).get(5, TimeUnit.SECONDS);
        challenge = (Message.Challenge) next();
    }

    Message next() throws Exception {
        String text = received.poll(5, TimeUnit.SECONDS);
        if (text == null) {
            throw new AssertionError("no message from the server within 5 s");
        }
        try {
            return CODEC.decode(text);
        } catch (ProtocolException e) {
            throw new AssertionError("server sent an invalid message: " + text, e);
        }
    }

    /** @return the next message that is not a server ping */
    Message nextNonPing() throws Exception {
        while (true) {
            Message m = next();
            if (!(m instanceof Message.Ping)) {
                return m;
            }
        }
    }

    void send(String text) throws Exception {
        ws.sendText(text, true).get(5, TimeUnit.SECONDS);
    }

    void sendBinary(java.nio.ByteBuffer frame) throws Exception {
        ws.sendBinary(frame, true).get(5, TimeUnit.SECONDS);
    }

    void send(Message m) throws Exception {
        send(CODEC.encode(m));
    }

    static Message.Hello hello(DeviceIdentity identity, byte[] nonce) {
        return hello(identity, nonce, "127.0.0.1", List.of());
    }

    /** A hello signed for {@code serverName} with these candidates. */
    static Message.Hello hello(DeviceIdentity identity, byte[] nonce, String serverName, List<io.peerlink.Candidate> candidates) {
        return new Message.Hello(Handshake.VERSION, identity.id(), identity.rawPublicKey(),
                identity.sign(Handshake.signedPayload(nonce, identity.id(), serverName)), serverName, Map.of(), candidates);
    }

    int awaitClose() throws Exception {
        return closed.get(5, TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        ws.abort();
    }
}
