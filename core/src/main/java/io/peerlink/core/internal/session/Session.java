package io.peerlink.core.internal.session;

import io.peerlink.ChannelOptions;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathInfo;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.channel.ChannelEngine;
import io.peerlink.core.internal.channel.DatagramPath;
import io.peerlink.core.internal.channel.ProtectorSealer;
import io.peerlink.core.internal.channel.ReceiveBudget;
import io.peerlink.core.internal.crypto.PacketProtector;
import io.peerlink.core.internal.crypto.RekeyPolicy;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.EventLoop;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Consumer;

/**
 * A link's session: one {@link ChannelEngine} (packet-number space, streams, congestion state)
 * over a set of {@link Path}s (docs/architecture.md, "Sessions and paths").
 *
 * <p>The rule that ties them together: a packet belongs to the session if it opens with the
 * session's keys (its connection ID routes it here, whatever transport and source address it came
 * from); the path it came on is then a candidate. A new candidate is validated with
 * PATH_CHALLENGE/PATH_RESPONSE before it carries anything but probing packets, and sends at
 * most three times the bytes received on it until then. The session moves to a path when this
 * device asks ({@link #switchPath}), when the peer's newest non-probing packet arrived on it and
 * it is validated (the peer moved: NAT rebinding, a new address, another transport), when the
 * active path fails, or when a direct path is validated while a relayed one is active. A move
 * only changes where the engine sends; the engine's ARQ retransmits what was in flight, so no
 * message is lost, duplicated or reordered.
 *
 * <p>Everything but the public accessors runs on the event loop.
 */
public final class Session implements ChannelEngine.PacketObserver {
    /** Bytes an unvalidated path the peer opened may send per byte received on it (RFC 9000 8.1). */
    public static final int AMPLIFICATION_LIMIT = Path.AMPLIFICATION_FACTOR;
    /** Paths kept per session; beyond that, new candidates are ignored until one fails. */
    public static final int MAX_PATHS = 8;
    /** PATH_CHALLENGEs sent per validation before the path fails. */
    public static final int MAX_CHALLENGES = 6;
    /** Size a challenge is padded to where the path and its budget allow (QUIC's minimum MTU). */
    static final int CHALLENGE_SIZE = 1200;
    private static final long MIN_CHALLENGE_INTERVAL_NANOS = 50_000_000L;
    /** How often the active path's liveness is looked at. */
    private static final long LIVENESS_INTERVAL_NANOS = 100_000_000L;
    /** Probe timeouts in a row that make the active path suspect. */
    static final int FAILOVER_PTOS = 2;
    /** Silence on the active path before a failover (also the least time between two). */
    static final long FAILOVER_SILENCE_NANOS = 300_000_000L;
    private long lastFailover = Long.MIN_VALUE / 2;
    /**
     * After this device's address changed under the active path: the least time to wait for the
     * peer to answer from the new address before failing over (the wait is 3 smoothed RTTs when
     * that is longer).
     */
    static final long MOVE_FAILOVER_NANOS = 100_000_000L;
    /** Loop clock of the last change of this device's side of the active path; NOT_MOVED if none pending. */
    private long movedAt = NOT_MOVED;
    /** When {@link #movedAt} makes the active path suspect if it stays silent. */
    private long movedDeadline;
    private static final long NOT_MOVED = Long.MIN_VALUE;
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger(Session.class.getName());

