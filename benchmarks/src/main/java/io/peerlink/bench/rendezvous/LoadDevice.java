package io.peerlink.bench.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.Role;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.api.Session;

import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One simulated device on one real control connection: it speaks protocol v1 exactly as
 * {@code RendezvousClient} does (signs the challenge with its own Ed25519 key, says hello with
 * candidates, answers pings, accepts every incoming request), but without the client's two
 * threads per device, so ten thousand of them fit in one load-generator JVM. Jetty delivers a
 * session's messages one at a time; sends are queued by Jetty and may come from any thread.
 * Public only because Jetty invokes the listener methods reflectively.
 */
public final class LoadDevice implements Session.Listener.AutoDemanding {
    final int index;
    private final byte[] publicKey;
    private final java.util.function.UnaryOperator<byte[]> signer;
    final DeviceId id;
    private final Fleet fleet;
    private final AtomicLong nextRequestId = new AtomicLong();
    /** Completes on {@code welcome}; fails on an error, a refusal or a close before it. */
    volatile CompletableFuture<Void> registered = new CompletableFuture<>();
    private volatile Session session;
    private volatile long lastLinkReportNanos = System.nanoTime() - java.util.concurrent.TimeUnit.HOURS.toNanos(1);
    private volatile boolean closing;
    /** The resumption ticket and secret from the last welcome that carried one (protocol 2.1), or null. */
    volatile String ticket;
    volatile byte[] resumptionSecret;
    /** Answer the challenge with a {@code resume} when a ticket is held (else always a signed hello). */
    volatile boolean resume;
    private volatile boolean resumeSent;

    LoadDevice(int index, DeviceIdentity identity, Fleet fleet) {
        this(index, identity.id(), identity.rawPublicKey(), identity::sign, fleet);
    }

    /**
     * @param index position in the fleet
     * @param id the device ID
     * @param publicKey its raw Ed25519 public key
     * @param signer signs a challenge payload with the matching private key
     * @param fleet the fleet
     */
    LoadDevice(int index, DeviceId id, byte[] publicKey, java.util.function.UnaryOperator<byte[]> signer, Fleet fleet) {
        this.index = index;
        this.publicKey = publicKey.clone();
        this.signer = signer;
        this.id = id;
        this.fleet = fleet;
    }

    /** @param payload a challenge payload @return its Ed25519 signature with this device's key */
    byte[] sign(byte[] payload) {
        return signer.apply(payload);
    }

    /** @return the raw Ed25519 public key */
    byte[] publicKey() {
        return publicKey.clone();
    }

    /** @return a fresh request ID for a {@code connect} */
    long nextRequestId() {
        return nextRequestId.incrementAndGet();
    }

    /** @param message sent as one text frame; a failed send is counted, not thrown */
    void send(Message message) {
        Session s = session;
        if (s == null || !s.isOpen()) {
            fleet.sendFailures.increment();
            return;
        }
        s.sendText(fleet.codec().encode(message), fleet.sendCallback());
    }

    /** @return the local (source) address of the control connection, or null before open */
    SocketAddress localAddress() {
        Session s = session;
        return s == null ? null : s.getLocalSocketAddress();
    }

    /** Before connecting again after a failed registration: drop the old connection, expect a new welcome. */
    void reset() {
        Session s = session;
        if (s != null && s.isOpen()) {
            s.disconnect();
        }
        session = null;
        resumeSent = false;
        registered = new CompletableFuture<>();
    }

    /** The benchmark is ending: a close from now on is expected. */
    void closing() {
        closing = true;
    }

    @Override
    public void onWebSocketOpen(Session s) {
        session = s;
    }

