package io.peerlink.core.internal.device;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.channel.Frame;
import io.peerlink.core.internal.channel.FrameCodec;
import io.peerlink.core.internal.link.ConnectionTable;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.core.internal.punch.ConnectivityCheck;
import io.peerlink.core.internal.punch.NoPathException;
import io.peerlink.core.internal.punch.ProbeBudget;
import io.peerlink.core.internal.punch.PunchOptions;
import io.peerlink.core.internal.rendezvous.Introduction;
import io.peerlink.core.internal.session.Session;
import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.spi.Transport;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;

/**
 * Link set-up for one introduction, racing paths happy-eyeballs style
 * (docs/protocol-punching.md, "Path racing"):
 * <ul>
 * <li>the <b>direct</b> connectivity check on the device's UDP socket (LAN candidates at once, the
 *     synchronised punch towards public ones);</li>
 * <li><b>relayed</b> checks, one per relayed local socket — a TURN allocation made for this link
 *     from the introduction's relays, or any transport of the device that declares
 *     {@code relayed} (a broker) — towards the peer's RELAY candidates that socket can reach,
 *     learned from the introduction or trickled through the rendezvous. TURN allocations are
 *     themselves raced: the introduction's relays are tried in order, each
 *     {@link #ALLOCATION_STAGGER} after the previous unless one succeeded, so a network that drops
 *     UDP gets its allocation over TCP.</li>
 * </ul>
 * The first check to succeed carries the secure handshake and opens the link (a relayed or LAN pair
 * as soon as it is validated) — except that a relayed success waits up to {@link #RELAY_HOLD} for
 * the direct check while that check has heard from the peer (the better path's head start). A
 * probe that reaches an allocation before the peer's trickled address starts that allocation's
 * check at once (a triggered check). Checks that succeed later add their path to the session: a direct path replaces a
 * relayed active one once validated (the session's rule), a relayed path stays validated as the
 * standby the session fails over to. The set-up fails with {@code NO_PATH} only when every check
 * has failed and no allocation is still pending. A link left on a relayed path by a lost punch
 * re-punches in the background once the conntrack entries the lost punch left have expired,
 * both sides sending their openers before any full-TTL probe (docs/protocol-punching.md,
 * "Re-punch"). While the link lives, each side sends its re-gathered candidates over the link
 * (a CANDIDATES frame) and re-punches towards the peer's ("Fresh candidates"). Confined to the
 * event loop.
 */
final class LinkRace {
    private static final System.Logger LOG = System.getLogger(LinkRace.class.getName());
    /** How long a relayed success waits for the direct check before it opens the link. */
    static final Duration RELAY_HOLD = Duration.ofMillis(30);
    /** Delay between starting allocations on successive relays of an introduction. */
    static final Duration ALLOCATION_STAGGER = Duration.ofMillis(400);
    /** How long after the direct check failed the set-up still waits for the peer's relayed candidate. */
    static final Duration TRICKLE_WAIT = Duration.ofSeconds(3);
    /**
     * How long after a direct check that sent full-TTL probes ended a re-punch starts, doubling
     * with every further round ({@link #REPUNCH_MAX_DOUBLINGS}): the clashing conntrack entries a
     * lost punch leaves behind (docs/natlab.md) live 30 s after their last packet on Linux
     * ({@code nf_conntrack_udp_timeout}); 5 s more cover the two sides' clock skew.
     */
    static final Duration REPUNCH_DELAY = Duration.ofSeconds(35);
    /** The least quiet time after which the peer's re-punch signal is followed. */
    static final Duration REPUNCH_QUIET = Duration.ofSeconds(30);
    /** How long a re-punch waits for the peer's "openers sent" signal. */
    static final Duration REPUNCH_GATE = Duration.ofSeconds(3);
    /** Re-punch rounds double their delay up to 2^this times {@link #REPUNCH_DELAY} (9 min 20 s). */
    static final int REPUNCH_MAX_DOUBLINGS = 4;
    /**
     * Least time between two candidate sets this side announces on a link, and between two
     * re-punches the peer's fresh candidates start (docs/protocol-punching.md, "Fresh candidates").
     */
    static final Duration CANDIDATES_INTERVAL = Duration.ofSeconds(2);
    /** When a new candidate set is (re)sent over the link, ms after it was gathered, until the peer's re-punch answers. */
    private static final long[] CANDIDATES_SCHEDULE_MS = {0, 100, 200, 400, 800, 1600, 3200};
    /** When the re-punch signal is (re)sent while waiting for the peer, ms after the openers. */
    private static final long[] SIGNAL_SCHEDULE_MS = {0, 100, 200, 400, 800, 1600};
    /**
     * Head start of every other path over the WebSocket relay, the last resort: its check starts this
     * long after the race (at once if every other check has failed meanwhile).
     */
    static final Duration WS_RELAY_DELAY = Duration.ofMillis(1000);
    /** Local preference of a relayed candidate a device trickles. */
    private static final int RELAY_LOCAL_PREFERENCE = 65535;

    /**
     * Which paths a set-up may use: {@code all} (the default), or, for benchmarks and diagnosis
     * only, {@code direct} (no relays) or {@code relay} (relayed paths only, no head start).
     * Read from the system property {@code peerlink.race}.
     */
    enum Mode {
        ALL, DIRECT, RELAY;

