package io.peerlink.core.internal.device;

import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.IncomingHandler;
import io.peerlink.IncomingRequest;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.crypto.HandshakeException;
import io.peerlink.core.internal.crypto.Hkdf;
import io.peerlink.core.internal.crypto.NoiseSuite;
import io.peerlink.core.internal.crypto.SecureHandshake;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

import javax.crypto.Mac;

/**
 * Link set-up's secure handshake (docs/protocol-punching.md, "Secure handshake"): Noise XX with
 * identity-bound static keys ({@link SecureHandshake}) carried in HS_INIT / HS_RESP / HS_FIN
 * set-up packets, retransmitted with backoff until the session is confirmed.
 * <ul>
 * <li>Direct links ({@link Device#connect(Endpoint)}): the dialer initiates; the listener keeps at
 *     most {@value #MAX_PENDING_REQUESTS} handshakes, each forgotten after the pending-request
 *     timeout, and shows the application an {@link IncomingRequest} only once message 3 has
 *     proved the dialer's identity.</li>
 * <li>Rendezvous links: after the connectivity check, the introduction's initiator runs the
 *     handshake over the selected path; both sides expect the introduced device, and the prologue
 *     binds the handshake to the session token and both connection IDs.</li>
 * </ul>
 * The initiator's link completes when the first packet sealed by the responder opens; until then
 * it resends its last handshake message. Confined to the event loop.
 */
final class SecureSetup {
    /** Incoming direct handshakes held at once (undecided, or kept to answer retransmissions). */
    static final int MAX_PENDING_REQUESTS = 1024;
    /** New direct requests per second answered without a cookie (see {@link #underLoad()}). */
    static final double DEFAULT_COOKIE_FREE_PER_SECOND = 10;
    private static final long FIRST_RETRY_NANOS = 100_000_000L;
    private static final long MAX_RETRY_NANOS = 1_000_000_000L;
    private static final byte[] DIRECT_PROLOGUE = "peerlink direct v1".getBytes(StandardCharsets.US_ASCII);
    private static final byte[] RENDEZVOUS_PROLOGUE = "peerlink rendezvous v1".getBytes(StandardCharsets.US_ASCII);
    private static final System.Logger LOG = System.getLogger(SecureSetup.class.getName());
    /** Exporter label of the key that authenticates HELLO_REJECT (docs/protocol-punching.md). */
    private static final String REJECT_LABEL = "hello reject";

    /** What the device provides. */
    interface Host {
        PeerLinkImpl openLink(DeviceId peer, long localCid, long remoteCid, LinkSocket via, Endpoint remote,
                              PathKind kind, SessionKeys keys);

        long newConnectionId();

        IncomingHandler incomingHandler();

        CompletableFuture<PeerLink> pending(CompletableFuture<PeerLink> f);

        /** Hands a request to the application's handler on the device's callback executor. */
        void offer(IncomingHandler handler, IncomingRequest request);

        /** @return the stage the application sees: its continuations never run on the loop */
        CompletionStage<PeerLink> expose(CompletableFuture<PeerLink> internal);
    }

    private final DeviceIdentity identity;
    private final EventLoop loop;
    private final Host host;
    private final long requestLifetimeNanos;
    private final Map<Long, Initiation> initiations = new HashMap<>();
    private final Map<String, Response> directResponses = new HashMap<>();
    private final Map<Long, Response> responsesByCid = new HashMap<>();
    private long requestsDropped;
    /**
     * Answering a message 1 costs two key generations, two key agreements and a signature (several
     * milliseconds on a small machine), all on the event loop that every link shares: new direct
     * requests are admitted at most at this rate (a token bucket), the rest dropped like lost
     * datagrams (a genuine dialer retransmits).
     */
    private final double requestsPerSecond;
    private double requestTokens;
    private long tokensAt;
    /**
     * New direct HS_INITs answered without a cookie, per second (a token bucket); beyond it, or
     * with the table half full, the listener is under load and answers HS_COOKIE, keeping nothing.
     * Infinite: never (tests of the table itself).
     */
    private final double cookieFreePerSecond;
    private double cookieFreeTokens;
    private long cookieFreeAt;
    private final HandshakeCookies cookies;
    private long cookiesSent;
    private long cookiesAccepted;