    @Override
    public void onWebSocketText(String text) {
        Message m;
        try {
            m = fleet.codec().decode(text);
        } catch (ProtocolException e) {
            fleet.protocolErrors.increment();
            fleet.note("device " + index + ": undecodable message from server: " + e.getMessage());
            return;
        }
        if (m instanceof Message.Ping ping) {
            fleet.pingsAnswered.increment();
            send(new Message.Pong(ping.t()));
        } else if (m instanceof Message.Incoming incoming) {
            // Accept at once, as an always-on device would: the server's work is what is measured.
            send(new Message.Accept(incoming.requestId()));
        } else if (m instanceof Message.Introduce intro) {
            long now = System.nanoTime();
            if (fleet.linkReports && now - lastLinkReportNanos > java.util.concurrent.TimeUnit.MILLISECONDS.toNanos(1100)) {
                // As a real device would once the link is up (at most one report per 1.1 s): what the dashboard shows.
                lastLinkReportNanos = now;
                send(new Message.LinkReport(List.of(new Message.LinkReport.Link(intro.peer(), io.peerlink.PathKind.DIRECT_PRIVATE,
                        500, 4096, 4096))));
            }
            Introductions run = fleet.introductions();
            if (run == null) {
                fleet.unexpected.increment();
            } else if (intro.role() == Role.INITIATOR) {
                run.onRequesterIntroduce(this, intro);
            } else {
                run.onTargetIntroduce(this, intro);
            }
        } else if (m instanceof Message.Unreachable u) {
            Introductions run = fleet.introductions();
            fleet.note("device " + index + ": unreachable " + u.to().shortForm() + " " + u.reason() + ": " + u.message());
            if (run == null || !run.onFailure(this, u.requestId())) {
                fleet.unexpected.increment();
            }
        } else if (m instanceof Message.Challenge challenge) {
            String serverName = Handshake.serverName(fleet.server());
            if (resume && ticket != null && !resumeSent) {
                resumeSent = true;
                send(new Message.Resume(Handshake.VERSION, id, serverName, ticket,
                        Handshake.resumeProof(resumptionSecret, challenge.nonce(), id, serverName), Map.of(), candidates()));
                return;
            }
            byte[] signature = signer.apply(Handshake.signedPayload(challenge.nonce(), id, serverName));
            send(new Message.Hello(Handshake.VERSION, id, publicKey, signature, serverName, Map.of(), candidates()));
        } else if (m instanceof Message.Welcome w) {
            if (w.ticket() != null) {
                ticket = w.ticket();
                resumptionSecret = w.resumptionSecret();
            }
            if (resumeSent) {
                fleet.resumed.increment();
            }
            registered.complete(null);
        } else if (m instanceof Message.Error error) {
            onError(error);
        } else if (!(m instanceof Message.Pong)) {
            fleet.unexpected.increment();
            fleet.note("device " + index + ": unexpected " + m.getClass().getSimpleName());
        }
    }

    private void onError(Message.Error error) {
        fleet.serverErrors.increment();
        if (error.code() == ErrorCode.RATE_LIMITED) {
            fleet.rateLimited.increment();
        }
        fleet.note("device " + index + ": server error " + error.code() + ": " + error.message());
        if (error.code() == ErrorCode.TICKET_REJECTED && !registered.isDone()) {
            // A fresh challenge follows: answered with a signed hello.
            fleet.ticketsRejected.increment();
            ticket = null;
            return;
        }
        if (!registered.isDone()) {
            registered.completeExceptionally(new IllegalStateException("server refused: " + error.code() + " " + error.message()));
            return;
        }
        Introductions run = fleet.introductions();
        if (error.requestId() != null && run != null) {
            run.onFailure(this, error.requestId());
        }
    }

    /**
     * A host candidate on the connection's own loopback source address and a server-reflexive one
     * in a documentation range: text in the hello only, never contacted by anyone.
     */
    private List<Candidate> candidates() {
        Session s = session;
        InetSocketAddress local = s != null && s.getLocalSocketAddress() instanceof InetSocketAddress a
                ? a : new InetSocketAddress("127.0.0.1", 40_000);
        return candidates(local, index);
    }

    /**
     * @param local the control connection's local address
     * @param index the device's index in the fleet
     * @return the candidates a device at that address announces (see {@link #candidates()})
     */
    static List<Candidate> candidates(InetSocketAddress local, int index) {
        Endpoint host = Endpoint.udp(new InetSocketAddress(local.getAddress(), local.getPort()));
        // As a STUN server would report it: the address the server sees (it drops reflexive candidates anywhere else).
        Endpoint reflexive = Endpoint.udp(new InetSocketAddress(local.getAddress(), 20_000 + index % 40_000));
        return List.of(Candidate.of(host, CandidateType.HOST, 65535), Candidate.of(reflexive, CandidateType.SERVER_REFLEXIVE, 65535));
    }

    @Override
    public void onWebSocketClose(int statusCode, String reason, Callback callback) {
        callback.succeed();
        if (!registered.isDone()) {
            registered.completeExceptionally(new IllegalStateException("closed before welcome: " + statusCode + " " + reason));
        }
        if (!closing) {
            fleet.unexpectedCloses.increment();
            fleet.note("device " + index + ": connection closed by server: " + statusCode + " " + reason);
        }
    }

    @Override
    public void onWebSocketError(Throwable cause) {
        if (!registered.isDone()) {
            registered.completeExceptionally(cause);
        }
        if (!closing) {
            fleet.note("device " + index + ": connection error: " + cause);
        }
    }

    /** The protocol is text only: a binary frame from the server is counted as unexpected. */
    @Override
    public void onWebSocketBinary(ByteBuffer payload, Callback callback) {
        fleet.unexpected.increment();
        callback.succeed();
    }
}