    private final EventLoop loop;
    private final ChannelEngine engine;
    private final Consumer<LinkEvent.PathChanged> pathChanged;
    private final List<Path> paths = new ArrayList<>();
    private Path active;
    /** The path the peer's newest non-probing packet arrived on. */
    private Path peerLatest;
    /**
     * True from a move this device chose until the peer's first non-probing packet on the new
     * path: until then the peer's packets still arrive on the old path because the peer has not
     * seen the move yet, and following them back would undo it.
     */
    private boolean awaitingPeer;
    /**
     * The path a move of this device's choosing left: while {@link #awaitingPeer}, the peer's
     * packets on it are not followed. Packets on any other path are: the peer itself moved (it
     * changed its address while this device failed over), and waiting would leave both sides on
     * paths the other no longer uses until one of them fails.
     */
    private Path movedFrom;
    /**
     * True when a public direct path this device's move broke is restored by a re-punch towards
     * fresh candidates (the link's set-up sends them, docs/protocol-punching.md, "Fresh
     * candidates") rather than by probing it from the new address; see {@link #localEndpointChanged}.
     */
    private boolean repunchesAfterMove;
    private volatile PathInfo activeInfo;
    private volatile List<PathInfo> pathInfos;
    private final CompletableFuture<Void> confirmed = new CompletableFuture<>();

    /**
     * Creates the session on the path link set-up established, and starts its engine.
     *
     * @param loop the device's event loop
     * @param localCid the connection ID the peer puts in our packets
     * @param remoteCid the connection ID we put in the peer's packets
     * @param socket the demultiplexer of the transport set-up used
     * @param remote the peer's endpoint set-up used; validated by set-up (docs/protocol-punching.md)
     * @param kind how datagrams travel on it
     * @param options channel options
     * @param pathChanged told about path changes, on the loop
     */
    public Session(EventLoop loop, long localCid, long remoteCid, LinkSocket socket, Endpoint remote, PathKind kind,
                   ChannelOptions options, Consumer<LinkEvent.PathChanged> pathChanged) {
        this(loop, localCid, remoteCid, socket, remote, kind, options, pathChanged, null, ReceiveBudget.shared());
    }

