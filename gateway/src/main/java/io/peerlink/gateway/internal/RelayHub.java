package io.peerlink.gateway.internal;

import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayKeyStore;
import io.socket.socketio.server.SocketIoNamespace;
import io.socket.socketio.server.SocketIoSocket;

import org.json.JSONArray;
import org.json.JSONObject;

import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Datagram relay on namespace {@code /relay} (docs/gateway.md, "Datagram relay"): clients
 * authenticate exactly like gateways, then {@code datagram(toId, bytes)} is forwarded to the
 * connection authenticated as {@code toId} as {@code datagram(fromId, bytes)}. Datagram
 * semantics: nothing is acknowledged, a datagram for an absent peer, an oversized one or one
 * beyond the connection's rate is dropped.
 */
public final class RelayHub {

    private static final int MAX_QUEUED = 1_000;

    private final GatewayKeyStore keys;
    private final NonceRegistry nonces;
    private final long nonceTtlMillis;
    private final int maxDatagramBytes;
    private final double datagramsPerSecond;
    private final int datagramBurst;
    private final Map<String, Peer> online = new ConcurrentHashMap<>();

    public RelayHub(GatewayKeyStore keys, long nonceTtlMillis, int maxDatagramBytes, double datagramsPerSecond,
                    int datagramBurst) {
        this.keys = keys;
        this.nonceTtlMillis = nonceTtlMillis;
        this.nonces = new NonceRegistry(nonceTtlMillis * 1_000_000L);
        this.maxDatagramBytes = maxDatagramBytes;
        this.datagramsPerSecond = datagramsPerSecond;
        this.datagramBurst = datagramBurst;
    }

    public void attach(SocketIoNamespace namespace) {
        namespace.on("connection", args -> onConnect((SocketIoSocket) args[0]));
    }

    private final class Peer {
        final SocketIoSocket socket;
        final String connectionId = UUID.randomUUID().toString();
        final TokenBucket rate = new TokenBucket(datagramsPerSecond, datagramBurst, System.nanoTime());
        volatile String id;
        volatile boolean closed;

        Peer(SocketIoSocket socket) {
            this.socket = socket;
        }

        final Queue<Object[]> outbox = new ConcurrentLinkedQueue<>();
        final AtomicInteger queued = new AtomicInteger();
        final AtomicBoolean draining = new AtomicBoolean();

        /**
         * Called on the sender's receiving thread. A binary event is several engine.io packets, so
         * sends to one peer must not interleave; yet no lock of ours may be held around a socket
         * call (engine.io's polling lock, see GatewayHub). So senders enqueue, and whoever wins
         * the drain flag sends everything queued.
         */
        void deliver(String from, byte[] data) {
            if (closed) {
                return;
            }
            if (queued.incrementAndGet() > MAX_QUEUED) {
                queued.decrementAndGet();
                return; // datagram semantics: drop when the peer cannot keep up
            }
            outbox.add(new Object[] {from, data});
            drain();
        }

        /** Sends everything queued unless another thread is doing so (or the peer is being acknowledged). */
        void drain() {
            while (!outbox.isEmpty() && draining.compareAndSet(false, true)) {
                try {
                    for (Object[] m; (m = outbox.poll()) != null; ) {
                        queued.decrementAndGet();
                        if (!closed) {
                            socket.send("datagram", m[0], m[1]);
                        }
                    }
                } finally {
                    draining.set(false);
                }
            }
        }
    }

    private void onConnect(SocketIoSocket socket) {
        Peer p = new Peer(socket);
        socket.on("disconnect", args -> {
            p.closed = true;
            nonces.forget(p.connectionId);
            if (p.id != null) {
                online.remove(p.id, p);
            }
        });
        // Events of one connection arrive one at a time on its receiving thread.
        socket.on("authenticate", args -> authenticate(p, args));
        socket.on("datagram", args -> forward(p, args));
        socket.send("challenge", new JSONObject()
                .put("nonce", nonces.issue(p.connectionId, System.nanoTime()))
                .put("algorithms", new JSONArray(List.of(ChallengeVerifier.HMAC, ChallengeVerifier.ED25519)))
                .put("expiresInMs", nonceTtlMillis));
    }

    private void authenticate(Peer p, Object[] args) {
        if (args.length != 2 || !(args[1] instanceof SocketIoSocket.ReceivedByLocalAcknowledgementCallback ack)) {
            p.socket.disconnect(true);
            return;
        }
        JSONObject reply = new JSONObject().put("ok", false);
        if (p.id != null) {
            ack.sendAcknowledgement(reply.put("error", ProtocolError.ALREADY_AUTHENTICATED));
            return;
        }
        if (!(args[0] instanceof JSONObject body)) {
            ack.sendAcknowledgement(reply.put("error", ProtocolError.BAD_REQUEST));
            p.socket.disconnect(true);
            return;
        }
        String id = body.optString("gatewayId", "");
        String nonce = body.optString("nonce", "");
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(body.optString("proof", ""));
        } catch (IllegalArgumentException e) {
            proof = new byte[0];
        }
        NonceRegistry.Verdict v = nonces.consume(nonce, p.connectionId, System.nanoTime());
        Optional<GatewayKey> key = id.isEmpty() || id.length() > EventArgs.MAX_ID_LENGTH ? Optional.empty()
                : keys.find(id);
        if (v != NonceRegistry.Verdict.OK || key.isEmpty()
                || !ChallengeVerifier.verify(key.get(), body.optString("algorithm"), id, nonce, proof)) {
            // One attempt per relay connection: a failed answer closes it.
            ack.sendAcknowledgement(reply.put("error", v == NonceRegistry.Verdict.OK ? ProtocolError.AUTH_FAILED
                    : v == NonceRegistry.Verdict.EXPIRED_NONCE ? ProtocolError.EXPIRED_NONCE : ProtocolError.UNKNOWN_NONCE));
            p.socket.disconnect(true);
            return;
        }
        p.id = id;
        // Go online before acknowledging, so a datagram sent to this peer after its start() has
        // returned is never dropped as "absent"; but hold the drain flag across the acknowledgement
        // (nobody else can hold it yet: the peer was not online), so datagrams delivered meanwhile
        // are queued and sent after it: no packet may come between a binary datagram's header and
        // its attachment, and the client learns it is authenticated before its first datagram.
        p.draining.set(true);
        Peer previous;
        try {
            previous = online.put(id, p);
            ack.sendAcknowledgement(new JSONObject().put("ok", true).put("maxDatagramBytes", maxDatagramBytes));
        } finally {
            p.draining.set(false);
        }
        p.drain();
        if (previous != null && previous != p && !previous.closed) {
            previous.socket.disconnect(true);
        }
    }

    private void forward(Peer from, Object[] args) {
        String fromId = from.id;
        if (fromId == null || args.length < 2 || !(args[0] instanceof String to) || !(args[1] instanceof byte[] data)
                || data.length > maxDatagramBytes || !from.rate.tryTake(System.nanoTime())) {
            return;
        }
        Peer target = online.get(to);
        if (target != null) {
            target.deliver(fromId, data);
        }
    }
}