    SecureSetup(DeviceIdentity identity, EventLoop loop, Host host, long requestLifetimeNanos, double requestsPerSecond) {
        this(identity, loop, host, requestLifetimeNanos, requestsPerSecond, DEFAULT_COOKIE_FREE_PER_SECOND);
    }

    SecureSetup(DeviceIdentity identity, EventLoop loop, Host host, long requestLifetimeNanos, double requestsPerSecond,
                double cookieFreePerSecond) {
        this.identity = identity;
        this.loop = loop;
        this.host = host;
        this.requestLifetimeNanos = requestLifetimeNanos;
        this.requestsPerSecond = requestsPerSecond;
        this.requestTokens = Math.max(1, requestsPerSecond);
        this.tokensAt = loop.nanoTime();
        this.cookieFreePerSecond = cookieFreePerSecond;
        this.cookieFreeTokens = Math.max(1, cookieFreePerSecond);
        this.cookieFreeAt = tokensAt;
        this.cookies = new HandshakeCookies(new SecureRandom(), tokensAt);
    }

    /**
     * Whether a new direct request without a valid cookie must get one first: more than
     * {@link #cookieFreePerSecond} such requests in the last second, or the table half full.
     * Takes a cookie-free token when not.
     */
    private boolean underLoad() {
        if (cookieFreePerSecond == Double.POSITIVE_INFINITY) {
            return false;
        }
        if (directResponses.size() >= MAX_PENDING_REQUESTS / 2) {
            return true;
        }
        long now = loop.nanoTime();
        double burst = Math.max(1, cookieFreePerSecond);
        cookieFreeTokens = Math.min(burst, cookieFreeTokens + (now - cookieFreeAt) * cookieFreePerSecond / 1e9);
        cookieFreeAt = now;
        if (cookieFreeTokens < 1) {
            return true;
        }
        cookieFreeTokens -= 1;
        return false;
    }

    /** @return {cookies sent, echoed cookies accepted} (tests) */
    long[] cookieCounters() {
        return new long[] {cookiesSent, cookiesAccepted};
    }

    private boolean takeRequestToken() {
        long now = loop.nanoTime();
        double burst = Math.max(1, requestsPerSecond);
        requestTokens = Math.min(burst, requestTokens + (now - tokensAt) * requestsPerSecond / 1e9);
        tokensAt = now;
        if (requestTokens < 1) {
            return false;
        }
        requestTokens -= 1;
        return true;
    }

    /** @return true if a handshake in progress holds this connection ID */
    boolean holds(long cid) {
        return initiations.containsKey(cid) || responsesByCid.containsKey(cid);
    }

    /** @return incoming direct handshakes held (tests) */
    int pendingRequests() {
        return directResponses.size();
    }

    static byte[] directPrologue(long clientCid) {
        return ByteBuffer.allocate(DIRECT_PROLOGUE.length + 8).put(DIRECT_PROLOGUE).putLong(clientCid).array();
    }

    static byte[] rendezvousPrologue(byte[] tokenHash, long initiatorCid, long responderCid) {
        return ByteBuffer.allocate(RENDEZVOUS_PROLOGUE.length + tokenHash.length + 16).put(RENDEZVOUS_PROLOGUE)
                .put(tokenHash).putLong(initiatorCid).putLong(responderCid).array();
    }

    private static byte[] cidBytes(long cid) {
        return ByteBuffer.allocate(8).putLong(cid).array();
    }

    private static long cidOf(byte[] applicationData) {
        return applicationData != null && applicationData.length == 8 ? ByteBuffer.wrap(applicationData).getLong() : 0;
    }

    // ------------------------------------------------------------------ initiator

    private final class Initiation {
        final long cid;
        long remoteCid;
        final boolean direct;
        final LinkSocket via;
        final Endpoint remote;
        final SecureHandshake hs;
        final CompletableFuture<PeerLink> future;
        final long deadline;
        final PathKind kind;
        ByteBuffer lastPacket;
        byte[] firstMessage;
        byte[] cookie;
        PeerLinkImpl link;
        EventLoop.Timer retry;
        /** Authenticates the responder's HELLO_REJECT; set once message 3 is written. */
        Mac rejectKey;
        /** When message 1 was first sent (loop nanos). */
        final long started = loop.nanoTime();

