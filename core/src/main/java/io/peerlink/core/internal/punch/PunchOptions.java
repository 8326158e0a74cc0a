package io.peerlink.core.internal.punch;

import java.time.Duration;

/**
 * Timing of connectivity checks (docs/protocol-punching.md). Defaults are justified by the NAT
 * lab: openers with a TTL that passes the device's own NAT(s) but dies before the peer's, sent
 * {@code openerLead} before the first full-TTL probe so that the peer's probes find a mapping
 * instead of creating a clashing conntrack entry.
 *
 * @param attempts punch attempts (each re-sends openers, then probes)
 * @param attemptDuration how long one attempt sends probes
 * @param openerCount openers per reflexive candidate per attempt
 * @param openerTtl IP TTL of openers; 0 = probe-derived (see {@link #effectiveOpenerTtl(int)})
 * @param openerLead delay between openers and the first full-TTL probe to reflexive candidates
 * @param firstProbeInterval first retransmission interval of probes; doubles up to 200 ms
 * @param nominationGrace how long the initiator waits for a better pair after a worse one succeeded
 * @param loopbackCandidates whether a peer's loopback candidates may be probed although this
 *        device's socket is not bound to loopback (tests only: see {@link CandidateFilter})
 */
public record PunchOptions(int attempts, Duration attemptDuration, int openerCount, int openerTtl,
                           Duration openerLead, Duration firstProbeInterval, Duration nominationGrace,
                           boolean loopbackCandidates) {

    /** Largest TTL the probe-derived opener TTL may take. */
    public static final int MAX_AUTO_TTL = 3;

    /** @return the defaults: 3 attempts of 1 s, 3 openers, auto TTL, 40 ms lead */
    public static PunchOptions defaults() {
        return new PunchOptions(3, Duration.ofMillis(1000), 3, 0, Duration.ofMillis(40),
                Duration.ofMillis(20), Duration.ofMillis(30), false);
    }

    /**
     * @param ttl the opener TTL, 0 = auto
     * @return these options with that opener TTL
     * @throws IllegalArgumentException if ttl is out of range
     */
    public PunchOptions withOpenerTtl(int ttl) {
        return new PunchOptions(attempts, attemptDuration, openerCount, ttl, openerLead, firstProbeInterval,
                nominationGrace, loopbackCandidates);
    }

    /**
     * @param allow whether loopback candidates may be probed from a socket not bound to loopback
     * @return these options with that choice
     */
    public PunchOptions withLoopbackCandidates(boolean allow) {
        return new PunchOptions(attempts, attemptDuration, openerCount, openerTtl, openerLead, firstProbeInterval,
                nominationGrace, allow);
    }

    /** @throws IllegalArgumentException naming the first value out of range */
    public PunchOptions {
        if (attempts < 1 || attempts > 10) {
            throw new IllegalArgumentException("attempts must be 1..10: " + attempts);
        }
        if (openerTtl < 0 || openerTtl > 255) {
            throw new IllegalArgumentException("openerTtl must be 0 (auto) or 1..255: " + openerTtl);
        }
        if (openerCount < 0 || openerCount > 10) {
            throw new IllegalArgumentException("openerCount must be 0..10: " + openerCount);
        }
    }

    /**
     * @param hopsToServer the smallest TTL at which a STUN request reached the rendezvous server,
     *        or 0 if unknown
     * @return the TTL openers are sent with
     */
    public int effectiveOpenerTtl(int hopsToServer) {
        if (openerTtl > 0) {
            return openerTtl;
        }
        if (hopsToServer <= 0) {
            return 2;
        }
        return Math.max(2, Math.min(hopsToServer, MAX_AUTO_TTL));
    }

    /** @return total time the checks may take after the synchronised start */
    public Duration totalDuration() {
        return attemptDuration.multipliedBy(attempts);
    }
}
