package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.Transport;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;

/**
 * ICE-like connectivity checks with a synchronised hole punch (docs/protocol-punching.md).
 * Both sides run one, started by the rendezvous introduction at the same instant:
 * <ol>
 * <li>every attempt first sends low-TTL openers to the peer's public (reflexive) candidates, so
 *     the device's own NAT(s) create a mapping towards the peer without the packet reaching the
 *     peer's NAT (where it would create a clashing conntrack entry);</li>
 * <li>then full-TTL PROBEs to every candidate in priority order (private/LAN first), repeated
 *     with a growing interval; an authentic probe from an unknown source adds a peer-reflexive
 *     candidate (at most {@value #MAX_PEER_REFLEXIVE}) and triggers a probe back;</li>
 * <li>the initiator nominates the best <em>validated</em> pair (waiting a short grace for a
 *     better one); the responder adopts the nominated source only once its own probe to that
 *     address was answered.</li>
 * </ol>
 *
 * <p>What makes it safe against the peer's candidates, the network and colliding addresses:
 * probes and ACKs carry a MAC under {@link ProbeKeys} (never the session secret or a digest of
 * it); a pair is validated only by an authentic ACK that comes from exactly the address the probe
 * went to, with the probe's transaction ID; candidates pass {@link CandidateFilter}; every
 * datagram is charged to the device's {@link ProbeBudget}, and every probe and opener to this
 * check's limit of {@value #MAX_DATAGRAMS_PER_ADDRESS} per destination address.
 *
 * <p>When openers are needed (the peer has public candidates) but the transport cannot set a TTL,
 * the check still tries (a LAN or full-cone path may work), and if no pair answers it fails with
 * that reason, not silently. Confined to the event loop.
 */
public final class ConnectivityCheck {

    /** The selected path. */
    public record Selected(Endpoint remote, CandidateType type) {
    }

    /** Peer-reflexive candidates one check adds at most (spoofed or replayed probe sources). */
    public static final int MAX_PEER_REFLEXIVE = 4;
    /**
     * Probes and openers one check sends to one IP address at most, over its whole run. The
     * default schedule needs about 45 for one public candidate (3 openers on the introduction, 3
     * attempts of 3 openers and ~9 probes, plus nominations). ACKs answer authentic probes one for one and are charged to the
     * device's {@link ProbeBudget} only.
     */
    public static final int MAX_DATAGRAMS_PER_ADDRESS = 48;

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger(ConnectivityCheck.class.getName());
    private static final long MAX_PROBE_INTERVAL_NANOS = 200_000_000L;

    private final EventLoop loop;
    private final LinkSocket socket;
    private final long localCid;
    private final long remoteCid;
    private final ProbeKeys keys;
    private final boolean initiator;
    private final PunchOptions options;
    private final int openerTtl;
    private final ProbeBudget budget;
    private final CandidateFilter filter;
    private final List<Candidate> remotes;
    private final List<String> dropped = new ArrayList<>();
    private final Map<Long, Candidate> outstanding = new HashMap<>();
    private final Set<Endpoint> succeeded = new LinkedHashSet<>();
    private final Set<Endpoint> triggered = new HashSet<>();
    private final Map<InetAddress, Integer> sentPerAddress = new HashMap<>();
    private final CompletableFuture<Selected> result = new CompletableFuture<>();
    private final CompletableFuture<Selected> validated = new CompletableFuture<>();
    /** An authentic full-TTL probe or ACK from the peer arrived: its packets reach us on this socket. */
    private boolean heard;
    private final List<EventLoop.Timer> timers = new ArrayList<>();
    private Selected nominated;
    private Selected selected;
    private Endpoint nominationFrom;
    private EventLoop.Timer graceTimer;
    private int peerReflexive;
    private int probesSent;
    private int openersSent;
    private int acksSent;
    private int unauthentic;
    private int refusedByBudget;
    private String openerProblem;
    private boolean gated;
    private boolean started;
    private EventLoop.Timer gateTimer;