        Initiation(long cid, long remoteCid, LinkSocket via, Endpoint remote, SecureHandshake hs,
                   CompletableFuture<PeerLink> future, long deadline, PathKind kind) {
            this.kind = kind;
            this.cid = cid;
            this.remoteCid = remoteCid;
            this.direct = remoteCid == 0;
            this.via = via;
            this.remote = remote;
            this.hs = hs;
            this.future = future;
            this.deadline = deadline;
        }
    }

    /**
     * Starts a handshake as initiator. Loop thread.
     *
     * @param via the transport to use
     * @param remote the peer's endpoint
     * @param cid our connection ID
     * @param remoteCid the peer's connection ID, or 0 for a direct link (the listener picks it)
     * @param prologue what both sides bind the handshake to
     * @param expected the device we mean to reach, or null for any verified one (direct links)
     * @param future completes with the link once confirmed
     * @param timeoutNanos how long to try
     * @param kind how datagrams travel on the path
     */
    void initiate(LinkSocket via, Endpoint remote, long cid, long remoteCid, byte[] prologue, DeviceId expected,
                  CompletableFuture<PeerLink> future, long timeoutNanos, PathKind kind) {
        SecureHandshake hs = SecureHandshake.initiator(identity, prologue, expected, NoiseSuite.DEFAULT);
        Initiation in = new Initiation(cid, remoteCid, via, remote, hs, future, loop.nanoTime() + timeoutNanos, kind);
        initiations.put(cid, in);
        future.whenComplete((link, error) -> loop.execute(() -> forget(in)));
        try {
            in.firstMessage = hs.writeMessage();
            in.lastPacket = SetupPacket.handshake(SetupPacket.HS_INIT, remoteCid, cid, in.firstMessage);
        } catch (HandshakeException e) {
            future.completeExceptionally(new IllegalStateException("cannot start a handshake: " + e.getMessage(), e));
            return;
        }
        resend(in, FIRST_RETRY_NANOS);
    }

    private void forget(Initiation in) {
        if (initiations.remove(in.cid, in)) {
            if (in.retry != null) {
                in.retry.cancel();
            }
            in.hs.destroy();
        }
    }

    private void resend(Initiation in, long interval) {
        in.retry = null;
        if (in.future.isDone()) {
            return;
        }
        if (loop.nanoTime() >= in.deadline) {
            fail(in, new UnreachableException(in.hs.remoteId(), UnreachableException.Reason.TIMEOUT,
                    (in.link == null ? "no handshake answer from " : "the link was not confirmed by ") + in.remote));
            return;
        }
        send(in.via, in.remote, in.lastPacket);
        in.retry = loop.schedule(() -> resend(in, Math.min(interval * 2, MAX_RETRY_NANOS)), interval);
    }

    private void fail(Initiation in, Throwable error) {
        if (in.link != null) {
            in.link.engine().abort();
        }
        in.future.completeExceptionally(error);
    }