    /**
     * Creates a secure session: every packet is sealed with keys from the secure handshake
     * (erased when the session closes).
     *
     * @param loop the device's event loop
     * @param localCid the connection ID the peer puts in our packets
     * @param remoteCid the connection ID we put in the peer's packets
     * @param socket the demultiplexer of the transport the handshake used
     * @param remote the peer's endpoint the handshake used; validated by it
     * @param kind how datagrams travel on it
     * @param options channel options
     * @param pathChanged told about path changes, on the loop
     * @param keys the handshake's keys, or null for the unsealed channel (tests, benchmarks); this
     *        session takes them over and destroys them
     * @param budget the device's receive budget
     */
    public Session(EventLoop loop, long localCid, long remoteCid, LinkSocket socket, Endpoint remote, PathKind kind,
                   ChannelOptions options, Consumer<LinkEvent.PathChanged> pathChanged, SessionKeys keys,
                   ReceiveBudget budget) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.pathChanged = Objects.requireNonNull(pathChanged, "pathChanged");
        Path first = new Path(socket, remote, kind, false, PathState.ACTIVE);
        first.addressValidated = true;
        first.lastHeard = loop.nanoTime();
        paths.add(first);
        active = first;
        if (keys != null) {
            PacketProtector protector = keys.newPacketProtector(RekeyPolicy.DEFAULT, loop.nanoTime());
            keys.destroy();
            this.engine = new ChannelEngine(loop, localCid, remoteCid, first, options, new ProtectorSealer(protector), budget);
            // Keys erased once the channel is closed; the device unregisters the connection ID at
            // the same moment, so nothing is opened with them afterwards.
            engine.closedOnLoop().thenRun(protector::destroy);
        } else {
            this.engine = new ChannelEngine(loop, localCid, remoteCid, first, options, new io.peerlink.core.internal.channel.Crc32cSealer(), budget);
        }
        engine.onPacket(this);
        engine.onPathResponse(this::onPathResponse);
        publish();
    }

    /** @return completes on the loop when the first packet from the peer opens (the peer has the keys) */
    public CompletionStage<Void> confirmed() {
        return confirmed;
    }

    /** Starts the engine (credit, timers) and the watch on the active path. */
    public void start() {
        engine.start();
        loop.schedule(this::watchActive, LIVENESS_INTERVAL_NANOS);
    }

    /**
     * Failover: when the active path stops answering ({@value #FAILOVER_PTOS} probe timeouts in a
     * row, and nothing heard on it for {@link #FAILOVER_SILENCE_NANOS}) and a validated standby
     * exists (an unrelayed one preferred), move to the standby now rather than at the idle timeout,
     * and challenge the silent path: if it answers again it is validated, and a direct path then
     * replaces the relayed one again; if not, it fails. After this device's own address changed
     * under the active path, the path is suspect sooner: when nothing was heard on it for
     * {@link #MOVE_FAILOVER_NANOS} (or 3 smoothed RTTs) since the change.
     */
    private void watchActive() {
        if (!engine.isOpen()) {
            return;
        }
        maybeFailover();
        loop.schedule(this::watchActive, LIVENESS_INTERVAL_NANOS);
    }

    private void maybeFailover() {
        if (!engine.isOpen()) {
            return;
        }
        long now = loop.nanoTime();
        if (now - lastFailover < FAILOVER_SILENCE_NANOS) {
            return;
        }
        boolean silent = engine.consecutivePtos() >= FAILOVER_PTOS && now - active.lastHeard >= FAILOVER_SILENCE_NANOS;
        boolean unheardSinceMove = movedAt != NOT_MOVED && now - movedDeadline >= 0 && active.lastHeard - movedAt < 0;
        if (movedAt != NOT_MOVED && active.lastHeard - movedAt >= 0) {
            movedAt = NOT_MOVED; // the peer answered at the new address
        }
        if (!silent && !unheardSinceMove) {
            return;
        }
        Path standby = bestStandby();
        if (standby == null) {
            return;
        }
        Path gone = active;
        lastFailover = now;
        movedAt = NOT_MOVED;
        LOG.log(System.Logger.Level.DEBUG, () -> "active path " + gone + (unheardSinceMove ? " unanswered since this device's address changed"
                : " stopped answering") + "; failing over to " + standby);
        switchTo(standby, true);
        // What was in flight on the silent path is presumed lost: it is retransmitted on the
        // standby now, not after loss detection (which would need acknowledgements first), and the
        // probes restart loss recovery at once.
        engine.retransmitEarlierPaths();
        engine.probeNow();
        startValidation(gone);
    }

    /** @return the session's channel engine */
    public ChannelEngine engine() {
        return engine;
    }

    /** @return the active path; any thread */
    public PathInfo path() {
        return activeInfo;
    }

    /** @return every path, the active one first; any thread */
    public List<PathInfo> paths() {
        return pathInfos;
    }

    // ------------------------------------------------------------------ receiving (loop)

    /**
     * A channel packet for this session's connection ID. Loop thread.
     *
     * @param via the demultiplexer it arrived on
     * @param source its source endpoint
     * @param datagram the whole datagram
     */
    public void onDatagram(LinkSocket via, Endpoint source, ByteBuffer datagram) {
        Path p = find(via, source);
        if (p == null) {
            // Tentative until the packet opens: only then does observe() admit it.
            p = new Path(via, source, kindOf(via, source), true, PathState.PROBING);
        }
        p.bytesReceived += datagram.remaining();
        engine.onDatagram(datagram, p);
    }

    @Override
    public void onPacket(DatagramPath arrivedOn, int size, boolean largest, boolean probing) {
        Path p = (Path) arrivedOn;
        confirmed.complete(null);
        if (!paths.contains(p) && !admit(p)) {
            return;
        }
        p.lastHeard = loop.nanoTime();
        if (!probing) {
            p.lastNonProbing = p.lastHeard;
        }
        if (p == active) {
            if (!probing) {
                awaitingPeer = false;
                if (largest) {
                    peerLatest = p;
                }
            }
            return;
        }
        if (p.state == PathState.FAILED) {
            return;
        }
        if (largest && !probing) {
            peerLatest = p;
        }
        if (p.state == PathState.PROBING && p.retry == null) {
            startValidation(p);
        }
        if (largest && !probing) {
            if (isValidated(p) && mayFollow(p)) {
                switchTo(p, false);
            }
        }
    }

    /** A PATH_RESPONSE arrived (on any path: it validates the path its challenge went on). */
    private void onPathResponse(long data) {
        for (Path p : paths) {
            if (p.state == PathState.PROBING && p.challengesSent > 0 && p.challenge == data) {
                validated(p);
                return;
            }
        }
    }

    private boolean admit(Path p) {
        if (paths.size() >= MAX_PATHS) {
            Path evict = null;
            for (Path q : paths) {
                if (q.state == PathState.FAILED) {
                    evict = q;
                    break;
                }
            }
            if (evict == null) {
                LOG.log(System.Logger.Level.DEBUG, () -> "ignoring new path " + p + ": " + MAX_PATHS + " paths already");
                return false;
            }
            paths.remove(evict);
        }
        paths.add(p);
        LOG.log(System.Logger.Level.DEBUG, () -> "new candidate path " + p);
        publish();
        return true;
    }

    // ------------------------------------------------------------------ validation (loop)

    /** @return true if the peer's newest packets on {@code p} may move the session there */
    private boolean mayFollow(Path p) {
        if (p.rank() > active.rank()) {
            // Not back to a worse path (a relay) while the peer still sends on the active one: when
            // both devices move to a direct path at once, each still sees the other's last packets
            // on the relay, and following them would drag both back there. (Probing packets do not
            // count: a peer that failed over still challenges the path it left.)
            long quiet = Math.max(MOVE_FAILOVER_NANOS, 3 * engine.stats().smoothedRtt().toNanos());
            if (active.lastNonProbing != 0 && loop.nanoTime() - active.lastNonProbing < quiet) {
                return false;
            }
        }
        return !awaitingPeer || p != movedFrom;
    }

    private static boolean isValidated(Path p) {
        return p.state == PathState.VALIDATED || p.state == PathState.STANDBY || p.state == PathState.ACTIVE;
    }

    private void startValidation(Path p) {
        p.state = PathState.PROBING;
        p.challenge = RANDOM.nextLong();
        p.challengesSent = 0;
        sendChallenge(p);
    }

    private void sendChallenge(Path p) {
        p.retry = null;
        if (p.state != PathState.PROBING || !engine.isOpen()) {
            return;
        }
        if (p.challengesSent >= MAX_CHALLENGES) {
            fail(p, "no PATH_RESPONSE to " + MAX_CHALLENGES + " challenges");
            return;
        }
        int size = (int) Math.min(Math.min(CHALLENGE_SIZE, p.maxDatagramSize()), p.amplificationBudget());
        p.challengesSent++;
        p.challengeSentAt = loop.nanoTime();
        // The peer already sends on this path (its newest packets arrive there): the challenge
        // carries our acknowledgements too, since until the path is validated nothing else reaches
        // the peer there (a NAT rebinding: our packets to its old mapping are dropped).
        engine.sendPathChallenge(p, p.challenge, size, p == peerLatest);
        long interval = Math.max(MIN_CHALLENGE_INTERVAL_NANOS, 2 * engine.stats().smoothedRtt().toNanos());
        p.retry = loop.schedule(() -> sendChallenge(p), interval << (p.challengesSent - 1));
    }

    private void validated(Path p) {
        cancelRetry(p);
        p.addressValidated = true;
        p.rttNanos = Math.max(0, loop.nanoTime() - p.challengeSentAt);
        p.state = PathState.VALIDATED;
        LOG.log(System.Logger.Level.DEBUG, () -> "path validated " + p + " rtt " + p.rttNanos / 1000 + " us");
        publish();
        if (p.switchWhenValid || p.rank() < active.rank()) {
            switchTo(p, true);
        } else if (peerLatest == p && mayFollow(p)) {
            switchTo(p, false);
        }
        p.validated.complete(p);
        if (movedAt != NOT_MOVED) {
            // A fallback became available while the active path is suspect after a move.
            maybeFailover();
        }
    }

    private void fail(Path p, String why) {
        cancelRetry(p);
        if (p.state == PathState.FAILED) {
            return;
        }
        p.state = PathState.FAILED;
        LOG.log(System.Logger.Level.DEBUG, () -> "path failed " + p + ": " + why);
        if (p == active) {
            Path fallback = bestStandby();
            if (fallback != null) {
                switchTo(fallback, true);
                engine.retransmitEarlierPaths();
                engine.probeNow();
            }
        }
        publish();
        p.validated.completeExceptionally(new UnreachableException(null, UnreachableException.Reason.NO_PATH,
                "path " + p.local + " -> " + p.remote + " failed: " + why));
    }

    private static void cancelRetry(Path p) {
        if (p.retry != null) {
            p.retry.cancel();
            p.retry = null;
        }
    }

    private Path bestStandby() {
        Path best = null;
        for (Path q : paths) {
            if (q != active && isValidated(q) && (best == null || q.rank() < best.rank()
                    || (q.rank() == best.rank() && q.lastHeard - best.lastHeard > 0))) {
                best = q;
            }
        }
        return best;
    }

    /**
     * @param p a validated path
     * @param ourChoice true if this device chose the move, false if it follows the peer
     */
    private void switchTo(Path p, boolean ourChoice) {
        if (p == active) {
            return;
        }
        Path prev = active;
        awaitingPeer = ourChoice;
        movedFrom = ourChoice ? active : null;
        PathInfo from = active.info();
        if (active.state == PathState.ACTIVE) {
            active.state = PathState.STANDBY;
        }
        p.state = PathState.ACTIVE;
        p.switchWhenValid = false;
        active = p;
        try {
            if (p.socket == prev.socket && p.remote.host().equals(prev.remote.host()) && p.kind == prev.kind) {
                // Only the peer's port changed (a NAT rebinding): same network, same congestion
                // state (RFC 9000 9.4).
                engine.setPathKeepingCongestionState(p);
            } else {
                engine.setPath(p);
                // The estimate was reset (RFC 9000 9.4); the validation just measured this path.
                engine.seedRtt(p.rttNanos);
            }
        } catch (IllegalArgumentException e) {
            // Datagrams too small for channel packets: this path cannot carry the session.
            LOG.log(System.Logger.Level.WARNING, "cannot use path " + p + ": " + e.getMessage());
            p.state = PathState.FAILED;
            Path back = paths.stream().filter(q -> q.info().samePath(from)).findFirst().orElse(null);
            if (back != null && back.state != PathState.FAILED) {
                back.state = PathState.ACTIVE;
                active = back;
            }
            publish();
            return;
        }
        PathInfo to = p.info();
        LOG.log(System.Logger.Level.DEBUG, () -> "path changed " + from + " => " + to);
        publish();
        pathChanged.accept(new LinkEvent.PathChanged(from, to));
    }

    private void publish() {
        List<PathInfo> infos = new ArrayList<>(paths.size());
        infos.add(active.info());
        for (Path p : paths) {
            if (p != active) {
                infos.add(p.info());
            }
        }
        activeInfo = infos.get(0);
        pathInfos = List.copyOf(infos);
    }

    // ------------------------------------------------------------------ application requests (any thread)

    /**
     * Adds and validates a path; see {@link io.peerlink.PeerLink#addPath}.
     *
     * @param socket the local transport's demultiplexer
     * @param remote the peer's endpoint
     * @param makeActive true to move to it once validated
     * @return completes with the path's info once validated (or active, if makeActive)
     */
    public CompletionStage<PathInfo> addPath(LinkSocket socket, Endpoint remote, boolean makeActive) {
        Objects.requireNonNull(socket, "socket");
        Objects.requireNonNull(remote, "remote");
        if (!socket.transport().supports(remote)) {
            throw new IllegalArgumentException(socket.transport() + " cannot reach " + remote);
        }
        CompletableFuture<PathInfo> result = new CompletableFuture<>();
        try {
            loop.execute(() -> addOnLoop(socket, remote, makeActive, result));
        } catch (RejectedExecutionException e) {
            result.completeExceptionally(new IllegalStateException("device is closed"));
        }
        return result;
    }

    private void addOnLoop(LinkSocket socket, Endpoint remote, boolean makeActive, CompletableFuture<PathInfo> result) {
        if (!engine.isOpen()) {
            result.completeExceptionally(new IllegalStateException("link is closed"));
            return;
        }
        Path p = find(socket, remote);
        if (p == null || p.state == PathState.FAILED) {
            if (p != null) {
                paths.remove(p);
            }
            p = new Path(socket, remote, kindOf(socket, remote), false, PathState.PROBING);
            if (!admit(p)) {
                result.completeExceptionally(new IllegalStateException("link already has " + MAX_PATHS + " paths"));
                return;
            }
        }
        Path path = p;
        if (isValidated(path)) {
            if (makeActive) {
                switchTo(path, true);
            }
            result.complete(path.info());
            return;
        }
        path.switchWhenValid |= makeActive;
        path.validated.whenComplete((v, e) -> {
            if (e != null) {
                result.completeExceptionally(e);
            } else {
                result.complete(path.info());
            }
        });
        // A path already under validation starts again: whoever adds it knows it may work now (a
        // punch just opened it), and the backed-off retries of earlier challenges would delay that.
        cancelRetry(path);
        startValidation(path);
    }

    /**
     * The transport behind a demultiplexer stopped: its paths fail, and the session moves to a
     * validated path on another transport if it has one. Loop thread.
     *
     * @param socket the failed transport's demultiplexer
     */
    public void transportFailed(LinkSocket socket) {
        for (Path p : List.copyOf(paths)) {
            if (p.socket == socket) {
                fail(p, "transport stopped");
            }
        }
    }

    /**
     * This device's side of the paths on {@code socket} changed while the transport kept running:
     * the device's address changed under a wildcard-bound socket (it moved to another network), or
     * a relay transport replaced its allocation. Packets on those paths now leave from somewhere
     * the peer has not seen (docs/protocol-paths.md, "A device changes its address"):
     * <ul>
     * <li>the active path, if on {@code socket}, sends two probes at once with its probe-timeout
     *     backoff forgotten: the peer hears authenticated packets from the new address, validates it
     *     and moves there (the rebinding rule), and their acknowledgement restarts loss recovery;
     *     if nothing answers, the usual failover to a validated standby follows;</li>
     * <li>every other path on {@code socket} that was validated, is being validated, or failed
     *     while the transport kept running, is validated again from the new address (with a fresh
     *     challenge count): it becomes a fallback again only once the peer answered there.</li>
     * </ul>
     * Loop thread.
     *
     * @param socket the transport's demultiplexer
     */
    public void localEndpointChanged(LinkSocket socket) {
        localEndpointChanged(socket, false);
    }

    /**
     * As {@link #localEndpointChanged(LinkSocket)}, for a change of this device's interface
     * addresses. If the session restores public direct paths by a re-punch
     * ({@link #repunchAfterMove()}) and has a validated relayed path: when an address went away
     * and the active path is a public direct one on {@code socket}, the session continues on the
     * relayed path at once (what was in flight declared lost and retransmitted there) and fails
     * the public direct paths on {@code socket} instead of probing them from the new address;
     * while the active path is elsewhere, those paths are not probed either. Loop thread.
     *
     * @param socket the transport's demultiplexer
     * @param addressLost true if an address of the device went away
     */
    public void localEndpointChanged(LinkSocket socket, boolean addressLost) {
        if (!engine.isOpen()) {
            return;
        }
        Endpoint now;
        try {
            now = socket.localEndpoint();
        } catch (IllegalStateException stopped) {
            return; // the transport stopped: transportFailed handles its paths
        }
        Path relayed = repunchesAfterMove ? relayedStandby(socket) : null;
        boolean handOver = relayed != null && addressLost && active.socket == socket && active.kind == PathKind.DIRECT_PUBLIC;
        if (handOver) {
            // Probing the peer's public address from the new one would leave an unanswered
            // conntrack entry on a filtering peer NAT that makes the re-punch fail for 30 s
            // (docs/protocol-punching.md, "Fresh candidates"): continue on the relayed standby now.
            Path gone = active;
            lastFailover = loop.nanoTime();
            movedAt = NOT_MOVED;
            LOG.log(System.Logger.Level.DEBUG, () -> "this device's address changed under " + gone + "; continuing on " + relayed
                    + " until a re-punch towards the fresh candidates");
            switchTo(relayed, true);
            engine.retransmitEarlierPaths();
            engine.probeNow();
        }
        for (Path p : List.copyOf(paths)) {
            if (p.socket != socket) {
                continue;
            }
            p.local = now;
            if (relayed != null && active.socket != socket && p.kind == PathKind.DIRECT_PUBLIC) {
                // Not probed from the new address (above); a re-punch adds it again.
                fail(p, "this device's address changed; a re-punch towards the fresh candidates restores it");
                continue;
            }
            if (p == active) {
                // What was in flight left from an address that is gone, or reaches the peer from
                // one it does not know yet: retransmitted now, from the new address, rather than
                // after loss detection.
                engine.retransmitInFlight();
                engine.probeNow();
                movedAt = loop.nanoTime();
                long wait = Math.max(MOVE_FAILOVER_NANOS, 3 * engine.stats().smoothedRtt().toNanos());
                movedDeadline = movedAt + wait;
                loop.schedule(this::maybeFailover, wait);
            } else if (isValidated(p) || p.state == PathState.FAILED || p.state == PathState.PROBING) {
                // A path still being validated starts over too: its challenges so far left from the
                // old address (a relay allocation the server had lost), and the last of them would
                // fail it while the new address works.
                cancelRetry(p);
                startValidation(p);
            }
        }
        publish();
    }

    /** @return the best validated relayed path not on {@code socket}, or null */
    private Path relayedStandby(LinkSocket socket) {
        Path best = null;
        for (Path q : paths) {
            if (q.socket != socket && isValidated(q) && q.rank() > 0 && (best == null || q.rank() < best.rank()
                    || (q.rank() == best.rank() && q.lastHeard - best.lastHeard > 0))) {
                best = q;
            }
        }
        return best;
    }

    /**
     * After this device's address changes, restore a broken public direct path by a re-punch
     * instead of probing it from the new address, if a validated relayed path exists (see
     * {@link #localEndpointChanged}). Set by the link's set-up, which sends the fresh candidates
     * and re-punches. Loop thread.
     */
    public void repunchAfterMove() {
        repunchesAfterMove = true;
    }

    private Path find(LinkSocket via, Endpoint source) {
        for (Path p : paths) {
            if (p.matches(via, source)) {
                return p;
            }
        }
        return null;
    }

    /**
     * @param socket the transport's demultiplexer
     * @param remote a remote endpoint
     * @return how datagrams on that path travel
     */
    public static PathKind kindOf(LinkSocket socket, Endpoint remote) {
        var caps = socket.transport().capabilities();
        if (caps.relayed()) {
            return "turn".equals(remote.scheme()) || "wsrelay".equals(remote.scheme()) ? PathKind.RELAY : PathKind.BROKERED;
        }
        String host = remote.host();
        boolean ipLiteral = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (!ipLiteral) {
            return PathKind.DIRECT_PRIVATE;
        }
        InetAddress a = remote.toSocketAddress().getAddress();
        return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress()
                ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC;
    }

    /** @return counters of the paths for diagnostics and tests (loop thread) */
    String debugPaths() {
        StringBuilder sb = new StringBuilder();
        for (Path p : paths) {
            sb.append(p).append(" rx=").append(p.bytesReceived).append(" tx=").append(p.bytesSent)
                    .append(" refused=").append(p.sendsRefused).append('\n');
        }
        return sb.toString();
    }
}