    /**
     * @param loop the event loop everything runs on
     * @param socket the device's socket
     * @param localCid this side's connection ID (probes to us carry it)
     * @param remoteCid the peer's connection ID
     * @param sessionSecret the introduction's one-time secret; only keys derived from it are used
     * @param initiator true on the side that nominates
     * @param remoteCandidates the peer's candidates, untrusted
     * @param options timing and filtering
     * @param openerTtl TTL for openers
     * @param budget the device's datagram budget, shared by its checks
     */
    public ConnectivityCheck(EventLoop loop, LinkSocket socket, long localCid, long remoteCid, String sessionSecret,
                             boolean initiator, List<Candidate> remoteCandidates, PunchOptions options, int openerTtl,
                             ProbeBudget budget) {
        this.loop = loop;
        this.socket = socket;
        this.localCid = localCid;
        this.remoteCid = remoteCid;
        this.keys = ProbeKeys.derive(sessionSecret, initiator);
        this.initiator = initiator;
        this.options = options;
        this.openerTtl = openerTtl;
        this.budget = budget;
        this.filter = CandidateFilter.forTransport(socket.transport(), options);
        this.remotes = new ArrayList<>(filter.filter(remoteCandidates));
        for (Candidate c : remoteCandidates) {
            String why = filter.rejection(c.endpoint());
            if (why != null) {
                dropped.add(c.endpoint() + " (" + why + ")");
            }
        }
        if (!dropped.isEmpty()) {
            LOG.log(System.Logger.Level.DEBUG, () -> "peer candidates not probed: " + dropped);
        }
    }

    /** @return completes with the selected path, or fails with {@link NoPathException} */
    public CompletableFuture<Selected> result() {
        return result;
    }

    /**
     * Completes with the first pair validated by an authentic ACK from the probed address, before
     * the initiator's nomination (and at the latest with {@link #result()}): the pair carries
     * packets both ways. A path race uses it on a relayed check to start the handshake a nomination
     * round trip earlier: the handshake itself then tells the responder which path to use.
     *
     * @return completes with the first validated pair; never fails
     */
    public CompletableFuture<Selected> validated() {
        return validated;
    }

    /** @return true once an authentic probe (not an opener) or ACK from the peer has arrived; loop thread */
    public boolean heardFromPeer() {
        return heard;
    }

    /** @return the candidates this check probes (filtered, plus peer-reflexive ones), highest priority first */
    public List<Candidate> candidates() {
        return List.copyOf(remotes);
    }

    /**
     * Starts after the synchronised delay. Loop thread.
     *
     * @param startIn delay until the common start instant
     */
    public void start(Duration startIn) {
        started = true;
        long start = Math.max(0, startIn.toNanos());
        if (start > 0) {
            // Private (LAN) candidates need no synchronisation: no NAT sits between them, so probe
            // them now; only the punch through NATs waits for the common start instant. Openers
            // never reach the peer's NAT, so they go out now too: our NAT then has its mapping
            // towards the peer even if this device reaches the common instant late (a loaded
            // machine), which is when the peer's first full-TTL probe would otherwise clash.
            sendOpeners();
            probeRound(true, false);
            timers.add(loop.schedule(() -> {
                if (!result.isDone() && nominated == null) {
                    probeRound(true, false);
                }
            }, start / 2));
        }
        long attemptNanos = options.attemptDuration().toNanos();
        for (int a = 0; a < options.attempts(); a++) {
            long at = start + a * attemptNanos;
            timers.add(loop.schedule(this::attempt, at));
        }
        timers.add(loop.schedule(this::giveUp, start + options.attempts() * attemptNanos));
    }

    /**
     * Starts a re-punch (docs/protocol-punching.md, "Re-punch"): sends the openers and probes LAN
     * candidates now, but sends no full-TTL packet to a public candidate before {@link #peerOpened()}
     * (the peer's word, over the link's relayed path, that its openers are out) or an authentic
     * probe from the peer arrived. So neither NAT ever sees a full-TTL packet before its own
     * side's openers, however late either device runs. Without either within {@code gate}, the
     * check fails. Loop thread.
     *
     * @param gate how long to wait for the peer's openers
     */
    public void startAfterPeerOpened(Duration gate) {
        gated = true;
        sendOpeners();
        probeRound(true, false);
        gateTimer = loop.schedule(this::giveUp, Math.max(0, gate.toNanos()));
        timers.add(gateTimer);
    }