    private void onResponse(LinkSocket via, Endpoint source, SetupPacket.Handshake h) {
        Initiation in = initiations.get(h.destinationCid());
        if (in == null || in.via != via || !in.remote.equals(source)) {
            return;
        }
        if (in.link != null) {
            // Our HS_FIN was lost (the responder resent message 2): resend it.
            send(via, source, in.lastPacket);
            return;
        }
        try {
            in.hs.readMessage(h.message());
        } catch (HandshakeException e) {
            if (e.reason() == HandshakeException.Reason.UNEXPECTED_PEER) {
                fail(in, new UnreachableException(null, UnreachableException.Reason.WRONG_PEER, e.getMessage()));
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "dropped handshake message 2 from " + source + ": " + e.getMessage());
            }
            return;
        }
        long responderCid = cidOf(in.hs.remoteApplicationData());
        if (responderCid == 0 || responderCid != h.sourceCid() || (!in.direct && responderCid != in.remoteCid)) {
            fail(in, new UnreachableException(in.hs.remoteId(), UnreachableException.Reason.WRONG_PEER,
                    "the responder's authenticated connection ID does not match"));
            return;
        }
        in.remoteCid = responderCid;
        try {
            in.lastPacket = SetupPacket.handshake(SetupPacket.HS_FIN, responderCid, in.cid, in.hs.writeMessage());
        } catch (HandshakeException e) {
            fail(in, new UnreachableException(in.hs.remoteId(), UnreachableException.Reason.WRONG_PEER, e.getMessage()));
            return;
        }
        send(via, source, in.lastPacket);
        LOG.log(System.Logger.Level.DEBUG, () -> "handshake message 2 from " + source + " answered " + (loop.nanoTime() - in.started) / 1_000_000
                + " ms after message 1");
        SessionKeys keys = in.hs.sessionKeys();
        in.rejectKey = rejectKey(keys);
        PeerLinkImpl link = host.openLink(in.hs.remoteId(), in.cid, responderCid, via, source, in.kind, keys);
        in.link = link;
        link.session().confirmed().thenRun(() -> {
            LOG.log(System.Logger.Level.DEBUG, () -> "link on " + source + " confirmed " + (loop.nanoTime() - in.started) / 1_000_000
                    + " ms after handshake message 1");
            in.future.complete(link);
        });
        link.engine().closedOnLoop().thenAccept(reason -> in.future.completeExceptionally(
                new UnreachableException(link.peer(), UnreachableException.Reason.TIMEOUT, "link closed before it was confirmed: " + reason)));
        // Keep resending HS_FIN until the responder's first packet confirms the session.
        if (in.retry != null) {
            in.retry.cancel();
        }
        resend(in, FIRST_RETRY_NANOS);
    }

    /**
     * A listener under load asks for its cookie to be echoed: message 1 goes again, with the cookie,
     * at once and on every retransmission. Loop thread.
     */
    void onCookie(LinkSocket via, Endpoint source, SetupPacket.Cookie c) {
        Initiation in = initiations.get(c.clientCid());
        if (in == null || !in.direct || in.link != null || in.via != via || !in.remote.equals(source)
                || in.firstMessage == null || Arrays.equals(in.cookie, c.cookie())) {
            return;
        }
        in.cookie = c.cookie();
        in.lastPacket = SetupPacket.handshakeWithCookie(in.cid, in.cookie, in.firstMessage);
        send(via, source, in.lastPacket);
    }

    /**
     * A listener's HELLO_REJECT. Believed only if its MAC was made with the reject key of this
     * handshake, which only the peer that completed it with us can derive: a forged rejection (an
     * on-path attacker sees the connection IDs) is dropped and the dial goes on. Loop thread.
     */
    void onReject(LinkSocket via, Endpoint source, SetupPacket.HelloReject r) {
        Initiation in = initiations.get(r.clientCid());
        if (in == null || !in.direct || in.via != via || !in.remote.equals(source)) {
            return;
        }
        if (in.rejectKey == null || !r.verify(in.rejectKey)) {
            LOG.log(System.Logger.Level.DEBUG, () -> "dropped a HELLO_REJECT from " + source + " that does not authenticate");
            return;
        }
        fail(in, new UnreachableException(in.hs.remoteId(), UnreachableException.Reason.REJECTED, r.reason()));
    }

    /** @return HMAC-SHA256 keyed with the handshake's exported reject secret (both sides derive the same) */
    private static Mac rejectKey(SessionKeys keys) {
        byte[] secret = keys.export(REJECT_LABEL, 32);
        try {
            return Hkdf.keyedMac(secret);
        } finally {
            Arrays.fill(secret, (byte) 0);
        }
    }

    // ------------------------------------------------------------------ responder

    private final class Response {
        final long cid;
        long remoteCid;
        final SecureHandshake hs;
        final String key;
        LinkSocket via;
        Endpoint remote;
        byte[] firstMessage;
        ByteBuffer lastPacket;
        EventLoop.Timer expiry;
        boolean expired;
        boolean decided;
        String rejectReason;
        Mac rejectKey;
        /** Rendezvous responders: completes with the link. Null for direct requests. */
        final CompletableFuture<PeerLink> future;
        final BiFunction<LinkSocket, Endpoint, PathKind> kindOf;

        Response(long cid, long remoteCid, SecureHandshake hs, String key, CompletableFuture<PeerLink> future,
                 BiFunction<LinkSocket, Endpoint, PathKind> kindOf) {
            this.kindOf = kindOf;
            this.cid = cid;
            this.remoteCid = remoteCid;
            this.hs = hs;
            this.key = key;
            this.future = future;
        }
    }

    /**
     * Waits, as responder, for the introduced peer's handshake. Loop thread.
     *
     * @param cid our connection ID (HS_INIT and HS_FIN are addressed to it)
     * @param remoteCid the peer's connection ID
     * @param prologue the introduction's binding
     * @param expected the introduced device
     * @param future completes with the link
     * @param kindOf how datagrams travel on the path the handshake arrives on
     */
    void expect(long cid, long remoteCid, byte[] prologue, DeviceId expected, CompletableFuture<PeerLink> future,
                BiFunction<LinkSocket, Endpoint, PathKind> kindOf) {
        SecureHandshake hs = SecureHandshake.responder(identity, prologue, expected, NoiseSuite.DEFAULT).applicationData(cidBytes(cid));
        Response r = new Response(cid, remoteCid, hs, null, future, kindOf);
        responsesByCid.put(cid, r);
        future.whenComplete((link, error) -> loop.execute(() -> {
            responsesByCid.remove(cid, r);
            r.hs.destroy();
        }));
    }

    private void onInit(LinkSocket via, Endpoint source, SetupPacket.Handshake h) {
        if (h.destinationCid() != 0) {
            Response r = responsesByCid.get(h.destinationCid());
            if (r == null || r.future == null || h.sourceCid() != r.remoteCid) {
                return;
            }
            answerInit(r, via, source, h);
            return;
        }
        String path = via.localEndpoint() + "/" + source;
        String key = path + "/" + Long.toHexString(h.sourceCid());
        Response known = directResponses.get(key);
        if (known != null) {
            answerInit(known, via, source, h);
            return;
        }
        if (h.sourceCid() == 0) {
            return;
        }
        long now = loop.nanoTime();
        if (h.cookie() != null && cookies.verify(h.cookie(), path, h.sourceCid(), now)) {
            cookiesAccepted++;
        } else if (underLoad()) {
            // Stateless: the answer is computed from the request alone and nothing is kept. It is
            // smaller than the HS_INIT it answers, so a spoofed source gains no amplification.
            send(via, source, SetupPacket.cookie(h.sourceCid(), cookies.issue(path, h.sourceCid(), now)));
            cookiesSent++;
            return;
        }
        if (directResponses.size() >= MAX_PENDING_REQUESTS || !takeRequestToken()) {
            // Once per power of two: a flood must not turn into a flood of log lines.
            if (Long.bitCount(++requestsDropped) == 1) {
                LOG.log(System.Logger.Level.WARNING, "dropping link request from " + source + ": " + directResponses.size()
                        + " requests pending, at most " + MAX_PENDING_REQUESTS + " and " + requestsPerSecond + " new per second ("
                        + requestsDropped + " dropped so far)");
            }
            return;
        }
        long cid = host.newConnectionId();
        SecureHandshake hs = SecureHandshake.responder(identity, directPrologue(h.sourceCid()), null, NoiseSuite.DEFAULT)
                .applicationData(cidBytes(cid));
        Response r = new Response(cid, h.sourceCid(), hs, key, null, io.peerlink.core.internal.session.Session::kindOf);
        if (!answerInit(r, via, source, h)) {
            hs.destroy();
            return;
        }
        directResponses.put(key, r);
        responsesByCid.put(cid, r);
        // Undecided requests expire too, so spoofed requests cannot hold the table for ever.
        r.expiry = loop.schedule(() -> expire(r), requestLifetimeNanos);
    }

    private void expire(Response r) {
        r.expired = true;
        directResponses.remove(r.key, r);
        responsesByCid.remove(r.cid, r);
        r.hs.destroy();
    }

    /** @return false if message 1 was refused */
    private boolean answerInit(Response r, LinkSocket via, Endpoint source, SetupPacket.Handshake h) {
        if (r.firstMessage != null) {
            // A retransmitted HS_INIT: the same answer, from where the first came only.
            if (r.via == via && r.remote.equals(source) && Arrays.equals(r.firstMessage, h.message())) {
                send(via, source, r.lastPacket);
            }
            return true;
        }
        try {
            r.hs.readMessage(h.message());
            r.lastPacket = SetupPacket.handshake(SetupPacket.HS_RESP, h.sourceCid(), r.cid, r.hs.writeMessage());
        } catch (HandshakeException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "dropped handshake message 1 from " + source + ": " + e.getMessage());
            return false;
        }
        r.firstMessage = h.message();
        r.via = via;
        r.remote = source;
        send(via, source, r.lastPacket);
        return true;
    }

    private void onFinish(LinkSocket via, Endpoint source, SetupPacket.Handshake h) {
        Response r = responsesByCid.get(h.destinationCid());
        if (r == null || r.firstMessage == null || r.via != via || !r.remote.equals(source) || h.sourceCid() != r.remoteCid) {
            return;
        }
        if (r.hs.isComplete()) {
            if (r.rejectReason != null) {
                sendReject(r);
            }
            return;
        }
        try {
            r.hs.readMessage(h.message());
        } catch (HandshakeException e) {
            if (r.future != null && e.reason() == HandshakeException.Reason.UNEXPECTED_PEER) {
                r.future.completeExceptionally(new UnreachableException(null, UnreachableException.Reason.WRONG_PEER, e.getMessage()));
            } else {
                LOG.log(System.Logger.Level.DEBUG, () -> "dropped handshake message 3 from " + source + ": " + e.getMessage());
            }
            return;
        }
        DeviceId peer = r.hs.remoteId();
        if (r.future != null) {
            responsesByCid.remove(r.cid, r);
            r.future.complete(host.openLink(peer, r.cid, r.remoteCid, via, source, r.kindOf.apply(via, source), r.hs.sessionKeys()));
            return;
        }
        IncomingHandler handler = host.incomingHandler();
        if (handler == null) {
            reject(r, "device accepts no incoming links");
            return;
        }
        AtomicBoolean decided = new AtomicBoolean();
        host.offer(handler, new IncomingRequest() {
            @Override
            public DeviceId from() {
                return peer;
            }

            @Override
            public CompletionStage<PeerLink> accept() {
                if (!decided.compareAndSet(false, true)) {
                    throw new IllegalStateException("already decided");
                }
                CompletableFuture<PeerLink> f = host.pending(new CompletableFuture<>());
                loop.execute(() -> {
                    if (r.expired) {
                        f.completeExceptionally(new UnreachableException(peer, UnreachableException.Reason.TIMEOUT,
                                "the request expired before it was accepted"));
                        return;
                    }
                    r.decided = true;
                    r.expiry.cancel();
                    PeerLinkImpl link = host.openLink(peer, r.cid, r.remoteCid, r.via, r.remote, r.kindOf.apply(r.via, r.remote),
                            r.hs.sessionKeys());
                    // The connection ID now belongs to the link; the entry answers nothing more.
                    directResponses.remove(r.key, r);
                    responsesByCid.remove(r.cid, r);
                    r.hs.destroy();
                    f.complete(link);
                });
                return host.expose(f);
            }

            @Override
            public void reject(String reason) {
                if (!decided.compareAndSet(false, true)) {
                    throw new IllegalStateException("already decided");
                }
                loop.execute(() -> {
                    if (!r.expired) {
                        SecureSetup.this.reject(r, reason);
                    }
                });
            }
        });
    }

    private void reject(Response r, String reason) {
        r.decided = true;
        r.rejectReason = reason;
        r.rejectKey = rejectKey(r.hs.sessionKeys());
        sendReject(r);
        // The expiry already scheduled forgets the entry; until then a retransmitted HS_FIN gets
        // the same answer.
    }

    private void sendReject(Response r) {
        ByteBuffer b = ByteBuffer.allocate(256);
        SetupPacket.writeHelloReject(b, r.remoteCid, 0, r.rejectReason, r.rejectKey);
        send(r.via, r.remote, b.flip());
    }

    // ------------------------------------------------------------------ dispatch

    /** A handshake packet. Loop thread. */
    void onHandshake(LinkSocket via, Endpoint source, SetupPacket.Handshake h) {
        switch (h.type()) {
            case SetupPacket.HS_INIT -> onInit(via, source, h);
            case SetupPacket.HS_RESP -> onResponse(via, source, h);
            case SetupPacket.HS_FIN -> onFinish(via, source, h);
            default -> throw new IllegalArgumentException("not a handshake type: " + h.type());
        }
    }

    private static void send(LinkSocket via, Endpoint to, ByteBuffer packet) {
        try {
            via.send(to, packet.duplicate());
        } catch (IllegalStateException e) {
            // Transport stopped: as a lost datagram; retransmission or the deadline handles it.
            LOG.log(System.Logger.Level.DEBUG, "handshake packet not sent: " + e.getMessage());
        }
    }
}