        static Mode fromSystemProperty() {
            String v = System.getProperty("peerlink.race", "all");
            try {
                return valueOf(v.toUpperCase(java.util.Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("peerlink.race must be all, direct or relay: " + v, e);
            }
        }
    }

    /** What the race needs from its device. */
    interface Host {
        EventLoop loop();

        PunchOptions punchOptions();

        ProbeBudget probeBudget();

        /** @return the device's own relayed sockets (brokers), which race like allocations */
        List<LinkSocket> relayedSockets();

        /** Starts a handshake as initiator on a path. */
        void initiate(Introduction intro, LinkSocket via, Endpoint remote, byte[] prologue, CompletableFuture<PeerLink> result,
                      PathKind kind);

        /** Sends late candidates to the peer through the rendezvous. */
        void trickle(long requestId, List<Candidate> candidates);

        /** @return a TURN transport for a relay (state CREATED), or null if the device has no {@code turn} transport provider; any thread */
        Transport turnTransport(Endpoint server, RelayServer relay);

        /** @return the socket of the WebSocket relay (the rendezvous connection), or null */
        LinkSocket wsRelaySocket();

        /** Runs blocking work (an allocation) off the loop. */
        Executor blocking();

        /** @return a new direct check on the UDP socket for the introduction (a re-punch) */
        ConnectivityCheck directCheck(Introduction intro);

        /** The set-up socket dispatch for a socket this race started. */
        void attach(LinkSocket socket);

        /** A socket this race started is closed: forget it. */
        void detach(LinkSocket socket);

        ConnectionTable connections();

        /** The race ended (link closed or set-up failed): forget it. */
        void finished(LinkRace race);
    }

    private final Host host;
    private final Mode mode;
    private final EventLoop loop;
    final Introduction intro;
    private final boolean initiator;
    private final LinkSocket udp;
    private final byte[] prologue;
    private final CompletableFuture<PeerLink> result;
    private ConnectivityCheck direct;
    private final Map<LinkSocket, ConnectivityCheck> relayed = new LinkedHashMap<>();
    private final List<LinkSocket> allocations = new ArrayList<>();
    private final List<Candidate> peerRelayed = new ArrayList<>();
    private final List<String> failures = new ArrayList<>();
    private int allocationsPending;
    private boolean allocated;
    private boolean handshaking;
    private boolean done;
    private PeerLinkImpl link;
    private EventLoop.Timer hold;
    private EventLoop.Timer trickleWait;
    private boolean trickleExpired;
    private final List<EventLoop.Timer> staggered = new ArrayList<>();
    /** When the last direct check that sent full-TTL probes to the peer ended (loop nanos), or -1. */
    private long quietSince = -1;
    private int repunchRounds;
    private EventLoop.Timer repunchTimer;
    private final List<EventLoop.Timer> signals = new ArrayList<>();
    private EventLoop.Timer wsRelayStart;
    /** When the race started (loop nanos). */
    private long raceStarted;
    /** The peer's candidates a (re-)punch probes: the introduction's, replaced by the peer's CANDIDATES frames. */
    private List<Candidate> peerCandidates;
    /** Highest sequence of the peer's CANDIDATES frames taken, or -1. */
    private long peerSequence = -1;
    /** This side's direct candidates last announced over the link, or null; and their sequence. */
    private List<Candidate> ownCandidates;
    private long ownSequence;
    /** When this side last announced a candidate set (loop nanos). */
    private long lastAnnounced = Long.MIN_VALUE / 2;
    private EventLoop.Timer announceTimer;
    private final List<EventLoop.Timer> announcements = new ArrayList<>();
    /** The peer's re-punch answered the candidate set of this sequence (its OPENED arrived): stop repeating it. */
    private long announcedAnswered = -1;
    /**
     * Candidates of either side changed since the last direct check started: the next re-punch
     * probes addresses no earlier check's conntrack entries refer to, so it need not wait for
     * them to expire ({@link #REPUNCH_QUIET}).
     */
    private boolean fresh;
    /** Fresh peer candidates arrived and no re-punch has probed them yet. */
    private boolean freshPending;
    /** When a re-punch last started for fresh peer candidates (loop nanos). */
    private long lastFreshRepunch = Long.MIN_VALUE / 2;
    private EventLoop.Timer freshTimer;

    LinkRace(Host host, Mode mode, Introduction intro, LinkSocket udp, ConnectivityCheck direct, byte[] prologue,
             CompletableFuture<PeerLink> result) {
        this.host = host;
        this.mode = mode;
        this.loop = host.loop();
        this.intro = intro;
        this.initiator = intro.role() == Introduction.Role.INITIATOR;
        this.udp = udp;
        this.direct = direct;
        this.prologue = prologue;
        this.result = result;
        this.peerCandidates = intro.peerCandidates();
        result.whenComplete((l, e) -> loop.execute(() -> onResult(l, e)));
    }

    /** @return the check that handles set-up packets arriving on {@code via}, or null */
    ConnectivityCheck checkFor(LinkSocket via) {
        return via == udp ? direct : relayed.get(via);
    }

    /**
     * A PROBE or PROBE_ACK for this race's connection ID arrived on {@code via}: to that socket's
     * check, except the peer's re-punch signal (an authentic PROBE with the OPENED flag on a
     * relayed socket). Loop thread.
     */
    void onProbe(LinkSocket via, Endpoint source, SetupPacket.Probe probe) {
        ConnectivityCheck check = checkFor(via);
        if (check == null) {
            triggeredRelayedCheck(via, source, probe);
            return;
        }
        if (via != udp && probe.type() == SetupPacket.PROBE && (probe.flags() & SetupPacket.FLAG_OPENED) != 0) {
            if (check.authentic(probe)) {
                onPeerOpened();
            }
            return;
        }
        check.onProbe(source, probe);
    }

    /** Starts the direct check, the allocations and the relayed checks towards relayed candidates the introduction carries. */
    void start() {
        raceStarted = loop.nanoTime();
        ConnectivityCheck first = direct;
        first.result().whenComplete((selected, error) -> loop.execute(() -> {
            if (direct == first) { // not superseded by a re-punch towards fresh candidates
                onCheck(udp, selected, error);
            }
        }));
        onDirectValidated(direct);
        direct.start(intro.startIn());
        for (Candidate c : intro.peerCandidates()) {
            if (c.type() == CandidateType.RELAY) {
                peerRelayed.add(c);
            }
        }
        if (mode == Mode.DIRECT) {
            return;
        }
        for (LinkSocket s : host.relayedSockets()) {
            startRelayedCheck(s);
        }
        LinkSocket ws = host.wsRelaySocket();
        if (ws != null) {
            // The last resort: direct and TURN get a head start.
            wsRelayStart = loop.schedule(this::startWsRelayCheck, mode == Mode.RELAY ? 0 : WS_RELAY_DELAY.toNanos());
        }
        List<RelayServer> relays = intro.relays();
        for (int i = 0; i < relays.size(); i++) {
            RelayServer relay = relays.get(i);
            if (i == 0) {
                allocate(relay);
            } else {
                staggered.add(loop.schedule(() -> {
                    if (!allocated && !done) {
                        allocate(relay);
                    }
                }, ALLOCATION_STAGGER.toNanos() * i));
            }
        }
    }

    /**
     * Allocates on a relay off the loop: the name lookup, the TURN transport's creation (a
     * service-loader scan) and the Allocate exchange all run on the blocking executor, so that the
     * loop stays free for the direct check's probes racing it.
     */
    private void allocate(RelayServer relay) {
        allocationsPending++;
        long started = loop.nanoTime();
        host.blocking().execute(() -> {
            LinkSocket s = null;
            Throwable error = null;
            try {
                Endpoint server = Endpoint.of("turn", new InetSocketAddress(InetAddress.getByName(relay.host()), relay.port()));
                Transport t = host.turnTransport(server, relay);
                if (t != null) {
                    s = new LinkSocket(t, loop, host.connections());
                    s.start();
                }
            } catch (UnknownHostException e) {
                error = new UnknownHostException("unknown relay host " + relay.host());
            } catch (Exception | Error e) {
                error = e;
            }
            LinkSocket socket = s;
            Throwable failure = error;
            try {
                loop.execute(() -> onAllocated(relay, socket, failure, started));
            } catch (RuntimeException rejected) {
                if (socket != null) {
                    socket.close(); // the device closed meanwhile
                }
            }
        });
    }

    private void onAllocated(RelayServer relay, LinkSocket s, Throwable error, long startedNanos) {
        allocationsPending--;
        if (error != null || s == null) {
            if (error != null) {
                LOG.log(System.Logger.Level.DEBUG, () -> "no allocation on " + relay.uri() + ": " + error);
                failures.add("relay " + relay.uri() + ": " + error.getMessage());
            }
            if (s != null) {
                s.close();
            }
            maybeFail();
            return;
        }
        if (allocated || done) {
            s.close(); // another relay won the allocation race, or the set-up is over
            maybeFail();
            return;
        }
        allocated = true;
        for (EventLoop.Timer t : staggered) {
            t.cancel();
        }
        allocations.add(s);
        host.attach(s);
        Endpoint relayedAddress = s.localEndpoint();
        LOG.log(System.Logger.Level.DEBUG, () -> "allocated " + relayedAddress + " on " + relay.uri() + " in "
                + (loop.nanoTime() - startedNanos) / 1_000_000 + " ms");
        host.trickle(intro.requestId(), List.of(Candidate.of(relayedAddress, CandidateType.RELAY, RELAY_LOCAL_PREFERENCE)));
        startRelayedCheck(s);
    }

    /** The peer trickled candidates (its relayed address). */
    void onTrickle(List<Candidate> candidates) {
        boolean added = false;
        for (Candidate c : candidates) {
            if (c.type() == CandidateType.RELAY && !peerRelayed.contains(c)) {
                if (peerRelayed.size() >= 8) {
                    peerRelayed.remove(0); // bounded: a peer whose relay keeps restarting replaces its oldest address
                }
                peerRelayed.add(c);
                added = true;
            }
        }
        if (!added || done && link == null || mode == Mode.DIRECT) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "race: peer trickled " + candidates + ", "
                + (loop.nanoTime() - raceStarted) / 1_000_000 + " ms after the introduction");
        if (link != null) {
            // The link is up: the peer's relay allocation was replaced (its relay restarted, or it
            // moved). Add the new relayed address as a path from every relayed socket that reaches it.
            for (Candidate c : candidates) {
                if (c.type() != CandidateType.RELAY) {
                    continue;
                }
                for (LinkSocket s : allocations) {
                    if (s.transport().supports(c.endpoint())) {
                        addPath(s, c.endpoint());
                    }
                }
            }
            return;
        }
        for (LinkSocket s : allocations) {
            startRelayedCheck(s);
        }
        for (LinkSocket s : host.relayedSockets()) {
            startRelayedCheck(s);
        }
    }

