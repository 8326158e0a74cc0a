package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
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
 *     with a growing interval; a probe from an unknown source adds a peer-reflexive candidate and
 *     triggers a probe back;</li>
 * <li>the initiator nominates the best pair that answered (waiting a short grace for a better
 *     one), the responder adopts the nominated source address.</li>
 * </ol>
 * Confined to the event loop.
 */
public final class ConnectivityCheck {

    /** The selected path. */
    public record Selected(Endpoint remote, CandidateType type) {
    }

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final System.Logger LOG = System.getLogger(ConnectivityCheck.class.getName());
    private static final long MAX_PROBE_INTERVAL_NANOS = 200_000_000L;

    private final EventLoop loop;
    private final LinkSocket socket;
    private final long localCid;
    private final long remoteCid;
    private final byte[] token;
    private final boolean initiator;
    private final PunchOptions options;
    private final int openerTtl;
    private final List<Candidate> remotes = new ArrayList<>();
    private final Map<Long, Candidate> outstanding = new HashMap<>();
    private final Set<Endpoint> succeeded = new LinkedHashSet<>();
    private final Set<Endpoint> triggered = new java.util.HashSet<>();
    private final CompletableFuture<Selected> result = new CompletableFuture<>();
    private final List<EventLoop.Timer> timers = new ArrayList<>();
    private Selected nominated;
    private EventLoop.Timer graceTimer;
    private int probesSent;
    private int openersSent;

    /**
     * @param loop the event loop everything runs on
     * @param socket the device's socket
     * @param localCid this side's connection ID (probes to us carry it)
     * @param remoteCid the peer's connection ID
     * @param token 16-byte digest of the one-time session token
     * @param initiator true on the side that nominates
     * @param remoteCandidates the peer's candidates
     * @param options timing
     * @param openerTtl TTL for openers
     */
    public ConnectivityCheck(EventLoop loop, LinkSocket socket, long localCid, long remoteCid, byte[] token,
                             boolean initiator, List<Candidate> remoteCandidates, PunchOptions options, int openerTtl) {
        this.loop = loop;
        this.socket = socket;
        this.localCid = localCid;
        this.remoteCid = remoteCid;
        this.token = token.clone();
        this.initiator = initiator;
        this.options = options;
        this.openerTtl = openerTtl;
        for (Candidate c : remoteCandidates) {
            if (socket.transport().supports(c.endpoint())) {
                remotes.add(c);
            }
        }
        remotes.sort(Comparator.comparingLong(Candidate::priority).reversed());
    }

    /** @return completes with the selected path, or fails with {@link NoPathException} */
    public CompletableFuture<Selected> result() {
        return result;
    }