    /** The peer's openers are out: the gated re-punch runs its attempts from now. Loop thread. */
    public void peerOpened() {
        if (!gated || result.isDone()) {
            return;
        }
        gated = false;
        gateTimer.cancel();
        timers.remove(gateTimer);
        start(Duration.ZERO);
    }

    /** @return true once the check was started to send full-TTL probes (a gated re-punch only once released) */
    public boolean probedPublic() {
        return started;
    }

    /** @return true while a re-punch waits for the peer's openers */
    public boolean waitingForPeer() {
        return gated && !result.isDone();
    }

    /**
     * Sends a PROBE carrying only {@code flags}, MACed like any probe, not tracked as a check
     * (the re-punch's "openers sent" signal). Charged to the device's budget only. Loop thread.
     *
     * @param to the peer's address on this check's socket
     * @param flags PROBE flags
     */
    public void signal(Endpoint to, int flags) {
        if (!allowed(to, true)) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, remoteCid, RANDOM.nextLong(), flags, localCid, keys.outbound());
        b.flip();
        socket.send(to, b);
    }

    /**
     * @param probe a decoded PROBE or PROBE_ACK
     * @return true if it was MACed by the peer with this check's keys; loop thread
     */
    public boolean authentic(SetupPacket.Probe probe) {
        return probe.verify(keys.inbound());
    }

    private boolean sendOpeners() {
        boolean opened = false;
        if (options.openerCount() > 0) {
            for (Candidate c : List.copyOf(remotes)) {
                if (c.type() != CandidateType.HOST && openersPossible()) {
                    for (int i = 0; i < options.openerCount(); i++) {
                        sendProbe(c, SetupPacket.FLAG_OPENER, openerTtl);
                    }
                    opened = true;
                }
            }
        }
        return opened;
    }

    private void attempt() {
        if (result.isDone()) {
            return;
        }
        boolean opened = sendOpeners();
        // LAN candidates need no opener: probe them at once; public ones after the lead.
        probeRound(true, false);
        long lead = opened ? options.openerLead().toNanos() : 0;
        scheduleProbes(lead, options.firstProbeInterval().toNanos(), options.attemptDuration().toNanos() - lead);
    }

    /** Records, once, why openers cannot be sent. */
    private boolean openersPossible() {
        if (openerProblem == null && !socket.transport().capabilities().ttlControl()) {
            openerProblem = "the transport " + socket.transport() + " declares no TTL control";
        }
        return openerProblem == null;
    }

    private void scheduleProbes(long delay, long interval, long remaining) {
        if (remaining <= 0) {
            return;
        }
        timers.add(loop.schedule(() -> {
            if (!result.isDone() && nominated == null) {
                probeRound(true, true);
                long next = Math.min(interval * 2, MAX_PROBE_INTERVAL_NANOS);
                scheduleProbes(interval, next, remaining - delay);
            }
        }, delay));
    }

    private void probeRound(boolean hosts, boolean publics) {
        for (Candidate c : List.copyOf(remotes)) {
            boolean isHost = c.type() == CandidateType.HOST;
            if ((isHost && hosts) || (!isHost && publics)) {
                sendProbe(c, 0, 0);
            }
        }
    }

    /**
     * Charges one datagram to {@code to}: a probe or opener to this check's per-address limit and
     * the device budget, an ACK to the device budget only.
     */
    private boolean allowed(Endpoint to, boolean ack) {
        InetAddress address = to.toSocketAddress().getAddress();
        int sent = sentPerAddress.getOrDefault(address, 0);
        if ((!ack && sent >= MAX_DATAGRAMS_PER_ADDRESS) || !budget.tryAcquire(address)) {
            refusedByBudget++;
            return false;
        }
        if (!ack) {
            sentPerAddress.put(address, sent + 1);
        }
        return true;
    }

    private void sendProbe(Candidate c, int flags, int ttl) {
        if (!allowed(c.endpoint(), false)) {
            return;
        }
        long txid = RANDOM.nextLong();
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, remoteCid, txid, flags, localCid, keys.outbound());
        b.flip();
        if (ttl > 0) {
            sendOpener(c.endpoint(), b, ttl);
            return;
        }
        outstanding.put(txid, c);
        probesSent++;
        socket.send(c.endpoint(), b);
    }

    private void sendOpener(Endpoint to, ByteBuffer datagram, int ttl) {
        Transport transport = socket.transport();
        try {
            transport.send(to, datagram, ttl);
            openersSent++;
        } catch (UnsupportedOperationException e) {
            // The transport declared TTL control but this socket has none (its descriptor could
            // not be found): say so in the failure instead of sending full-TTL "openers".
            openerProblem = e.getMessage();
        }
    }

    /**
     * A PROBE or PROBE_ACK addressed to our connection ID. Loop thread. Also called after the
     * check finished (while the device keeps it), so that a peer still checking gets its answer.
     *
     * @param source where it came from
     * @param probe the decoded packet
     */
    public void onProbe(Endpoint source, SetupPacket.Probe probe) {
        if (!probe.verify(keys.inbound())) {
            unauthentic++;
            LOG.log(System.Logger.Level.DEBUG, () -> "dropped a probe with a wrong MAC from " + source);
            return;
        }
        if (gated && !result.isDone() && (probe.flags() & SetupPacket.FLAG_OPENER) == 0) {
            // The peer probes us at full TTL, so it knows our openers are out, and it sent its own
            // before any probe: its NAT is open towards us too.
            peerOpened();
        }
        if ((probe.flags() & SetupPacket.FLAG_OPENER) == 0) {
            heard = true;
        }
        if (probe.type() == SetupPacket.PROBE) {
            onRequest(source, probe);
        } else {
            onAck(source, probe);
        }
    }

    private void onRequest(Endpoint source, SetupPacket.Probe probe) {
        if (filter.rejection(source) != null) {
            return; // an authentic probe replayed from a source we must never send to
        }
        Candidate known = find(source);
        if (known == null && !result.isDone() && peerReflexive < MAX_PEER_REFLEXIVE) {
            LOG.log(System.Logger.Level.DEBUG, () -> "probe from unknown source " + source + ": peer-reflexive candidate");
            // ICE 7.3.1.3: a peer-reflexive candidate; probe it right away (triggered check).
            known = Candidate.of(source, CandidateType.PEER_REFLEXIVE, 65535);
            peerReflexive++;
            remotes.add(known);
            remotes.sort(Comparator.comparingLong(Candidate::priority).reversed());
        }
        if (known == null) {
            return;
        }
        int ackFlags = probe.flags();
        boolean finishNow = false;
        if (!initiator && probe.nominate()) {
            if (!result.isDone()) {
                nominationFrom = source;
                // Adopt the nominated address only once our own probe to it was answered: a
                // replayed NOMINATE from a spoofed source must not point the link at a victim.
                finishNow = succeeded.contains(source);
            }
            if (!finishNow && (selected == null || !selected.remote().equals(source))) {
                ackFlags &= ~SetupPacket.FLAG_NOMINATE; // "not yet": the initiator repeats it
            }
        }
        sendAck(source, probe, ackFlags);
        if (finishNow) {
            finish(new Selected(source, known.type()));
            return;
        }
        // Trigger one check back per source (ICE 7.3.1.4), not one per probe: answering every
        // probe with a probe would make the two sides ping-pong until nomination. A nominated
        // but unvalidated source gets one with every nomination, so it validates promptly.
        if (!result.isDone() && nominated == null && (triggered.add(source) || source.equals(nominationFrom))) {
            sendProbe(known, 0, 0);
        }
    }

    private void sendAck(Endpoint to, SetupPacket.Probe probe, int flags) {
        if (!allowed(to, true)) {
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbeAck(b, probe.sourceCid(), probe.txid(), flags, to.toSocketAddress(), keys.outbound());
        b.flip();
        acksSent++;
        socket.send(to, b);
    }

    private void onAck(Endpoint source, SetupPacket.Probe ack) {
        Candidate c = outstanding.get(ack.txid());
        if (c == null) {
            return;
        }
        if (!c.endpoint().equals(source)) {
            // The answer must come from the address probed: an ACK from elsewhere proves nothing
            // about the pair (ICE's symmetric-address check). The probe stays outstanding.
            LOG.log(System.Logger.Level.DEBUG, () -> "ignored an ACK for " + c.endpoint() + " that came from " + source);
            return;
        }
        outstanding.remove(ack.txid());
        if (result.isDone()) {
            return;
        }
        boolean fresh = succeeded.add(source);
        validated.complete(new Selected(source, c.type()));
        if (!initiator) {
            if (source.equals(nominationFrom)) {
                finish(new Selected(source, c.type()));
            }
            return;
        }
        if (nominated != null) {
            if ((ack.flags() & SetupPacket.FLAG_NOMINATE) != 0 && nominated.remote().equals(source)) {
                finish(nominated);
            }
            return;
        }
        if (!fresh) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "check succeeded: " + c.type() + " " + source + " (we are seen as " + ack.observed() + ")");
        Candidate best = remotes.get(0);
        if (c.type() == CandidateType.HOST || c == best) {
            nominate();
        } else if (graceTimer == null) {
            graceTimer = loop.schedule(this::nominate, options.nominationGrace().toNanos());
            timers.add(graceTimer);
        }
    }

    private void nominate() {
        if (nominated != null || result.isDone()) {
            return;
        }
        for (Candidate c : remotes) {
            if (succeeded.contains(c.endpoint())) {
                nominated = new Selected(c.endpoint(), c.type());
                sendNomination(c, options.firstProbeInterval().toNanos());
                return;
            }
        }
    }

    private void sendNomination(Candidate target, long interval) {
        if (result.isDone()) {
            return;
        }
        sendProbe(target, SetupPacket.FLAG_NOMINATE, 0);
        timers.add(loop.schedule(() -> sendNomination(target, Math.min(interval * 2, MAX_PROBE_INTERVAL_NANOS)), interval));
    }

    private Candidate find(Endpoint e) {
        for (Candidate c : remotes) {
            if (c.endpoint().equals(e)) {
                return c;
            }
        }
        return null;
    }

    private void finish(Selected chosen) {
        LOG.log(System.Logger.Level.DEBUG, () -> "selected " + chosen + " after " + probesSent + " probes, " + openersSent + " openers");
        selected = chosen;
        cancelTimers();
        validated.complete(chosen);
        result.complete(chosen);
    }

    private void giveUp() {
        if (result.isDone()) {
            return;
        }
        cancelTimers();
        StringBuilder why = new StringBuilder("no candidate pair answered after ").append(options.attempts())
                .append(" attempts (").append(probesSent).append(" probes, ").append(openersSent).append(" openers to ")
                .append(remotes.size()).append(" candidates");
        if (refusedByBudget > 0) {
            why.append(", ").append(refusedByBudget).append(" datagrams refused by the probe budget");
        }
        if (unauthentic > 0) {
            why.append(", ").append(unauthentic).append(" probes with a wrong MAC dropped");
        }
        why.append(')');
        if (gated) {
            why.append("; the peer never confirmed its openers");
        }
        if (!dropped.isEmpty()) {
            why.append("; peer candidates not probed: ").append(dropped);
        }
        if (openerProblem != null && remotes.stream().anyMatch(c -> c.type() != CandidateType.HOST)) {
            why.append("; low-TTL openers could not be sent (").append(openerProblem)
                    .append("), so NATs that drop an unsolicited first packet (most Linux-based routers) could not be punched");
        }
        result.completeExceptionally(new NoPathException(why.toString()));
    }

    /** Stops sending (the device is closing): cancels every scheduled probe, opener and give-up. Loop thread. */
    public void stop() {
        cancelTimers();
    }

    /**
     * Ends the check for good without waiting for its schedule: cancels every scheduled probe,
     * opener and give-up, and fails {@link #result()} with a {@link NoPathException} giving
     * {@code reason} (a check superseded by one towards fresh candidates). Nothing if the result is
     * already complete. Loop thread.
     *
     * @param reason why the check was abandoned
     */
    public void abandon(String reason) {
        cancelTimers();
        if (!result.isDone()) {
            result.completeExceptionally(new NoPathException(reason));
        }
    }

    private void cancelTimers() {
        for (EventLoop.Timer t : timers) {
            t.cancel();
        }
        timers.clear();
    }
}