    private void startRelayedCheck(LinkSocket s) {
        if (relayed.containsKey(s)) {
            return;
        }
        List<Candidate> reachable = peerRelayed.stream().filter(c -> s.transport().supports(c.endpoint())).toList();
        if (reachable.isEmpty()) {
            return;
        }
        runRelayedCheck(s, relayedCheck(s, reachable));
    }

    private ConnectivityCheck relayedCheck(LinkSocket s, List<Candidate> reachable) {
        return new ConnectivityCheck(loop, s, intro.localConnectionId(), intro.remoteConnectionId(),
                intro.sessionToken(), initiator, reachable, host.punchOptions(), 0, host.probeBudget());
    }

    /**
     * An authentic PROBE arrived on one of this race's allocations (or the device's relayed
     * sockets) before the peer's trickled relayed address did — the peer allocated first and its
     * probe overtook the trickle through the rendezvous. ICE's triggered check (RFC 8445
     * 7.3.1.4): start the relayed check at once with the probe's source as a peer-reflexive
     * candidate, answer the probe and probe back, instead of dropping it and waiting for the
     * peer's retransmission (20 ms or more later).
     */
    private void triggeredRelayedCheck(LinkSocket via, Endpoint source, SetupPacket.Probe probe) {
        if (done || mode == Mode.DIRECT || via == udp || via == host.wsRelaySocket() || probe.type() != SetupPacket.PROBE
                || (probe.flags() & (SetupPacket.FLAG_OPENED | SetupPacket.FLAG_OPENER)) != 0
                || !(allocations.contains(via) || host.relayedSockets().contains(via))) {
            return;
        }
        ConnectivityCheck check = relayedCheck(via, List.of());
        if (!check.authentic(probe)) {
            return; // not from the introduced peer: nothing is started
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "race: probe on " + via.localEndpoint() + " from " + source
                + " before its trickle: triggered relayed check");
        runRelayedCheck(via, check);
        check.onProbe(source, probe);
    }

