package io.peerlink.server.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.server.relay.TurnRelays;
import java.net.InetSocketAddress;
import java.util.List;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import io.peerlink.protocol.rendezvous.Role;
import io.peerlink.server.ServerConfig;
import io.peerlink.spi.AccessPolicy;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Collections;
import java.util.HashSet;
import java.util.Locale;
import java.util.Set;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import io.peerlink.server.log.RateLimitedLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The rendezvous protocol v1, server side (docs/protocol-rendezvous.md), independent of the
 * WebSocket library: challenge, hello verification, admission, candidates, connect/incoming/
 * accept/reject/introduce with a synchronised start, presence, keepalives and limits.
 *
 * <p>Threads: each connection's messages run on the thread the WebSocket library delivers them
 * on; one scheduler thread runs every timer (hello timeouts, connect timeouts, the keepalive
 * sweep). No thread per device.
 */
public final class RendezvousService implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RendezvousService.class);
    /** What clients can trigger is rate-limited, one budget per kind of line (docs/operations.md, "Logging"). */
    private static final RateLimitedLogger DENIALS = RateLimitedLogger.of(LOG);
    private static final RateLimitedLogger FAILURES = RateLimitedLogger.of(LOG);
    /** WebSocket close code: policy violation. */
    static final int CLOSE_POLICY = 1008;
    /** WebSocket close code: message too big. */
    static final int CLOSE_TOO_BIG = 1009;
    /** WebSocket close code: service restart (RFC 6455 registry); devices reconnect with backoff. */
    public static final int CLOSE_SERVICE_RESTART = 1012;
    /** WebSocket close code: going away. */
    static final int CLOSE_GOING_AWAY = 1001;
    private static final long START_NANOS = System.nanoTime();
    /** Candidates one trickle message forwards at most. */
    static final int MAX_TRICKLED = 4;
    /** The one answer for "no such device" and "not allowed" alike. */
    static final String NOT_REACHABLE = "no device with this ID that this device may reach: not connected since the server started"
            + " (or a mistyped ID), or not allowed by the access policy; the server does not say which";

    private final ServerConfig config;
    private final Authenticator authenticator;
    private final AccessPolicy policy;
    private final PresenceRegistry registry;
    private final RendezvousCodec codec = new RendezvousCodec();
    private final SecureRandom random = new SecureRandom();
    private final ScheduledThreadPoolExecutor timers;
    private final ConcurrentHashMap<Long, PendingConnect> pending = new ConcurrentHashMap<>();
    private final AtomicLong nextIncomingId = new AtomicLong();
    private final AtomicLong introductions = new AtomicLong();
    private final AtomicLong connectRequests = new AtomicLong();
    private final AtomicLong protocolErrors = new AtomicLong();
    private final ScheduledFuture<?> sweep;
    /** Bytes queued for all devices and not yet written (see JettyControlEndpoint). */
    final AtomicLong queuedBytes = new AtomicLong();
    private volatile RendezvousEvents events = RendezvousEvents.NONE;
    private volatile TurnRelays relays;
    private final WsRelay wsRelay;
    private volatile boolean draining;
    /** The server names a hello may be signed for (lower-case). */
    private final Set<String> serverNames;
    /** Resumption tickets, or null when disabled (docs/protocol-rendezvous.md, "Resumption tickets"). */
    private final ResumptionTickets tickets;
    private final AtomicLong resumptions = new AtomicLong();
    /** Connections that got a challenge and are neither admitted nor closed yet. */
    private final java.util.concurrent.atomic.AtomicInteger handshaking = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * With at least this many handshakes in flight the server is in an admission storm (a restart):
     * the follow-up RTT pings of a new admission wait until it is over (see {@link #rttPings}).
     */
    static final int STORM_HANDSHAKES = 64;
    /** How long follow-up RTT pings wait while a storm lasts, per check, and how many checks at most. */
    static final long STORM_PING_DEFER_MILLIS = 5_000;
    static final int STORM_PING_DEFERRALS = 6;
    private final AtomicLong ticketsRejected = new AtomicLong();

    /**
     * A connect request waiting for the target's answer. With both devices on this node,
     * {@code requester} and {@code target} are set. With the target on another node (this node
     * owns the request), {@code target} is null. With the requester on another node (this node
     * asks the target), {@code requester} is null and {@code remote} says where to answer.
     */
    private record PendingConnect(long id, ControlSession requester, long requesterRequestId, ControlSession target,
                                  DeviceId targetId, ScheduledFuture<?> timeout, RemoteRequester remote) {
    }

    /** The requester of a connect request that another node forwarded. */
    private record RemoteRequester(String node, long pendingId, long requestId, DeviceId id, List<io.peerlink.Candidate> candidates,
                                   double minRttMillis) {
    }

    private final jakarta.json.bind.Jsonb nodeJson = jakarta.json.bind.JsonbBuilder.create();

    /**
     * @param config server configuration
     * @param authenticator admission
     * @param policy who may reach whom
     * @param registry presence
     */
    public RendezvousService(ServerConfig config, Authenticator authenticator, AccessPolicy policy, PresenceRegistry registry) {
        this.config = Objects.requireNonNull(config, "config");
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.registry = Objects.requireNonNull(registry, "registry");
        this.timers = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "peerlink-rendezvous-timers");
            t.setDaemon(true);
            return t;
        });
        timers.setRemoveOnCancelPolicy(true);
        this.serverNames = serverNames(config);
        this.tickets = ResumptionTickets.from(config.tickets());
        this.wsRelay = new WsRelay(config.relay(), registry, policy, this::sendToNode);
        long interval = config.keepalive().toMillis();
        this.sweep = timers.scheduleWithFixedDelay(this::keepaliveSweep, interval, interval, TimeUnit.MILLISECONDS);
        registry.listen(this::onNodeMessage, displaced -> {
            tellPeersOffline(displaced);
            displaced.fail(ErrorCode.REPLACED, "the same device connected again (to another node)", CLOSE_POLICY);
        });
    }

    /** Configured names, or else every literal address of this machine plus {@code localhost}. */
    private static Set<String> serverNames(ServerConfig config) {
        Set<String> names = new HashSet<>();
        if (!config.serverNames().isEmpty()) {
            for (String n : config.serverNames()) {
                names.add(n.toLowerCase(Locale.ROOT));
            }
            return Collections.unmodifiableSet(names);
        }
        names.add("localhost");
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InetAddress a : Collections.list(nif.getInetAddresses())) {
                    String text = a.getHostAddress();
                    int zone = text.indexOf('%');
                    names.add((zone < 0 ? text : text.substring(0, zone)).toLowerCase(Locale.ROOT));
                }
            }
        } catch (SocketException e) {
            LOG.warn("cannot list network interfaces; only 'localhost' is accepted as server name", e);
        }
        return Collections.unmodifiableSet(names);
    }

    /** @return the server names a hello may be signed for */
    public Set<String> serverNames() {
        return serverNames;
    }

    /** @param events the observer of admissions, refusals and introductions (replaces the previous one) */
    public void events(RendezvousEvents events) {
        this.events = Objects.requireNonNull(events, "events");
    }

    /** @param more another observer, told every event after the ones already subscribed */
    public synchronized void addEvents(RendezvousEvents more) {
        Objects.requireNonNull(more, "more");
        this.events = events == RendezvousEvents.NONE ? more : RendezvousEvents.of(events, more);
    }

    RendezvousEvents events() {
        return events;
    }

    /** @return bytes queued on every control connection and not yet written to the network */
    public long queuedBytes() {
        return queuedBytes.get();
    }

    RendezvousCodec codec() {
        return codec;
    }

    /** @return microseconds on the server's monotonic clock, the {@code t} of server pings */
    static long monotonicMicros() {
        return TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - START_NANOS);
    }

    /**
     * A new control connection: sends the challenge and starts the hello timer.
     *
     * @param connection the connection
     * @return its session, to which the connection delivers messages and its close
     */
    public ControlSession open(Connection connection) {
        ControlSession s = new ControlSession(this, connection);
        if (draining) {
            s.closed = true;
            connection.close(CLOSE_SERVICE_RESTART, "server draining; reconnect later");
            return s;
        }
        handshaking.incrementAndGet();
        s.handshaking = true;
        s.nonce = new byte[Handshake.NONCE_LENGTH];
        random.nextBytes(s.nonce);
        s.tokens = config.limits().messageBurst();
        s.lastRefillNanos = System.nanoTime();
        s.lastSeenNanos = s.lastRefillNanos;
        s.challengeSentNanos = System.nanoTime();
        s.send(new Message.Challenge(s.nonce.clone(), System.currentTimeMillis()));
        s.helloTimeout = timers.schedule(() -> {
            if (!s.admitted() && !s.closed) {
                s.fail(ErrorCode.HELLO_TIMEOUT, "no hello within " + config.limits().helloTimeout().toMillis() + " ms", CLOSE_POLICY);
            }
        }, config.limits().helloTimeout().toMillis(), TimeUnit.MILLISECONDS);
        return s;
    }

    void onText(ControlSession s, String text) {
        if (s.closed) {
            return;
        }
        try {
            s.lastSeenNanos = System.nanoTime();
            if (!withinRate(s)) {
                return;
            }
            int max = config.limits().maxMessageBytes();
            // UTF-8 needs at most 3 bytes per UTF-16 char, so only long texts need encoding to be measured.
            if (text.length() > max || (text.length() > max / 3 && text.getBytes(StandardCharsets.UTF_8).length > max)) {
                protocolErrors.incrementAndGet();
                s.fail(ErrorCode.TOO_LARGE, "message exceeds " + config.limits().maxMessageBytes() + " bytes", CLOSE_TOO_BIG);
                return;
            }
            Message message;
            try {
                message = codec.decode(text);
            } catch (ProtocolException e) {
                protocolErrors.incrementAndGet();
                if (!s.admitted() || e.code() == ErrorCode.TOO_LARGE) {
                    // Before admission the server owes a stranger nothing: answer once and close.
                    s.fail(e.code(), e.getMessage(), e.code() == ErrorCode.TOO_LARGE ? CLOSE_TOO_BIG : CLOSE_POLICY);
                } else {
                    s.sendError(e.code(), e.getMessage(), null);
                }
                return;
            }
            if (!s.admitted()) {
                if (message instanceof Message.Hello hello) {
                    onHello(s, hello);
                } else if (message instanceof Message.Resume resume) {
                    onResume(s, resume);
                } else {
                    protocolErrors.incrementAndGet();
                    s.fail(ErrorCode.NOT_AUTHENTICATED, "send hello first", CLOSE_POLICY);
                }
                return;
            }
            dispatch(s, message);
        } catch (RuntimeException e) {
            FAILURES.warn("failure handling a control message from {}", s.connection.remoteAddress(), e);
            s.fail(ErrorCode.INTERNAL, "internal server error", 1011);
        }
    }

    /** A binary message: a relay frame (docs/protocol-rendezvous.md, "Relay frames"). Not counted against the message rate. */
    void onBinary(ControlSession s, java.nio.ByteBuffer frame) {
        if (s.closed) {
            return;
        }
        s.lastSeenNanos = System.nanoTime();
        if (!s.admitted()) {
            protocolErrors.incrementAndGet();
            s.fail(ErrorCode.NOT_AUTHENTICATED, "send hello first", CLOSE_POLICY);
            return;
        }
        try {
            wsRelay.onFrame(s, frame);
        } catch (RuntimeException e) {
            FAILURES.warn("failure relaying a frame from {}", s.connection.remoteAddress(), e);
        }
    }

    /** @return the WebSocket relay (stats) */
    public WsRelay wsRelay() {
        return wsRelay;
    }

    /** @return the TURN relays introductions carry, or null */
    public TurnRelays relays() {
        return relays;
    }

    private boolean withinRate(ControlSession s) {
        long now = System.nanoTime();
        ServerConfig.Limits limits = config.limits();
        s.tokens = Math.min(limits.messageBurst(), s.tokens + (now - s.lastRefillNanos) * limits.messagesPerSecond() / 1e9);
        s.lastRefillNanos = now;
        if (s.tokens >= 1) {
            s.tokens -= 1;
            s.consecutiveDrops = 0;
            return true;
        }
        s.consecutiveDrops++;
        if (s.consecutiveDrops > 10L * limits.messageBurst()) {
            s.fail(ErrorCode.RATE_LIMITED, "rate limit exceeded persistently", CLOSE_POLICY);
        } else if (now - s.lastRateErrorNanos > TimeUnit.SECONDS.toNanos(1)) {
            s.lastRateErrorNanos = now;
            s.sendError(ErrorCode.RATE_LIMITED, "more than " + limits.messagesPerSecond() + " messages/s; message dropped", null);
        }
        return false;
    }

    private void onHello(ControlSession s, Message.Hello hello) {
        s.claimedId = hello.deviceId();
        byte[] nonce = s.nonce;
        s.nonce = null;
        if (nonce == null) {
            s.fail(ErrorCode.ALREADY_AUTHENTICATED, "this connection's nonce has been used", CLOSE_POLICY);
            return;
        }
        if (s.helloTimeout != null) {
            s.helloTimeout.cancel(false);
        }
        if (hello.v() != Handshake.VERSION) {
            s.fail(ErrorCode.UNSUPPORTED_VERSION, "this server speaks protocol v" + Handshake.VERSION + ", not v" + hello.v(), CLOSE_POLICY);
            return;
        }
        if (!DeviceId.fromPublicKey(hello.publicKey()).equals(hello.deviceId())) {
            s.fail(ErrorCode.KEY_MISMATCH, "publicKey does not derive deviceId " + hello.deviceId(), CLOSE_POLICY);
            return;
        }
        String reserved = s.connection.reservedFor();
        if (reserved != null && !reserved.equals(hello.deviceId().value())) {
            // The MQTT carrier: the broker lets only the device of these topics use them; another ID here is a device
            // using someone else's broker login, or a misconfiguration. Refused before the signature check costs anything.
            s.fail(ErrorCode.DENIED, "this control channel belongs to another device (the topics of " + reserved + ")", CLOSE_POLICY);
            return;
        }
        if (!serverNames.contains(hello.server().toLowerCase(Locale.ROOT))) {
            // A hello signed for another server was relayed here (or the device dials a name the operator did not list).
            s.fail(ErrorCode.WRONG_SERVER, "this hello is signed for server '" + hello.server() + "', which is not this server"
                    + " (configure its names with --server-name)", CLOSE_POLICY);
            return;
        }
        if (!Ed25519Verifier.verify(hello.publicKey(), Handshake.signedPayload(nonce, hello.deviceId(), hello.server()),
                hello.signature())) {
            s.fail(ErrorCode.BAD_SIGNATURE, "signature does not verify over this connection's challenge", CLOSE_POLICY);
            return;
        }
        s.rttSample((System.nanoTime() - s.challengeSentNanos) / 1e6);
        AuthResult result;
        try {
            result = authenticator.authenticate(new AuthRequest(hello.deviceId(), hello.publicKey(), s.connection.remoteAddress(), hello.claims()));
        } catch (RuntimeException e) {
            FAILURES.warn("authenticator '{}' failed for {}", authenticator.name(), hello.deviceId(), e);
            s.fail(ErrorCode.INTERNAL, "authenticator failed", 1011);
            return;
        }
        if (result instanceof AuthResult.Denied denied) {
            DENIALS.info("denied {} from {}: {}", hello.deviceId(), s.connection.remoteAddress(), denied.reason());
            s.fail(ErrorCode.DENIED, denied.reason(), CLOSE_POLICY);
            return;
        }
        String network = ((AuthResult.Admitted) result).network();
        admit(s, hello.deviceId(), network, hello.candidates(), tickets == null ? null : tickets.issue(hello.publicKey(), network));
    }

    /**
     * A {@code resume} (protocol 2.1): the ticket's MAC, expiry and device, then the proof (an HMAC
     * over this connection's nonce and the server name with the ticket's secret) instead of an
     * Ed25519 signature; then the authenticator and access policy as for a hello. A ticket that
     * does not pass is answered with {@code error{TICKET_REJECTED}} and a fresh challenge, once.
     */
    private void onResume(ControlSession s, Message.Resume resume) {
        s.claimedId = resume.deviceId();
        byte[] nonce = s.nonce;
        s.nonce = null;
        if (nonce == null) {
            s.fail(ErrorCode.ALREADY_AUTHENTICATED, "this connection's nonce has been used", CLOSE_POLICY);
            return;
        }
        if (resume.v() != Handshake.VERSION) {
            s.fail(ErrorCode.UNSUPPORTED_VERSION, "this server speaks protocol v" + Handshake.VERSION + ", not v" + resume.v(), CLOSE_POLICY);
            return;
        }
        String reserved = s.connection.reservedFor();
        if (reserved != null && !reserved.equals(resume.deviceId().value())) {
            // The MQTT carrier: as for a hello, these topics belong to one device.
            s.fail(ErrorCode.DENIED, "this control channel belongs to another device (the topics of " + reserved + ")", CLOSE_POLICY);
            return;
        }
        if (!serverNames.contains(resume.server().toLowerCase(Locale.ROOT))) {
            s.fail(ErrorCode.WRONG_SERVER, "this resume is for server '" + resume.server() + "', which is not this server"
                    + " (configure its names with --server-name)", CLOSE_POLICY);
            return;
        }
        if (tickets == null) {
            rejectTicket(s, "this server does not accept resumption tickets; send a hello");
            return;
        }
        ResumptionTickets.Opened ticket;
        try {
            ticket = tickets.open(resume.ticket());
        } catch (ResumptionTickets.Rejected e) {
            rejectTicket(s, e.getMessage() + "; send a hello");
            return;
        }
        if (!ticket.deviceId().equals(resume.deviceId())) {
            rejectTicket(s, "the ticket was issued to another device; send a hello");
            return;
        }
        byte[] proof = Handshake.resumeProof(tickets.secret(ticket), nonce, resume.deviceId(), resume.server());
        if (!java.security.MessageDigest.isEqual(proof, resume.proof())) {
            rejectTicket(s, "the proof does not verify over this connection's challenge; send a hello");
            return;
        }
        s.rttSample((System.nanoTime() - s.challengeSentNanos) / 1e6);
        AuthResult result;
        try {
            // The allow-list (any authenticator) decides again: a device removed from it cannot resume.
            result = authenticator.authenticate(new AuthRequest(resume.deviceId(), ticket.publicKey(), s.connection.remoteAddress(),
                    resume.claims()));
        } catch (RuntimeException e) {
            FAILURES.warn("authenticator '{}' failed for {}", authenticator.name(), resume.deviceId(), e);
            s.fail(ErrorCode.INTERNAL, "authenticator failed", 1011);
            return;
        }
        if (result instanceof AuthResult.Denied denied) {
            DENIALS.info("denied {} (resuming) from {}: {}", resume.deviceId(), s.connection.remoteAddress(), denied.reason());
            s.fail(ErrorCode.DENIED, denied.reason(), CLOSE_POLICY);
            return;
        }
        String network = ((AuthResult.Admitted) result).network();
        if (!network.equals(ticket.network())) {
            rejectTicket(s, "the device's network changed since the ticket was issued; send a hello");
            return;
        }
        resumptions.incrementAndGet();
        // A ticket is reusable until it expires; a new one is issued once half its lifetime is gone.
        boolean renew = ticket.expiresAtSeconds() - tickets.nowSeconds() < tickets.lifetime().toSeconds() / 2;
        admit(s, resume.deviceId(), network, resume.candidates(), renew ? tickets.issue(ticket.publicKey(), network) : null);
    }

    /** A resume that does not pass: the device is told why and gets a fresh challenge for a full hello (once per connection). */
    private void rejectTicket(ControlSession s, String why) {
        ticketsRejected.incrementAndGet();
        if (s.ticketRejected) {
            s.fail(ErrorCode.TICKET_REJECTED, why.replace("; send a hello", "") + " (second resume on this connection)", CLOSE_POLICY);
            return;
        }
        s.ticketRejected = true;
        s.sendError(ErrorCode.TICKET_REJECTED, why, null);
        s.nonce = new byte[Handshake.NONCE_LENGTH];
        random.nextBytes(s.nonce);
        s.challengeSentNanos = System.nanoTime();
        s.send(new Message.Challenge(s.nonce.clone(), System.currentTimeMillis()));
    }

    private void admit(ControlSession s, DeviceId deviceId, String network, List<Candidate> helloCandidates,
                       ResumptionTickets.Issued ticket) {
        if (s.helloTimeout != null) {
            s.helloTimeout.cancel(false);
        }
        handshakeOver(s);
        s.admit(deviceId, network);
        s.candidates = CandidateFilter.filter(helloCandidates, s.connection.remoteAddress());
        ControlSession replaced = registry.register(s);
        if (replaced != null && replaced != s) {
            replaced.fail(ErrorCode.REPLACED, "the same device connected again", CLOSE_POLICY);
        }
        if (s.closed) {
            // The connection dropped while we were admitting it; do not leave a dead entry behind.
            registry.unregister(s);
            return;
        }
        byte[] sessionId = new byte[12];
        random.nextBytes(sessionId);
        s.send(new Message.Welcome(Base64.getUrlEncoder().withoutPadding().encodeToString(sessionId), network,
                (int) Math.max(1, config.keepalive().toSeconds()), ticket == null ? null : ticket.ticket(),
                ticket == null ? null : ticket.secret()));
        // A few pings right away refine the RTT estimate the synchronised start depends on; the
        // later ones find the device's code warm, so their minimum is close to the network RTT.
        s.send(new Message.Ping(monotonicMicros()));
        rttPings(s, 0);
        events.admitted(network);
        LOG.debug("admitted {} into {}", deviceId, network);
    }

    /**
     * The follow-up RTT pings of a new admission, 20, 60 and 150 ms from now. During an admission
     * storm ({@value #STORM_HANDSHAKES} or more handshakes in flight, as right after a restart) they
     * wait, {@value #STORM_PING_DEFER_MILLIS} ms at a time, at most {@value #STORM_PING_DEFERRALS}
     * times: their round trips would measure the server's queue, not the network (the synchronised
     * start takes the minimum), and their messages would slow the admissions still waiting.
     *
     * @param s the admitted session
     * @param deferrals how often they have waited already
     */
    private void rttPings(ControlSession s, int deferrals) {
        if (deferrals < STORM_PING_DEFERRALS && handshaking.get() >= STORM_HANDSHAKES) {
            long jitter = java.util.concurrent.ThreadLocalRandom.current().nextLong(STORM_PING_DEFER_MILLIS / 2);
            timers.schedule(() -> {
                if (!s.closed) {
                    rttPings(s, deferrals + 1);
                }
            }, STORM_PING_DEFER_MILLIS + jitter, TimeUnit.MILLISECONDS);
            return;
        }
        for (long delay : new long[] {20, 60, 150}) {
            timers.schedule(() -> {
                if (!s.closed) {
                    s.send(new Message.Ping(monotonicMicros()));
                }
            }, delay, TimeUnit.MILLISECONDS);
        }
    }

    /** The session's handshake ended (admitted, failed or closed): no longer counted as in flight. */
    void handshakeOver(ControlSession s) {
        synchronized (s) {
            if (!s.handshaking) {
                return;
            }
            s.handshaking = false;
        }
        handshaking.decrementAndGet();
    }

    /** @return connections that got a challenge and are neither admitted nor closed */
    public int handshaking() {
        return handshaking.get();
    }

    /** @return admissions by resumption ticket since start */
    public long resumptions() {
        return resumptions.get();
    }

    /** @return resume messages answered with TICKET_REJECTED since start */
    public long ticketsRejected() {
        return ticketsRejected.get();
    }

    private void dispatch(ControlSession s, Message message) {
        if (message instanceof Message.Ping ping) {
            s.send(new Message.Pong(ping.t()));
        } else if (message instanceof Message.Pong pong) {
            long sample = monotonicMicros() - pong.t();
            // t is in microseconds: loopback and LAN round trips are well below a millisecond.
            if (sample >= 0 && sample < 60_000_000L) {
                s.rttSample(sample / 1000.0);
            }
        } else if (message instanceof Message.Candidates c) {
            s.candidates = CandidateFilter.filter(c.candidates(), s.connection.remoteAddress());
        } else if (message instanceof Message.Connect c) {
            onConnect(s, c);
        } else if (message instanceof Message.Trickle t) {
            onTrickle(s, t);
        } else if (message instanceof Message.Accept a) {
            onAccept(s, a);
        } else if (message instanceof Message.Reject r) {
            PendingConnect p = pending.get(r.requestId());
            if (p == null || p.target != s || !pending.remove(r.requestId(), p)) {
                s.sendError(ErrorCode.UNKNOWN_REQUEST, "no pending incoming request " + r.requestId(), r.requestId());
                return;
            }
            p.timeout.cancel(false);
            answerUnreachable(p, UnreachableException.Reason.REJECTED, r.reason());
        } else if (message instanceof Message.Presence p) {
            DeviceId of = p.of();
            String toNetwork = registry.networkOf(of);
            boolean online = toNetwork != null && policy.mayConnect(s.deviceId(), s.network(), of, toNetwork) && registry.isOnline(of);
            s.send(new Message.PresenceResult(p.requestId(), of, online));
        } else if (message instanceof Message.LinkReport r) {
            LinkReports.accept(s, r, policy, registry);
        } else if (message instanceof Message.Error e) {
            LOG.debug("device {} reported {}: {}", s.deviceId(), e.code(), e.message());
        } else if (message instanceof Message.Hello) {
            protocolErrors.incrementAndGet();
            s.fail(ErrorCode.ALREADY_AUTHENTICATED, "already admitted; a challenge nonce is good for one hello", CLOSE_POLICY);
        } else {
            protocolErrors.incrementAndGet();
            s.sendError(ErrorCode.UNKNOWN_TYPE, "'" + message.getClass().getSimpleName() + "' is a server-to-device message", null);
        }
    }

    /** @param relays the TURN relays introductions carry credentials for (null: none) */
    public void relays(TurnRelays relays) {
        this.relays = relays;
    }

    /**
     * Forwards a device's late candidates (its relayed address) to the peer of one of its
     * introductions, and to no one else: only RELAY candidates, at most {@link #MAX_TRICKLED}.
     */
    private void onTrickle(ControlSession s, Message.Trickle t) {
        ControlSession.Introduced intro = s.introduced(t.requestId());
        if (intro == null) {
            s.sendError(ErrorCode.UNKNOWN_REQUEST, "no recent introduction " + t.requestId(), t.requestId());
            return;
        }
        ControlSession peer = intro.peer();
        if (peer.closed) {
            return;
        }
        List<Candidate> relayed = t.candidates().stream().filter(c -> c.type() == CandidateType.RELAY).limit(MAX_TRICKLED).toList();
        if (!relayed.isEmpty()) {
            peer.send(new Message.Trickle(intro.peerRequestId(), relayed));
        }
    }

    /** @return addresses of a device's candidates and of its control connection */
    private static Set<InetAddress> addressesOf(ControlSession s) {
        Set<InetAddress> out = new HashSet<>();
        for (Candidate c : s.candidates) {
            try {
                out.add(c.endpoint().toSocketAddress().getAddress());
            } catch (RuntimeException e) {
                // not an IP endpoint: nothing to permit
            }
        }
        InetSocketAddress control = s.connection.remoteAddress();
        if (control != null && control.getAddress() != null) {
            out.add(control.getAddress());
        }
        return out;
    }

    private List<RelayServer> relaysFor(ControlSession device, ControlSession peer) {
        TurnRelays r = relays;
        if (r == null || !r.enabled()) {
            return List.of();
        }
        InetSocketAddress local = device.connection.localAddress();
        return r.mint(device.deviceId(), addressesOf(peer), local == null ? null : local.getAddress());
    }

    private void unreachable(ControlSession requester, Message.Unreachable u) {
        events.unreachable(u.reason());
        requester.send(u);
    }

    /** Answers a pending request's requester, on this node or through its own node. */
    private void answerUnreachable(PendingConnect p, UnreachableException.Reason reason, String message) {
        if (p.remote != null) {
            sendToNode(p.remote.node, new NodeMessage.Unreachable(p.remote.pendingId, reason.name(), message));
        } else {
            unreachable(p.requester, new Message.Unreachable(p.requesterRequestId, p.targetId, reason, message));
        }
    }

    private boolean sendToNode(String node, NodeMessage message) {
        // The runtime type, not NodeMessage.class: Yasson writes the type key only for the concrete subtype.
        return registry.send(node, nodeJson.toJson(message));
    }

    private void onConnect(ControlSession s, Message.Connect c) {
        connectRequests.incrementAndGet();
        DeviceId to = c.to();
        if (to.equals(s.deviceId())) {
            unreachable(s, new Message.Unreachable(c.requestId(), to, UnreachableException.Reason.DENIED, "a device cannot connect to itself"));
            return;
        }
        // Never registered and not allowed get one and the same answer, and policy comes before presence:
        // a device must not learn whether an ID it may not reach exists, nor whether it is online.
        ControlSession target = registry.local(to);
        String outage = target == null ? registry.unavailable() : null;
        if (outage != null) {
            // Devices on other nodes cannot be looked up or asked: say so rather than a misleading UNKNOWN or OFFLINE.
            unreachable(s, new Message.Unreachable(c.requestId(), to, UnreachableException.Reason.OFFLINE,
                    "this server cannot reach the devices of other nodes right now (" + outage + "); try again later"));
            return;
        }
        // Only now ask where the target is registered: during an outage that lookup would wait for
        // the shared registry (its command timeout) instead of answering at once above.
        String toNetwork = registry.networkOf(to);
        if (toNetwork == null || !policy.mayConnect(s.deviceId(), s.network(), to, toNetwork)) {
            unreachable(s, new Message.Unreachable(c.requestId(), to, UnreachableException.Reason.UNKNOWN, NOT_REACHABLE));
            return;
        }
        if (target == null || target.closed) {
            String node = registry.remoteNode(to);
            if (node == null || !connectThroughNode(s, c, node)) {
                unreachable(s, new Message.Unreachable(c.requestId(), to, UnreachableException.Reason.OFFLINE, "the device is not connected"));
            }
            return;
        }
        long id = nextIncomingId.incrementAndGet();
        ScheduledFuture<?> timeout = timers.schedule(() -> {
            PendingConnect p = pending.remove(id);
            if (p != null) {
                unreachable(p.requester, new Message.Unreachable(p.requesterRequestId, to, UnreachableException.Reason.TIMEOUT,
                        "the device did not answer within " + config.limits().connectTimeout().toMillis() + " ms"));
            }
        }, config.limits().connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        pending.put(id, new PendingConnect(id, s, c.requestId(), target, to, timeout, null));
        target.send(new Message.Incoming(id, s.deviceId()));
    }

    /**
     * The target is on another node: this node keeps the request and its timeout, the target's
     * node asks the target and answers with the introduction or the reason it failed.
     *
     * @return false if the target's node is not listening (it died; its devices' entries have not expired yet)
     */
    private boolean connectThroughNode(ControlSession s, Message.Connect c, String node) {
        DeviceId to = c.to();
        long id = nextIncomingId.incrementAndGet();
        ScheduledFuture<?> timeout = timers.schedule(() -> {
            PendingConnect p = pending.remove(id);
            if (p != null) {
                unreachable(p.requester, new Message.Unreachable(p.requesterRequestId, to, UnreachableException.Reason.TIMEOUT,
                        "the device did not answer within " + config.limits().connectTimeout().toMillis() + " ms"));
            }
        }, config.limits().connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        PendingConnect p = new PendingConnect(id, s, c.requestId(), null, to, timeout, null);
        pending.put(id, p);
        boolean sent = sendToNode(node, new NodeMessage.Connect(registry.nodeId(), id, c.requestId(), s.deviceId().toString(),
                codec.encode(new Message.Candidates(s.candidates)), s.minRttMillis, to.toString()));
        if (!sent && pending.remove(id, p)) {
            timeout.cancel(false);
            return false;
        }
        return true;
    }

    /** A message from another node (see {@link NodeMessage}); runs on the registry's thread. */
    private void onNodeMessage(String text) {
        NodeMessage message;
        try {
            message = nodeJson.fromJson(text, NodeMessage.class);
        } catch (RuntimeException e) {
            LOG.warn("ignoring a malformed message from another node: {}", e.getMessage());
            return;
        }
        try {
            if (message instanceof NodeMessage.Connect c) {
                onRemoteConnect(c);
            } else if (message instanceof NodeMessage.Introduce i) {
                PendingConnect p = pending.remove(i.pendingId());
                if (p != null && p.requester != null) {
                    p.timeout.cancel(false);
                    p.requester.introducedTo.add(p.targetId);
                    p.requester.sendText(i.introduce());
                }
            } else if (message instanceof NodeMessage.Unreachable u) {
                PendingConnect p = pending.remove(u.pendingId());
                if (p != null && p.requester != null) {
                    p.timeout.cancel(false);
                    unreachable(p.requester, new Message.Unreachable(p.requesterRequestId, p.targetId,
                            UnreachableException.Reason.valueOf(u.reason()), u.message()));
                }
            } else if (message instanceof NodeMessage.Relay r) {
                wsRelay.onNodeFrame(r);
            } else if (message instanceof NodeMessage.PeerOffline o) {
                ControlSession other = registry.local(DeviceId.parse(o.device()));
                DeviceId gone = DeviceId.parse(o.gone());
                if (other != null && !other.closed && other.introducedTo.remove(gone)) {
                    other.send(new Message.PeerOffline(gone));
                }
            }
        } catch (RuntimeException e) {
            LOG.warn("failure handling a message from another node: {}", text, e);
        }
    }

    private void onRemoteConnect(NodeMessage.Connect c) {
        DeviceId to = DeviceId.parse(c.target());
        ControlSession target = registry.local(to);
        if (target == null || target.closed) {
            sendToNode(c.fromNode(), new NodeMessage.Unreachable(c.pendingId(), UnreachableException.Reason.OFFLINE.name(),
                    "the device is not connected"));
            return;
        }
        List<io.peerlink.Candidate> candidates;
        try {
            candidates = ((Message.Candidates) codec.decode(c.candidates())).candidates();
        } catch (ProtocolException | ClassCastException e) {
            LOG.warn("ignoring a connect from node {} with bad candidates: {}", c.fromNode(), e.getMessage());
            return;
        }
        RemoteRequester remote = new RemoteRequester(c.fromNode(), c.pendingId(), c.requestId(), DeviceId.parse(c.requester()),
                candidates, c.minRttMillis());
        long id = nextIncomingId.incrementAndGet();
        // The requester's node answers the requester at its own timeout; here the entry only has to go away.
        ScheduledFuture<?> timeout = timers.schedule(() -> pending.remove(id),
                config.limits().connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
        pending.put(id, new PendingConnect(id, null, 0, target, to, timeout, remote));
        target.send(new Message.Incoming(id, remote.id()));
    }

    private void onAccept(ControlSession target, Message.Accept a) {
        PendingConnect p = pending.get(a.requestId());
        if (p == null || p.target != target || !pending.remove(a.requestId(), p)) {
            target.sendError(ErrorCode.UNKNOWN_REQUEST, "no pending incoming request " + a.requestId(), a.requestId());
            return;
        }
        p.timeout.cancel(false);
        if (p.remote != null) {
            introduceRemote(target, p);
            return;
        }
        ControlSession requester = p.requester;
        if (requester.closed || registry.local(requester.deviceId()) != requester) {
            target.sendError(ErrorCode.UNKNOWN_REQUEST, "the requesting device went offline", a.requestId());
            return;
        }
        LinkParameters l = linkParameters(requester.minRttMillis, target.minRttMillis);
        introductions.incrementAndGet();
        events.introduced();
        // Remembered so that either side going offline is told to the other (peer-offline).
        requester.introducedTo.add(target.deviceId());
        target.introducedTo.add(requester.deviceId());
        // Late candidates (trickle) for this introduction go to the other side, under the receiver's request ID.
        requester.introduced(p.requesterRequestId, target, p.id);
        target.introduced(p.id, requester, p.requesterRequestId);
        requester.send(new Message.Introduce(p.requesterRequestId, target.deviceId(), target.candidates, l.sessionToken(),
                l.requesterCid(), l.targetCid(), Role.INITIATOR, l.startRequester(), relaysFor(requester, target)));
        target.send(new Message.Introduce(p.id, requester.deviceId(), requester.candidates, l.sessionToken(),
                l.targetCid(), l.requesterCid(), Role.RESPONDER, l.startTarget(), relaysFor(target, requester)));
    }

    /** Like the local case, with the requester on another node: its node gets the requester's introduction. */
    private void introduceRemote(ControlSession target, PendingConnect p) {
        RemoteRequester requester = p.remote;
        if (!requester.node.equals(registry.remoteNode(requester.id))) {
            target.sendError(ErrorCode.UNKNOWN_REQUEST, "the requesting device went offline", p.id);
            return;
        }
        // The requester's introduction also crosses Redis (well under a millisecond on a LAN), which the margin absorbs.
        LinkParameters l = linkParameters(requester.minRttMillis, target.minRttMillis);
        Message.Introduce forRequester = new Message.Introduce(requester.requestId, target.deviceId(), target.candidates,
                l.sessionToken(), l.requesterCid(), l.targetCid(), Role.INITIATOR, l.startRequester());
        if (!sendToNode(requester.node, new NodeMessage.Introduce(requester.pendingId, codec.encode(forRequester)))) {
            target.sendError(ErrorCode.UNKNOWN_REQUEST, "the requesting device went offline", p.id);
            return;
        }
        introductions.incrementAndGet();
        events.introduced();
        target.introducedTo.add(requester.id);
        target.send(new Message.Introduce(p.id, requester.id, requester.candidates, l.sessionToken(),
                l.targetCid(), l.requesterCid(), Role.RESPONDER, l.startTarget()));
    }

    /** What both introductions of one link share: a one-time session token, two distinct connection IDs, start delays. */
    private record LinkParameters(String sessionToken, long requesterCid, long targetCid, long startRequester, long startTarget) {
    }

    private LinkParameters linkParameters(double requesterMinRttMillis, double targetMinRttMillis) {
        byte[] token = new byte[16];
        random.nextBytes(token);
        String sessionToken = Base64.getUrlEncoder().withoutPadding().encodeToString(token);
        long requesterCid = nonZeroRandom();
        long targetCid;
        do {
            targetCid = nonZeroRandom();
        } while (targetCid == requesterCid);
        // Synchronised start: the introduction reaches each side after half its RTT; choose a common
        // instant D from now and tell each side to wait D minus its own one-way delay.
        double oneWayRequester = Math.max(0, requesterMinRttMillis) / 2;
        double oneWayTarget = Math.max(0, targetMinRttMillis) / 2;
        double d = Math.max(oneWayRequester, oneWayTarget) + config.limits().startMargin().toMillis();
        return new LinkParameters(sessionToken, requesterCid, targetCid, Math.round(d - oneWayRequester),
                Math.round(d - oneWayTarget));
    }

    private long nonZeroRandom() {
        long v;
        do {
            v = random.nextLong();
        } while (v == 0);
        return v;
    }

    void onClose(ControlSession s) {
        s.closed = true;
        if (s.helloTimeout != null) {
            s.helloTimeout.cancel(false);
        }
        handshakeOver(s);
        registry.unregister(s);
        if (s.admitted()) {
            tellPeersOffline(s);
        }
        if (s.admitted() && !pending.isEmpty()) {
            // A target that leaves with requests pending makes them fail now rather than at the timeout.
            // Pending requests live for one round trip to a device, so this scan stays short.
            for (PendingConnect p : pending.values()) {
                if ((p.target == s || p.requester == s) && pending.remove(p.id, p)) {
                    p.timeout.cancel(false);
                    if (p.target == s) {
                        answerUnreachable(p, UnreachableException.Reason.OFFLINE, "the device disconnected before answering");
                    }
                }
            }
        }
    }

    /**
     * Tells every online device this session was introduced to that its device went offline, so
     * their links to it close in about a second instead of at the idle timeout. Once per session
     * (entries are removed as they are told); skipped if the device is already back on another
     * control connection.
     */
    private void tellPeersOffline(ControlSession s) {
        if (s.introducedTo.isEmpty()) {
            return;
        }
        DeviceId gone = s.deviceId();
        ControlSession current = registry.local(gone);
        boolean stillOnline = (current != null && current != s && !current.closed) || registry.remoteNode(gone) != null;
        for (DeviceId peer : List.copyOf(s.introducedTo)) {
            if (!s.introducedTo.remove(peer) || stillOnline) {
                continue;
            }
            ControlSession other = registry.local(peer);
            if (other != null && !other.closed) {
                other.introducedTo.remove(gone);
                other.send(new Message.PeerOffline(gone));
            } else if (other == null) {
                String node = registry.remoteNode(peer);
                if (node != null) {
                    sendToNode(node, new NodeMessage.PeerOffline(peer.toString(), gone.toString()));
                }
            }
        }
    }

    private void keepaliveSweep() {
        try {
            long now = System.nanoTime();
            long limit = config.keepalive().toNanos() * 3;
            long t = monotonicMicros();
            for (ControlSession s : registry.sessions()) {
                if (now - s.lastSeenNanos > limit) {
                    LOG.info("removing silent device {}", s.deviceId());
                    registry.unregister(s);
                    s.closed = true;
                    tellPeersOffline(s);
                    s.connection.close(CLOSE_GOING_AWAY, "keepalive timeout");
                } else {
                    s.send(new Message.Ping(t));
                }
            }
            registry.refresh(registry.sessions());
        } catch (RuntimeException e) {
            LOG.warn("keepalive sweep failed", e);
        }
    }

    /** @return devices online now */
    public int devicesOnline() {
        return registry.onlineCount();
    }

    /** @return introductions made since start */
    public long introductions() {
        return introductions.get();
    }

    /** @return connect requests since start */
    public long connectRequests() {
        return connectRequests.get();
    }

    /** @return protocol errors answered since start */
    public long protocolErrors() {
        return protocolErrors.get();
    }

    /** @return the registry */
    public PresenceRegistry registry() {
        return registry;
    }

    /**
     * Disconnects every device with close code 1012 and closes new connections the same way
     * from now on: the client treats any server close as "reconnect with jittered backoff".
     * Idempotent.
     */
    public void drain() {
        draining = true;
        for (ControlSession s : registry.sessions()) {
            // The server leaving says nothing about the device: links between devices carry on, so no peer-offline.
            s.introducedTo.clear();
            registry.unregister(s);
            s.closed = true;
            s.connection.close(CLOSE_SERVICE_RESTART, "server draining; reconnect later");
        }
    }

    /**
     * Applies a new allow-list: devices online that it still lists in the same network stay
     * connected untouched; unlisted ones are disconnected with DENIED (which the client treats as
     * final) and forgotten; ones moved to another network are closed with 1012 and re-admitted
     * there when they reconnect.
     *
     * @param allowed device to network, the whole new list
     * @return the number of devices disconnected
     */
    public int retainAllowed(java.util.Map<DeviceId, String> allowed) {
        int removed = 0;
        for (ControlSession s : registry.sessions()) {
            String network = allowed.get(s.deviceId());
            if (network == null) {
                registry.unregister(s);
                tellPeersOffline(s);
                s.fail(ErrorCode.DENIED, "device " + s.deviceId() + " was removed from this server's allow-list", CLOSE_POLICY);
                removed++;
            } else if (!network.equals(s.network())) {
                // Moved to another network: reconnecting admits it there.
                registry.unregister(s);
                tellPeersOffline(s);
                s.closed = true;
                s.connection.close(CLOSE_SERVICE_RESTART, "network changed; reconnect");
                removed++;
            }
        }
        registry.retainNetworks(allowed);
        return removed;
    }

    /** Stops the timers; idempotent. Connections are closed by the WebSocket server. */
    @Override
    public void close() {
        sweep.cancel(false);
        timers.shutdownNow();
        codec.close();
        try {
            nodeJson.close();
        } catch (Exception e) {
            LOG.debug("closing JSON-B", e);
        }
    }
}