    /**
     * Starts after the synchronised delay. Loop thread.
     *
     * @param startIn delay until the common start instant
     */
    public void start(Duration startIn) {
        long start = Math.max(0, startIn.toNanos());
        if (start > 0) {
            // Private (LAN) candidates need no synchronisation: no NAT sits between them, so probe
            // them now; only the punch through NATs waits for the common start instant.
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

    private void attempt() {
        if (result.isDone()) {
            return;
        }
        boolean opened = false;
        if (options.openerCount() > 0 && socket.transport().capabilities().ttlControl()) {
            for (Candidate c : remotes) {
                if (c.type() != CandidateType.HOST) {
                    for (int i = 0; i < options.openerCount(); i++) {
                        sendProbe(c, SetupPacket.FLAG_OPENER, openerTtl);
                        openersSent++;
                    }
                    opened = true;
                }
            }
        }
        // LAN candidates need no opener: probe them at once; public ones after the lead.
        probeRound(true, false);
        long lead = opened ? options.openerLead().toNanos() : 0;
        scheduleProbes(lead, options.firstProbeInterval().toNanos(), options.attemptDuration().toNanos() - lead);
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

    private void sendProbe(Candidate c, int flags, int ttl) {
        long txid = RANDOM.nextLong();
        if ((flags & SetupPacket.FLAG_OPENER) == 0) {
            outstanding.put(txid, c);
            probesSent++;
        }
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, remoteCid, txid, token, flags, localCid);
        b.flip();
        if (ttl > 0) {
            socket.sendWithTtl(c.endpoint(), b, ttl);
        } else {
            socket.send(c.endpoint(), b);
        }
    }

    /**
     * A PROBE or PROBE_ACK addressed to our connection ID. Loop thread.
     *
     * @param source where it came from
     * @param probe the decoded packet
     */
    public void onProbe(Endpoint source, SetupPacket.Probe probe) {
        if (!java.security.MessageDigest.isEqual(probe.token(), token)) {
            return;
        }
        if (probe.type() == SetupPacket.PROBE) {
            onRequest(source, probe);
        } else {
            onAck(source, probe);
        }
    }

    private void onRequest(Endpoint source, SetupPacket.Probe probe) {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbeAck(b, probe.sourceCid(), probe.txid(), token, probe.flags(), source.toSocketAddress());
        b.flip();
        socket.send(source, b);
        Candidate known = find(source);
        if (known == null) {
            LOG.log(System.Logger.Level.DEBUG, () -> "probe from unknown source " + source + ": peer-reflexive candidate");
            // ICE 7.3.1.3: a peer-reflexive candidate; probe it right away (triggered check).
            known = Candidate.of(source, CandidateType.PEER_REFLEXIVE, 65535);
            remotes.add(known);
            remotes.sort(Comparator.comparingLong(Candidate::priority).reversed());
        }
        // Trigger one check back per source (ICE 7.3.1.4), not one per probe: answering every
        // probe with a probe would make the two sides ping-pong until nomination.
        if (!result.isDone() && nominated == null && triggered.add(source)) {
            sendProbe(known, 0, 0);
        }
        if (!initiator && probe.nominate() && !result.isDone()) {
            nominated = new Selected(source, known.type());
            finish(nominated);
        }
    }

    private void onAck(Endpoint source, SetupPacket.Probe ack) {
        Candidate c = outstanding.remove(ack.txid());
        if (c == null || result.isDone()) {
            return;
        }
        if (!initiator) {
            succeeded.add(source);
            return;
        }
        if (nominated != null) {
            if ((ack.flags() & SetupPacket.FLAG_NOMINATE) != 0 && nominated.remote().equals(source)) {
                finish(nominated);
            }
            return;
        }
        if (!succeeded.add(source)) {
            return;
        }
        LOG.log(System.Logger.Level.DEBUG, () -> "check succeeded: " + c.type() + " " + source + " (we are seen as " + ack.observed() + ")");
        Candidate best = remotes.isEmpty() ? c : remotes.get(0);
        if (c.type() == CandidateType.HOST || c == best) {
            nominate();
        } else if (graceTimer == null) {
            graceTimer = loop.schedule(this::nominate, options.nominationGrace().toNanos());
            timers.add(graceTimer);
        }
    }

    private void nominate() {
        if (nominated != null || result.isDone() || succeeded.isEmpty()) {
            return;
        }
        Candidate choice = null;
        for (Candidate c : remotes) {
            if (succeeded.contains(c.endpoint())) {
                choice = c;
                break;
            }
        }
        if (choice == null) {
            Endpoint e = succeeded.iterator().next();
            choice = Candidate.of(e, CandidateType.PEER_REFLEXIVE, 65535);
        }
        nominated = new Selected(choice.endpoint(), choice.type());
        Candidate target = choice;
        sendNomination(target, options.firstProbeInterval().toNanos());
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

    private void finish(Selected selected) {
        LOG.log(System.Logger.Level.DEBUG, () -> "selected " + selected + " after " + probesSent + " probes, " + openersSent + " openers");
        cancelTimers();
        result.complete(selected);
    }

    private void giveUp() {
        if (!result.isDone()) {
            cancelTimers();
            result.completeExceptionally(new NoPathException("no candidate pair answered after " + options.attempts()
                    + " attempts (" + probesSent + " probes, " + openersSent + " openers to " + remotes.size() + " candidates)"));
        }
    }

    private void cancelTimers() {
        for (EventLoop.Timer t : timers) {
            t.cancel();
        }
        timers.clear();
    }
}