    private void runRelayedCheck(LinkSocket s, ConnectivityCheck check) {
        relayed.put(s, check);
        LOG.log(System.Logger.Level.DEBUG, () -> "race: relayed check on " + s.localEndpoint() + " started, "
                + (loop.nanoTime() - raceStarted) / 1_000_000 + " ms after the introduction");
        if (trickleWait != null) {
            trickleWait.cancel();
            trickleWait = null;
        }
        check.result().whenComplete((selected, error) -> loop.execute(() -> onCheck(s, selected, error)));
        onValidated(s, check);
        check.start(Duration.ZERO);
    }

    /** Races the WebSocket relay: a check towards the peer's endpoint on this device's rendezvous server. */
    private void startWsRelayCheck() {
        LinkSocket ws = host.wsRelaySocket();
        if (done || link != null || handshaking || ws == null || relayed.containsKey(ws)) {
            return; // a link open on a better path does not need the last resort
        }
        if (wsRelayStart != null) {
            wsRelayStart.cancel();
        }
        Endpoint peer = ((io.peerlink.core.internal.rendezvous.WsRelayTransport) ws.transport()).endpointOf(intro.peer());
        ConnectivityCheck check = new ConnectivityCheck(loop, ws, intro.localConnectionId(), intro.remoteConnectionId(),
                intro.sessionToken(), initiator, List.of(Candidate.of(peer, CandidateType.RELAY, 0)), host.punchOptions(), 0,
                host.probeBudget());
        relayed.put(ws, check);
        check.result().whenComplete((selected, error) -> loop.execute(() -> onCheck(ws, selected, error)));
        onValidated(ws, check);
        check.start(Duration.ZERO);
    }

    /** @return true if the WebSocket relay's check has not started and is all that is left to try */
    private boolean onlyWsRelayLeft() {
        LinkSocket ws = host.wsRelaySocket();
        if (ws == null || relayed.containsKey(ws) || mode == Mode.DIRECT || !direct.result().isCompletedExceptionally()
                || allocationsPending > 0) {
            return false;
        }
        for (ConnectivityCheck c : relayed.values()) {
            if (!c.result().isDone()) {
                return false;
            }
        }
        return true;
    }

    private void onCheck(LinkSocket via, ConnectivityCheck.Selected selected, Throwable error) {
        if (via == udp && error != null && checkFor(udp).probedPublic()) {
            quietSince = loop.nanoTime();
        }
        if (via == udp && error != null && link != null) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
            LOG.log(System.Logger.Level.DEBUG, () -> "direct check failed while the link runs on "
                    + link.path().kind() + ": " + cause.getMessage());
            scheduleRepunch();
            return;
        }
        if (error != null) {
            Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
            failures.add((via == udp ? "direct: " : "relayed via " + via.localEndpoint() + ": ")
                    + (cause instanceof NoPathException ? cause.getMessage() : String.valueOf(cause)));
            if (via == udp && !relayed.isEmpty() || allocationsPending > 0 || allocated) {
                // Still racing: a relayed check runs, an allocation is pending, or the peer's
                // relayed candidate may still be on its way.
                if (relayed.isEmpty() && trickleWait == null && link == null) {
                    trickleWait = loop.schedule(() -> {
                        trickleExpired = true;
                        maybeFail();
                    }, TRICKLE_WAIT.toNanos());
                }
            }
            maybeFail();
            if (via != udp) {
                closeUnused(via);
            }
            return;
        }
        // A device whose only transport is a broker runs its "direct" check through the broker too.
        PathKind kind = via == udp && !via.transport().capabilities().relayed() ? (selected.type() == CandidateType.HOST ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC)
                : Session.kindOf(via, selected.remote());
        LOG.log(System.Logger.Level.DEBUG, () -> "race: " + kind + " " + selected.remote() + " succeeded");
        if (link != null) {
            addPath(via, selected.remote());
            return;
        }
        if (!initiator || handshaking) {
            return; // the responder's link is opened by the handshake; a later path is added once it is open
        }
        if (via == udp && mode == Mode.RELAY) {
            return;
        }
        open(via, selected.remote(), kind);
    }

    /**
     * The initiator opens the link on a relayed pair as soon as its check validated it (an
     * authentic ACK through the relay), without waiting for the nomination round trip: the
     * handshake itself tells the responder which path the link uses, and the check's nomination
     * completes in the background.
     */
    private void onValidated(LinkSocket via, ConnectivityCheck check) {
        if (!initiator) {
            return;
        }
        check.validated().thenAccept(selected -> loop.execute(() -> {
            if (done || link != null || handshaking || relayed.get(via) != check) {
                return;
            }
            PathKind kind = Session.kindOf(via, selected.remote());
            LOG.log(System.Logger.Level.DEBUG, () -> "race: " + kind + " " + selected.remote() + " validated");
            open(via, selected.remote(), kind);
        }));
    }

    /**
     * The initiator opens the link on a validated LAN pair (the peer's HOST candidate answered on
     * the UDP socket) without waiting for the nomination round trip, as on a validated relayed pair:
     * no better path can come, and the responder's answer to a NOMINATE is "not yet" until its
     * own triggered probe was answered, which costs a 20 ms retransmission more often than not.
     * A validated public pair still waits for the nomination, which gives a LAN pair its grace.
     */
    private void onDirectValidated(ConnectivityCheck check) {
        if (!initiator || mode == Mode.RELAY || udp.transport().capabilities().relayed()) {
            return;
        }
        check.validated().thenAccept(selected -> loop.execute(() -> {
            if (done || link != null || handshaking || direct != check || selected.type() != CandidateType.HOST) {
                return;
            }
            LOG.log(System.Logger.Level.DEBUG, () -> "race: DIRECT_PRIVATE " + selected.remote() + " validated");
            open(udp, selected.remote(), PathKind.DIRECT_PRIVATE);
        }));
    }

    /**
     * The initiator's path {@code via → remote} works: run the handshake on it, except that a
     * relayed path gives the direct check its head start ({@link #RELAY_HOLD}) while the direct
     * check has heard from the peer (so a direct path is on its way), and the WebSocket relay, the
     * last resort, waits as long while any other check or allocation is running. A direct check
     * that has heard nothing from the peer gets no head start: between two NATs that cannot be
     * punched (symmetric ones) nothing ever arrives, and waiting would only delay the first byte.
     */
    private void open(LinkSocket via, Endpoint remote, PathKind kind) {
        boolean ws = via == host.wsRelaySocket();
        boolean directOnItsWay = !direct.result().isDone() && direct.heardFromPeer();
        if (via != udp && mode == Mode.ALL && (ws ? othersRunning(via) : directOnItsWay)) {
            // The better path's head start: a relayed success waits a moment for the direct check.
            if (hold == null) {
                hold = loop.schedule(() -> handshake(via, remote, kind), RELAY_HOLD.toNanos());
            }
            return;
        }
        handshake(via, remote, kind);
    }

    /** @return true if a check other than {@code via}'s, or an allocation, is still running */
    private boolean othersRunning(LinkSocket via) {
        if (!direct.result().isDone() || allocationsPending > 0) {
            return true;
        }
        for (Map.Entry<LinkSocket, ConnectivityCheck> e : relayed.entrySet()) {
            if (e.getKey() != via && !e.getValue().result().isDone()) {
                return true;
            }
        }
        return false;
    }

    private void handshake(LinkSocket via, Endpoint remote, PathKind kind) {
        if (handshaking || done) {
            return;
        }
        handshaking = true;
        if (hold != null) {
            hold.cancel();
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "race: handshake on " + kind + " " + remote + ", "
                + (loop.nanoTime() - raceStarted) / 1_000_000 + " ms after the introduction");
        host.initiate(intro, via, remote, prologue, result, kind);
    }

    /** Every check failed and nothing is pending: the set-up fails. */
    private void maybeFail() {
        if (done || link != null || handshaking) {
            return;
        }
        if (onlyWsRelayLeft()) {
            startWsRelayCheck(); // every other check failed: no need to wait for the head start to end
            return;
        }
        if (!direct.result().isDone() || allocationsPending > 0) {
            return;
        }
        LinkSocket ws = host.wsRelaySocket();
        if (ws != null && mode != Mode.DIRECT && !relayed.containsKey(ws)) {
            return; // the WebSocket relay's check is still to come
        }
        for (ConnectivityCheck c : relayed.values()) {
            if (!c.result().isDone() || !c.result().isCompletedExceptionally()) {
                return;
            }
        }
        if (relayed.isEmpty() && allocated && trickleWait != null && !trickleExpired) {
            return; // still waiting for the peer's relayed candidate
        }
        if (!direct.result().isCompletedExceptionally()) {
            return; // the responder: the direct check succeeded, the handshake will open the link
        }
        result.completeExceptionally(new UnreachableException(intro.peer(), UnreachableException.Reason.NO_PATH,
                String.join("; ", failures)));
    }

    private void onResult(PeerLink opened, Throwable error) {
        if (error != null) {
            finish();
            return;
        }
        link = (PeerLinkImpl) opened;
        link.session().engine().onCandidates(this::onPeerCandidates);
        if (mode == Mode.ALL) {
            link.session().repunchAfterMove();
        }
        link.session().engine().closedOnLoop().thenRun(() -> loop.execute(this::finish));
        if (direct.result().isCompletedExceptionally()) {
            scheduleRepunch(); // the punch lost before the link opened on a relayed path
        }
        // Paths that succeeded before the link opened (the loser of the race) join it now.
        addIfSucceeded(udp, direct);
        for (Map.Entry<LinkSocket, ConnectivityCheck> e : relayed.entrySet()) {
            addIfSucceeded(e.getKey(), e.getValue());
        }
        for (LinkSocket s : List.copyOf(allocations)) {
            ConnectivityCheck c = relayed.get(s);
            if (c != null && c.result().isCompletedExceptionally()) {
                closeUnused(s);
            }
        }
        // An allocation the peer never answered with a relayed candidate of its own is released.
        loop.schedule(() -> {
            for (LinkSocket s : List.copyOf(allocations)) {
                if (!relayed.containsKey(s)) {
                    closeUnused(s);
                }
            }
        }, TRICKLE_WAIT.toNanos());
    }

    private void addIfSucceeded(LinkSocket via, ConnectivityCheck check) {
        if (check.result().isDone() && !check.result().isCompletedExceptionally()) {
            addPath(via, check.result().join().remote());
        }
    }

    private void addPath(LinkSocket via, Endpoint remote) {
        if (link == null || !link.session().engine().isOpen()) {
            return;
        }
        boolean known = link.paths().stream().anyMatch(p -> p.local().equals(via.localEndpoint()) && p.remote().equals(remote)
                && p.state() != PathState.FAILED && p.state() != PathState.PROBING);
        if (known) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "race: adding path " + via.localEndpoint() + " -> " + remote);
        link.session().addPath(via, remote, false).whenComplete((info, e) -> {
            if (e != null) {
                LOG.log(System.Logger.Level.DEBUG, () -> "path " + remote + " did not validate: " + e.getMessage());
            }
        });
    }

    private void closeUnused(LinkSocket s) {
        if (link != null && link.paths().stream().anyMatch(p -> p.local().equals(s.localEndpoint()))) {
            return; // the handshake came this way before the check concluded: the path is in use
        }
        if (allocations.remove(s)) {
            host.detach(s);
            s.close();
        }
    }

    /** The link closed or the set-up failed: release the allocations. */
    private void finish() {
        if (done) {
            return;
        }
        done = true;
        stopChecks(); // a punch still racing a closed link would only send into a socket about to close
        for (EventLoop.Timer t : staggered) {
            t.cancel();
        }
        if (hold != null) {
            hold.cancel();
        }
        if (trickleWait != null) {
            trickleWait.cancel();
        }
        if (repunchTimer != null) {
            repunchTimer.cancel();
        }
        cancelSignals();
        cancelAnnouncements();
        if (wsRelayStart != null) {
            wsRelayStart.cancel();
        }
        for (LinkSocket s : allocations) {
            if (link != null) {
                link.session().transportFailed(s);
            }
            host.detach(s);
            s.close();
        }
        allocations.clear();
        host.finished(this);
    }

    /** The device is closing: its checks stop sending before its sockets close. Loop thread. */
    void stopChecks() {
        direct.stop();
        for (ConnectivityCheck c : relayed.values()) {
            c.stop();
        }
        if (repunchTimer != null) {
            repunchTimer.cancel();
        }
        cancelSignals();
        cancelAnnouncements();
        if (wsRelayStart != null) {
            wsRelayStart.cancel();
        }
    }

    // ---------------------------------------------------------------- re-punch (docs/protocol-punching.md, "Re-punch")

    /** @return true while the link is open and runs on a relayed path */
    private boolean onRelayedPath() {
        if (done || link == null || !link.session().engine().isOpen()) {
            return false;
        }
        PathKind kind = link.path().kind();
        return kind == PathKind.RELAY || kind == PathKind.BROKERED;
    }

    /** The direct path lost (or is not in use): try it again later, once the clashing conntrack entries expired. */
    private void scheduleRepunch() {
        if (mode != Mode.ALL || repunchTimer != null || !onRelayedPath()) {
            return;
        }
        long delay = REPUNCH_DELAY.toNanos() << Math.min(repunchRounds, REPUNCH_MAX_DOUBLINGS);
        repunchTimer = loop.schedule(() -> {
            repunchTimer = null;
            repunchRounds++;
            repunch();
        }, delay);
    }

    /**
     * The link's active path changed. A fall-back from a direct path to a relayed one (the direct
     * path stopped answering, or this device moved) schedules a background re-punch round, as a
     * lost punch does; fresh candidates of either side start one sooner. Loop thread.
     */
    void pathChanged(LinkEvent.PathChanged event) {
        boolean fromDirect = event.from().kind() == PathKind.DIRECT_PUBLIC || event.from().kind() == PathKind.DIRECT_PRIVATE;
        boolean toRelay = event.to().kind() == PathKind.RELAY || event.to().kind() == PathKind.BROKERED;
        if (fromDirect && toRelay && link != null) {
            scheduleRepunch();
        }
    }

    /** @return the peer's relayed addresses the link's relayed checks reached, with their sockets */
    private List<Map.Entry<LinkSocket, Endpoint>> signalTargets() {
        List<Map.Entry<LinkSocket, Endpoint>> targets = new ArrayList<>();
        for (Map.Entry<LinkSocket, ConnectivityCheck> e : relayed.entrySet()) {
            CompletableFuture<ConnectivityCheck.Selected> r = e.getValue().result();
            if (r.isDone() && !r.isCompletedExceptionally()) {
                targets.add(Map.entry(e.getKey(), r.join().remote()));
            }
        }
        return targets;
    }

    /**
     * Starts a re-punch: a new direct check that sends its openers now, tells the peer so over the
     * relayed path (a PROBE with the OPENED flag, repeated while it waits) and sends full-TTL
     * probes only once the peer said the same. Returns false if none could start.
     */
    private boolean repunch() {
        if (!onRelayedPath() || direct.waitingForPeer() || !direct.result().isDone()) {
            return false;
        }
        List<Map.Entry<LinkSocket, Endpoint>> targets = signalTargets();
        LOG.log(System.Logger.Level.DEBUG, () -> "re-punch " + repunchRounds + " towards " + intro.peer().shortForm()
                + (fresh ? " (fresh candidates " + peerCandidates + ")" : "") + " (the link runs on " + link.path().kind() + ")");
        fresh = false;
        freshPending = false;
        ConnectivityCheck check = host.directCheck(peerCandidates == intro.peerCandidates() ? intro
                : new Introduction(intro.peer(), peerCandidates, intro.sessionToken(), intro.localConnectionId(),
                intro.remoteConnectionId(), intro.role(), intro.startIn(), intro.requestId(), intro.relays()));
        direct = check;
        check.result().whenComplete((selected, error) -> loop.execute(() -> {
            if (direct == check) { // not superseded by a newer re-punch, whose signals go on
                cancelSignals();
                onCheck(udp, selected, error);
            }
        }));
        check.startAfterPeerOpened(REPUNCH_GATE);
        for (long at : SIGNAL_SCHEDULE_MS) {
            signals.add(loop.schedule(() -> {
                if (check.waitingForPeer()) {
                    signalOpened(targets);
                }
            }, at * 1_000_000L));
        }
        return true;
    }

    /**
     * Tells the peer this side's re-punch openers are out: an OPENED probe over every relayed pair
     * the set-up validated, and a CANDIDATES frame with the OPENED flag over the link's current
     * path (which reaches the peer wherever either side moved since the set-up).
     */
    private void signalOpened(List<Map.Entry<LinkSocket, Endpoint>> targets) {
        for (Map.Entry<LinkSocket, Endpoint> t : targets) {
            relayed.get(t.getKey()).signal(t.getValue(), SetupPacket.FLAG_OPENED);
        }
        sendCandidates(Frame.CANDIDATES_OPENED);
    }

    /** The peer's openers are out: release our waiting re-punch, or start one if ours is due. */
    private void onPeerOpened() {
        if (direct.waitingForPeer()) {
            LOG.log(System.Logger.Level.DEBUG, "re-punch: the peer's openers are out");
            direct.peerOpened();
            return;
        }
        if (!direct.result().isDone() && !(fresh && supersedeStaleCheck("the peer re-punches towards fresh candidates"))) {
            return; // our check still runs towards the candidates it should
        }
        if (!fresh && quietSince >= 0 && loop.nanoTime() - quietSince < REPUNCH_QUIET.toNanos()) {
            return; // the entries our last probes left may still be there
        }
        if (repunch()) {
            if (repunchTimer != null) {
                repunchTimer.cancel();
                repunchTimer = null;
            }
            // Our openers went out in repunch(); the peer's are out: probe now, and tell it once more.
            signalOpened(signalTargets());
            direct.peerOpened();
        }
    }

    // ---------------------------------------------------------------- fresh candidates (docs/protocol-punching.md, "Fresh candidates")

    /**
     * This device gathered its candidates again (it moved to another network, or its rendezvous
     * reconnected and STUN saw a new mapping): if its direct candidates changed, the new set goes
     * to the peer over the link itself, repeated until the peer's re-punch answers, at most one new
     * set per {@link #CANDIDATES_INTERVAL} (a newer one waits for the interval's end). Loop thread.
     *
     * @param candidates every candidate the device just gathered
     */
    void localCandidatesChanged(List<Candidate> candidates) {
        if (done || link == null || !link.session().engine().isOpen() || mode != Mode.ALL) {
            return;
        }
        List<Candidate> direct = candidates.stream().filter(FrameCodec::encodable)
                .sorted(Comparator.comparingLong(Candidate::priority).reversed()).limit(Frame.MAX_CANDIDATES).toList();
        if (direct.isEmpty() || direct.equals(ownCandidates)) {
            return;
        }
        ownCandidates = direct;
        ownSequence++;
        fresh = true; // our new NAT holds no entry of an earlier check
        if (!this.direct.result().isDone() && onRelayedPath()) {
            // A check still running (the initial one, or a re-punch) probes stale pairs, and from a
            // new mapping before the peer's openers: it is abandoned, and the peer's re-punch
            // towards the fresh candidates, signalled by its OPENED, starts ours at once.
            abandonDirect("this device's candidates changed");
        }
        long wait = lastAnnounced + CANDIDATES_INTERVAL.toNanos() - loop.nanoTime();
        if (wait > 0) {
            if (announceTimer == null) {
                announceTimer = loop.schedule(() -> {
                    announceTimer = null;
                    announce();
                }, wait);
            }
            return;
        }
        announce();
    }

    /**
     * This device's interface addresses changed (after the link's session reacted): a direct check
     * still running while the link runs relayed is abandoned at once. Its probes would now leave
     * from the new address towards the peer's public candidates before the peer's openers, and at
     * a filtering peer NAT leave the unanswered conntrack entry that makes the re-punch towards
     * the fresh candidates fail (docs/protocol-punching.md, "Fresh candidates"). Loop thread.
     */
    void localAddressChanged() {
        if (done || mode != Mode.ALL || direct.result().isDone() || !onRelayedPath()) {
            return;
        }
        abandonDirect("this device's address changed");
    }

    private void announce() {
        if (done || link == null || !link.session().engine().isOpen()) {
            return;
        }
        lastAnnounced = loop.nanoTime();
        for (EventLoop.Timer t : announcements) {
            t.cancel();
        }
        announcements.clear();
        long sequence = ownSequence;
        LOG.log(System.Logger.Level.DEBUG, () -> "announcing candidates " + sequence + " " + ownCandidates + " to "
                + intro.peer().shortForm() + " over " + link.path().kind());
        for (long at : CANDIDATES_SCHEDULE_MS) {
            announcements.add(loop.schedule(() -> {
                if (sequence == ownSequence && announcedAnswered < sequence) {
                    sendCandidates(0);
                }
            }, at * 1_000_000L));
        }
    }

    /** Sends this side's last announced candidates (none if it never announced any) with {@code flags}. */
    private void sendCandidates(int flags) {
        if (done || link == null || !link.session().engine().isOpen()) {
            return;
        }
        link.session().engine().sendCandidates(ownSequence, flags, ownCandidates == null ? List.of() : ownCandidates);
    }

    /**
     * The peer's CANDIDATES frame (sealed: it comes from the peer). A new, non-empty set replaces
     * the peer's direct candidates for every later (re-)punch; while the link runs on a relayed
     * path, a re-punch towards them starts at once (at most one per {@link #CANDIDATES_INTERVAL}).
     * The OPENED flag is the peer's re-punch signal, as an OPENED probe. Loop thread.
     */
    private void onPeerCandidates(long sequence, int flags, List<Candidate> candidates) {
        if (done || link == null) {
            return;
        }
        if (!candidates.isEmpty() && sequence > peerSequence) {
            peerSequence = sequence;
            List<Candidate> merged = new ArrayList<>(candidates);
            for (Candidate c : peerCandidates) {
                if (c.type() == CandidateType.RELAY || !FrameCodec.encodable(c)) {
                    merged.add(c); // relayed addresses travel by the rendezvous trickle
                }
            }
            if (!merged.equals(peerCandidates)) {
                LOG.log(System.Logger.Level.DEBUG, () -> "peer " + intro.peer().shortForm() + " announced candidates " + sequence
                        + " " + candidates);
                peerCandidates = List.copyOf(merged);
                fresh = true;
                freshPending = true;
            }
        }
        if ((flags & Frame.CANDIDATES_OPENED) != 0) {
            announcedAnswered = ownSequence; // the peer re-punches: it has our candidates, if we announced any
            onPeerOpened();
            return;
        }
        if (freshPending) {
            // After this packet is through the session, which may move to the path it came on.
            loop.execute(this::freshRepunch);
        }
    }

    /** Starts a re-punch towards the peer's fresh candidates if the link runs on a relayed path. */
    private void freshRepunch() {
        if (!freshPending || !onRelayedPath() || mode != Mode.ALL) {
            return; // a direct link: the peer's packets from its new address already reach us
        }
        long wait = lastFreshRepunch + CANDIDATES_INTERVAL.toNanos() - loop.nanoTime();
        if (wait > 0) {
            if (freshTimer == null) {
                freshTimer = loop.schedule(() -> {
                    freshTimer = null;
                    freshRepunch();
                }, wait);
            }
            return;
        }
        if (!direct.result().isDone()) {
            // A check that started before these candidates arrived (the initial one, or an earlier
            // re-punch) probes stale ones: abandoned for the re-punch towards the fresh ones.
            abandonDirect("the peer announced fresh candidates");
        }
        lastFreshRepunch = loop.nanoTime();
        if (repunch() && repunchTimer != null) {
            repunchTimer.cancel();
            repunchTimer = null;
        }
    }

    /**
     * Abandons the running direct check in favour of a re-punch towards fresh candidates, if the
     * link runs relayed, candidates changed since that check started ({@link #fresh}) and no
     * re-punch for fresh candidates started within {@link #CANDIDATES_INTERVAL} (the same cap as
     * the peer's candidate sets: a peer cannot make this device start checks faster).
     *
     * @return true if the check was abandoned (the direct check is free for a re-punch)
     */
    private boolean supersedeStaleCheck(String why) {
        if (!fresh || !onRelayedPath() || mode != Mode.ALL
                || loop.nanoTime() - lastFreshRepunch < CANDIDATES_INTERVAL.toNanos()) {
            return false;
        }
        abandonDirect(why);
        lastFreshRepunch = loop.nanoTime();
        return true;
    }

    /**
     * Ends the running direct check at once (its result fails). A re-punch that replaces it at once
     * makes that failure unheard; otherwise it is handled as any failed direct check's (a
     * background round is scheduled).
     */
    private void abandonDirect(String why) {
        ConnectivityCheck stale = direct;
        if (stale.result().isDone()) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "direct check towards " + stale.candidates() + " abandoned: " + why);
        if (stale.probedPublic()) {
            quietSince = loop.nanoTime(); // its last full-TTL probes left now
        }
        cancelSignals();
        stale.abandon(why);
    }

    private void cancelAnnouncements() {
        for (EventLoop.Timer t : announcements) {
            t.cancel();
        }
        announcements.clear();
        if (announceTimer != null) {
            announceTimer.cancel();
            announceTimer = null;
        }
        if (freshTimer != null) {
            freshTimer.cancel();
            freshTimer = null;
        }
    }

    private void cancelSignals() {
        for (EventLoop.Timer t : signals) {
            t.cancel();
        }
        signals.clear();
    }

    /**
     * One of this race's allocations got a new relayed address (the TURN server restarted and lost
     * it, or this device moved): tell the peer through the rendezvous, as at set-up, so that a peer
     * whose own relay path is dead too can reach it (docs/relay.md, "Relay restart").
     *
     * @return true if {@code s} is one of this race's allocations
     */
    boolean relayedAddressChanged(LinkSocket s) {
        if (!allocations.contains(s) || link == null || done) {
            return false;
        }
        Endpoint now;
        try {
            now = s.localEndpoint();
        } catch (IllegalStateException stopped) {
            return true;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "race: relayed address now " + now + "; trickling it to the peer");
        host.trickle(intro.requestId(), List.of(Candidate.of(now, CandidateType.RELAY, RELAY_LOCAL_PREFERENCE)));
        return true;
    }

    /** @return the relayed sockets this race allocated (tests) */
    List<LinkSocket> allocations() {
        return List.copyOf(allocations);
    }
}
