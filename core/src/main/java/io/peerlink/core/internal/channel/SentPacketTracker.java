package io.peerlink.core.internal.channel;

import java.util.random.RandomGenerator;

/**
 * Loss recovery for one packet-number space (RFC 9002 section 6): it owns the sent packets
 * ({@link SentPacketRing}), validates and applies ACK frames, detects losses (packet threshold 3,
 * time threshold 9/8 RTT), runs the probe timeout with exponential backoff (capped at
 * {@link #MAX_PROBE_TIMEOUT_NANOS}), and routes what it learns to the pieces that decide: the
 * {@link RttEstimator}, the path's {@link CongestionController} and the {@link Pacer}. Loop-confined, allocation-free in steady
 * state, and usable without sockets (JMH drives it directly).
 *
 * <p>Acknowledging a packet is O(1); loss detection scans only from {@code base} to the largest
 * acknowledged, and {@code base} moves forward as packets retire, so the scan is amortised over
 * the packets it retires rather than repeated over the whole window.
 *
 * <p><b>Optimistic ACKs.</b> An ACK of a packet number never sent is a protocol violation
 * ({@link FrameFormatException}), and the whole frame is validated before any of it is applied,
 * so such an ACK cannot grow the congestion window. To catch a peer that acknowledges packets
 * it has not received yet (RFC 9000 21.4), a tracker built with a random source now and then
 * skips a packet number (every {@link #SKIP_MIN}..{@code 2 x SKIP_MIN} packets): an ACK covering
 * one of the last {@link #SKIPPED_REMEMBERED} skipped numbers is the same violation.
 */
public final class SentPacketTracker {

    /** Receives the content of packets as they are acknowledged or declared lost. */
    public interface Listener {
        /** @param packet newly acknowledged; valid only during the call */
        void onAcked(SentPacket packet);

        /** @param packet declared lost; valid only during the call */
        void onLost(SentPacket packet);

        /**
         * A packet declared lost was acknowledged after all: the loss was spurious (reordering,
         * or an ACK that came late). Its content arrived; whatever was re-sent of it was wasted.
         *
         * @param packet the packet; valid only during the call
         */
        default void onAckedAfterLoss(SentPacket packet) {
        }
    }

    /** RFC 9002 kPacketThreshold. */
    public static final int PACKET_THRESHOLD = 3;
    /** RFC 9002 kGranularity, 1 ms. */
    public static final long GRANULARITY_NANOS = RttEstimator.GRANULARITY_NANOS;
    /** Smallest distance between two skipped packet numbers. */
    public static final int SKIP_MIN = 1024;
    /** Skipped packet numbers remembered for checking ACKs. */
    public static final int SKIPPED_REMEMBERED = 16;
    /** Packets declared lost whose late acknowledgement is still recognised. */
    private static final int LOST_REMEMBERED = 64;
    /**
     * The longest probe timeout however often it expired in a row: 60 s, the smallest maximum RFC
     * 6298 (2.5) allows for TCP's retransmission timeout, which RFC 8961 (4.4) allows for backoff in
     * general and quic-go uses for the PTO. Without it the backoff reached 2^16 x PTO (hours), and a
     * path that came back after a long outage waited that long for the next probe.
     */
    public static final long MAX_PROBE_TIMEOUT_NANOS = 60_000_000_000L;

    private final SentPacketRing ring = new SentPacketRing();
    private final RttEstimator rtt;
    private final Pacer pacer = new Pacer();
    private CongestionController.Factory controllerFactory;
    private CongestionController cc;
    private int maxDatagramSize;

    private long largestAcked = -1;
    private long lossTime = Long.MAX_VALUE;
    private long lastAckElicitingSent;
    private boolean lastAckElicitingImmediate;
    private int ackElicitingInFlight;
    private int ptoCount;
    private long maxProbeTimeout = MAX_PROBE_TIMEOUT_NANOS;
    private long bytesInFlight;
    /**
     * The first packet number sent on the current path: packets before it were sent on an earlier
     * path; they give no RTT samples and no loss signal to the current path's controller, and are
     * declared lost only by that earlier path's measures.
     */
    private long pathStart;
    /** The loss delay of the path before the current one (its packets may still be on their way there). */
    private long previousLossDelay;
    /** The largest acknowledged packet number below {@link #pathStart}, -1 if none. */
    private long largestAckedPrevious = -1;
    private long packetsLost;
    private long spuriousLosses;

    private final RandomGenerator skipRandom;
    private long nextSkip = Long.MAX_VALUE;
    private final long[] skipped = new long[SKIPPED_REMEMBERED];
    private int skippedCount;
    private final long[] recentlyLost = new long[LOST_REMEMBERED];
    private int recentlyLostCount;
    private int recentlyLostNext;

    /**
     * A tracker with NewReno and no packet-number skipping (benchmarks, unit tests).
     *
     * @param maxDatagramSize current datagram size, for the congestion window's units
     * @param initialRttNanos RTT assumed before the first sample
     * @param maxAckDelayNanos the peer's maximum ACK delay
     * @param maxCongestionWindow upper bound of the window (keeps an app-limited sender from
     *        growing it without limit)
     */
    public SentPacketTracker(int maxDatagramSize, long initialRttNanos, long maxAckDelayNanos, long maxCongestionWindow) {
        this(maxDatagramSize, new RttEstimator(initialRttNanos, maxAckDelayNanos),
                NewRenoController.factory(maxCongestionWindow), null);
    }

    /**
     * @param maxDatagramSize current datagram size
     * @param rtt the RTT estimator (this tracker feeds it)
     * @param controllerFactory the first path's congestion controller
     * @param skipRandom source for skipped packet numbers; null never skips
     */
    public SentPacketTracker(int maxDatagramSize, RttEstimator rtt, CongestionController.Factory controllerFactory,
                             RandomGenerator skipRandom) {
        this.rtt = rtt;
        this.skipRandom = skipRandom;
        if (skipRandom != null) {
            nextSkip = SKIP_MIN + skipRandom.nextInt(SKIP_MIN);
        }
        resetPath(maxDatagramSize, controllerFactory);
    }

    /**
     * Resets RTT and congestion state for a new path (RFC 9000 9.4), keeping the controller kind.
     * Packets in flight stay tracked and in the bytes in flight (the new path sends once they are
     * acknowledged or lost: a move does not double what is in flight); their acknowledgements
     * still open the window, but give no RTT sample, and their losses are no congestion signal for
     * the new path.
     *
     * @param datagramSize the new path's datagram size
     */
    public void resetPath(int datagramSize) {
        resetPath(datagramSize, controllerFactory);
    }

    /**
     * Resets RTT and congestion state for a new path with its own kind of congestion controller.
     *
     * @param datagramSize the new path's datagram size
     * @param factory makes the new path's controller
     */
    public void resetPath(int datagramSize, CongestionController.Factory factory) {
        this.maxDatagramSize = datagramSize;
        this.controllerFactory = factory;
        previousLossDelay = rtt.lossDelay();
        largestAckedPrevious = -1;
        rtt.reset();
        cc = factory.create(datagramSize, rtt);
        pacer.reset(cc.window());
        ptoCount = 0;
        pathStart = ring.next();
    }

    /**
     * Declares every packet still pending whose number is below {@code limit} lost at once, without
     * a congestion signal: the path they went on is gone (it stopped answering, or this device's
     * address changed under it), so waiting for loss detection would only delay their
     * retransmission. Packets that arrive after all are recognised by their late acknowledgement
     * ({@link Listener#onAckedAfterLoss}); the receiver drops the duplicates.
     *
     * @param limit packet numbers below this one; {@link #pathStart()} for the packets of earlier
     *        paths, {@link #nextPacketNumber()} for every packet in flight
     * @param listener receives the lost packets
     * @return how many were declared lost
     */
    public int declareLostBefore(long limit, Listener listener) {
        int n = 0;
        long end = Math.min(limit, ring.next());
        for (long pn = ring.base(); pn < end; pn++) {
            SentPacket p = ring.slot(pn);
            if (p.state != SentPacket.PENDING || p.packetNumber != pn) {
                continue;
            }
            p.state = SentPacket.LOST;
            packetsLost++;
            n++;
            if (p.inFlight) {
                ackElicitingInFlight--;
                bytesInFlight -= p.size;
            }
            if (p.itemCount > 0) {
                rememberLost(pn);
            }
            listener.onLost(p);
        }
        ring.advanceBase();
        return n;
    }

    /** @return the first packet number sent on the current path (see {@link #resetPath}) */
    public long pathStart() {
        return pathStart;
    }

    /**
     * Starts the next packet. Fill it with {@link SentPacket#addItem}/{@link SentPacket#addFlag},
     * then call {@link #commit}; at most one packet may be open at a time.
     *
     * @return the slot of packet number {@link #nextPacketNumber()} (after any skipped number)
     */
    public SentPacket open() {
        if (ring.next() >= nextSkip) {
            skip();
        }
        return ring.open();
    }

    private void skip() {
        SentPacket p = ring.open();
        p.state = SentPacket.SKIPPED;
        ring.commit(p);
        skipped[skippedCount++ % SKIPPED_REMEMBERED] = p.packetNumber;
        nextSkip = p.packetNumber + SKIP_MIN + skipRandom.nextInt(SKIP_MIN);
        ring.advanceBase();
    }

    /**
     * Records the packet opened last as sent.
     *
     * @param p the slot from {@link #open()}
     * @param now loop clock
     * @param size datagram bytes
     * @param ackEliciting true if it contains frames other than ACK, PADDING and CLOSE
     */
    public void commit(SentPacket p, long now, int size, boolean ackEliciting) {
        commit(p, now, size, ackEliciting, false);
    }

    /**
     * Records the packet opened last as sent.
     *
     * @param p the slot from {@link #open()}
     * @param now loop clock
     * @param size datagram bytes
     * @param ackEliciting true if it contains frames other than ACK, PADDING and CLOSE
     * @param immediateAck true if it asks for an acknowledgement without delay (IMMEDIATE_ACK):
     *        the probe timeout then does not wait for the peer's maximum ACK delay
     */
    public void commit(SentPacket p, long now, int size, boolean ackEliciting, boolean immediateAck) {
        p.timeSent = now;
        p.size = size;
        p.ackEliciting = ackEliciting;
        p.inFlight = ackEliciting;
        p.state = SentPacket.PENDING;
        ring.commit(p);
        if (ackEliciting) {
            bytesInFlight += size;
            ackElicitingInFlight++;
            lastAckElicitingSent = now;
            lastAckElicitingImmediate = immediateAck;
            pacer.onSent(now, size, cc.window(), cc.initialWindow(), rtt.smoothed());
        } else {
            // Nobody acknowledges a packet without ack-eliciting frames and it needs no
            // retransmission: retire it at once so that base can move past it.
            p.state = SentPacket.ACKED;
            ring.advanceBase();
        }
    }

    /** @return the packet number the next {@link #open()} returns, unless that one is skipped */
    public long nextPacketNumber() {
        return ring.next();
    }

    /**
     * Processes an ACK frame's ranges.
     *
     * @param f a decoded ACK frame
     * @param now loop clock
     * @param listener receives acknowledged and lost packets
     * @return number of newly acknowledged packets
     * @throws FrameFormatException if it acknowledges a packet number never sent
     */
    public int onAck(Frame f, long now, Listener listener) throws FrameFormatException {
        return onAck(f.ackLow, f.ackHigh, f.ackRangeCount, RttEstimator.ackDelayNanos(f.ackDelay), now, listener);
    }

    /**
     * Processes acknowledged ranges, highest first.
     *
     * @param low lowest packet number per range
     * @param high highest packet number per range
     * @param count number of ranges
     * @param ackDelayNanos the peer's reported ACK delay (any value; clamped to maxAckDelay)
     * @param now loop clock
     * @param listener receives acknowledged and lost packets
     * @return number of newly acknowledged packets
     * @throws FrameFormatException if it acknowledges a packet number never sent; nothing of
     *         the frame is applied then
     */
    public int onAck(long[] low, long[] high, int count, long ackDelayNanos, long now, Listener listener)
            throws FrameFormatException {
        if (count == 0) {
            return 0;
        }
        validate(low, high, count);
        if (recentlyLostCount > 0) {
            lateAcks(low, high, count, listener);
        }
        long base = ring.base();
        int newly = 0;
        boolean largestNewlyAcked = false;
        boolean anyAckEliciting = false;
        long largestTimeSent = 0;
        for (int r = 0; r < count; r++) {
            long lo = Math.max(low[r], base);
            for (long pn = high[r]; pn >= lo; pn--) {
                SentPacket p = ring.slot(pn);
                if (p.state != SentPacket.PENDING || p.packetNumber != pn) {
                    continue;
                }
                if (pn == high[0]) {
                    largestNewlyAcked = true;
                    largestTimeSent = p.timeSent;
                }
                anyAckEliciting |= p.ackEliciting;
                p.state = SentPacket.ACKED;
                newly++;
                if (p.inFlight) {
                    bytesInFlight -= p.size;
                    ackElicitingInFlight--;
                    cc.onAcked(p.timeSent, p.size, now);
                }
                listener.onAcked(p);
            }
        }
        if (newly == 0) {
            return 0;
        }
        if (high[0] > largestAcked) {
            largestAcked = high[0];
        }
        if (largestAckedPrevious < pathStart - 1) {
            for (int r = 0; r < count; r++) {
                if (low[r] < pathStart) {
                    largestAckedPrevious = Math.max(largestAckedPrevious, Math.min(high[r], pathStart - 1));
                    break;
                }
            }
        }
        if (largestNewlyAcked && anyAckEliciting && high[0] >= pathStart) {
            rtt.update(now - largestTimeSent, ackDelayNanos);
            cc.onRttSample(largestAcked, ring.next());
        }
        ptoCount = 0;
        detectLosses(now, listener);
        ring.advanceBase();
        return newly;
    }

    private void validate(long[] low, long[] high, int count) throws FrameFormatException {
        long next = ring.next();
        if (high[0] >= next) {
            throw new FrameFormatException("ACK of packet " + high[0] + " that was never sent (next is " + next + ")");
        }
        int n = Math.min(skippedCount, SKIPPED_REMEMBERED);
        for (int i = 0; i < n; i++) {
            long s = skipped[i];
            for (int r = 0; r < count; r++) {
                if (s >= low[r] && s <= high[r]) {
                    throw new FrameFormatException("ACK of packet " + s + " that was never sent (a skipped packet "
                            + "number: the peer acknowledges packets it did not receive)");
                }
            }
        }
    }

    /** Recognises acknowledgements of packets already declared lost (few: only under loss). */
    private void lateAcks(long[] low, long[] high, int count, Listener listener) {
        for (int i = 0; i < LOST_REMEMBERED; i++) {
            long pn = recentlyLost[i];
            if (pn < 0) {
                continue;
            }
            SentPacket p = ring.slot(pn);
            if (p == null || p.packetNumber != pn || p.state != SentPacket.LOST) {
                recentlyLost[i] = -1;
                recentlyLostCount--;
                continue;
            }
            for (int r = 0; r < count; r++) {
                if (pn >= low[r] && pn <= high[r]) {
                    spuriousLosses++;
                    listener.onAckedAfterLoss(p);
                    p.state = SentPacket.ACKED;
                    recentlyLost[i] = -1;
                    recentlyLostCount--;
                    break;
                }
            }
        }
    }

    private void rememberLost(long pn) {
        if (recentlyLostCount == 0) {
            java.util.Arrays.fill(recentlyLost, -1);
        }
        if (recentlyLost[recentlyLostNext] < 0) {
            recentlyLostCount++;
        }
        recentlyLost[recentlyLostNext] = pn;
        recentlyLostNext = (recentlyLostNext + 1) % LOST_REMEMBERED;
    }

    private void detectLosses(long now, Listener listener) {
        lossTime = Long.MAX_VALUE;
        if (largestAcked < 0) {
            return;
        }
        long delay = rtt.lossDelay();
        long lostSendTime = now - delay;
        long largestLostSent = Long.MIN_VALUE;
        // Persistent congestion (RFC 9002 7.6): a run of consecutive lost packets, none
        // acknowledged in between, spanning more than the persistent-congestion duration.
        long runStart = Long.MIN_VALUE;
        boolean persistent = false;
        long next = ring.next();
        for (long pn = ring.base(); pn < largestAcked && pn < next; pn++) {
            SentPacket p = ring.slot(pn);
            if (p.state == SentPacket.ACKED) {
                runStart = Long.MIN_VALUE;
                continue;
            }
            if (p.state != SentPacket.PENDING) {
                continue;
            }
            // A packet of an earlier path is lost by that path's measures: packets of the new path
            // that are acknowledged first (it is faster, as a direct path after a relay) say
            // nothing about packets still on their way on the old one, and declaring those lost
            // would spend the new path's small initial window on spurious retransmissions.
            boolean earlier = pn < pathStart;
            long threshold = earlier ? now - Math.max(delay, previousLossDelay) : lostSendTime;
            long largest = earlier ? largestAckedPrevious : largestAcked;
            if (p.timeSent <= threshold || largest >= pn + PACKET_THRESHOLD) {
                p.state = SentPacket.LOST;
                packetsLost++;
                if (p.inFlight && pn < pathStart) {
                    bytesInFlight -= p.size;
                    ackElicitingInFlight--;
                } else if (p.inFlight) {
                    bytesInFlight -= p.size;
                    ackElicitingInFlight--;
                    cc.onLost(p.size);
                    largestLostSent = Math.max(largestLostSent, p.timeSent);
                    if (runStart == Long.MIN_VALUE) {
                        runStart = p.timeSent;
                    } else if (rtt.hasSample() && p.timeSent - runStart > persistentCongestionNanos()) {
                        persistent = true;
                    }
                }
                if (p.itemCount > 0) {
                    rememberLost(pn);
                }
                listener.onLost(p);
            } else {
                runStart = Long.MIN_VALUE;
                lossTime = Math.min(lossTime, RttEstimator.saturatedAdd(p.timeSent, now - threshold));
            }
        }
        if (persistent) {
            cc.onPersistentCongestion(now);
        } else if (largestLostSent != Long.MIN_VALUE) {
            cc.onCongestionEvent(largestLostSent, now);
        }
    }

    private long persistentCongestionNanos() {
        return 3 * rtt.pto();
    }

    /** @return the probe timeout without backoff (RFC 9002 6.2.1); always positive */
    public long ptoNanos() {
        return rtt.pto();
    }

    /** @return when {@link #onTimeout} must run, loop clock; Long.MAX_VALUE if nothing is pending */
    public long deadline() {
        if (lossTime != Long.MAX_VALUE) {
            return lossTime;
        }
        if (ackElicitingInFlight == 0) {
            return Long.MAX_VALUE;
        }
        return RttEstimator.saturatedAdd(lastAckElicitingSent, probeTimeoutNanos());
    }

    /**
     * @return the current probe timeout with backoff: the PTO doubled per consecutive expiry, at
     *         most the cap ({@link #capProbeTimeout}), never less than the PTO itself
     */
    public long probeTimeoutNanos() {
        long pto = lastAckElicitingImmediate ? rtt.ptoWithoutAckDelay() : rtt.pto();
        // pto is at most a few hundred seconds (RttEstimator caps samples), so 2^16 x fits.
        return Math.min(pto << Math.min(ptoCount, 16), Math.max(pto, maxProbeTimeout));
    }

    /**
     * Lowers the cap of the backed-off probe timeout below {@link #MAX_PROBE_TIMEOUT_NANOS}. The
     * channel uses a third of its idle timeout, the relation RFC 9000 (10.1) keeps between the idle
     * timeout and the PTO, so that at least about three probes fall within it. A PTO that is itself
     * longer than the cap is not shortened.
     *
     * @param nanos the cap; values above {@link #MAX_PROBE_TIMEOUT_NANOS} give that
     * @throws IllegalArgumentException if not positive
     */
    public void capProbeTimeout(long nanos) {
        if (nanos <= 0) {
            throw new IllegalArgumentException("probe timeout cap must be positive: " + nanos);
        }
        maxProbeTimeout = Math.min(nanos, MAX_PROBE_TIMEOUT_NANOS);
    }

    /**
     * Runs the loss-detection timer.
     *
     * @param now loop clock
     * @param listener receives lost packets
     * @return true if the probe timeout fired: the caller must send one or two ack-eliciting
     *         probes (new data if it has any, else PING; never old data, which a late ACK may
     *         still cover: if it was really lost, the probe's ACK declares it lost by the time
     *         threshold and it is retransmitted then)
     */
    public boolean onTimeout(long now, Listener listener) {
        if (lossTime != Long.MAX_VALUE) {
            if (now >= lossTime) {
                detectLosses(now, listener);
                ring.advanceBase();
            }
            return false;
        }
        if (ackElicitingInFlight > 0 && now >= deadline()) {
            ptoCount++;
            return true;
        }
        return false;
    }

    /**
     * @param bytes size of the next packet
     * @return true if the congestion window has room for it
     */
    public boolean congestionAllows(int bytes) {
        return bytesInFlight + bytes <= cc.window();
    }

    /**
     * @param now loop clock
     * @param bytes size of the next packet
     * @return 0 if pacing lets it go now, otherwise nanoseconds until it may
     */
    public long pacingDelay(long now, int bytes) {
        return pacer.delay(now, bytes, cc.window(), cc.initialWindow(), rtt.smoothed());
    }

    /** @return the congestion controller of the current path */
    public CongestionController congestionController() { return cc; }
    /** @return the RTT estimator */
    public RttEstimator rtt() { return rtt; }
    /** @return bytes in flight */
    public long bytesInFlight() { return bytesInFlight; }
    /** @return congestion window in bytes */
    public long congestionWindow() { return cc.window(); }
    /** @return smoothed RTT, nanoseconds */
    public long smoothedRtt() { return rtt.smoothed(); }
    /** @return RTT variation, nanoseconds */
    public long rttVariation() { return rtt.variation(); }
    /** @return latest RTT sample, nanoseconds (0 before the first) */
    public long latestRtt() { return rtt.latest(); }
    /** @return loss events that did not reduce the window because they looked random */
    public long randomLossEvents() { return cc.toleratedLossEvents(); }
    /** @return estimated share of packets lost, 0..1 */
    public double lossRate() { return cc.lossRate(); }
    /** @return packets declared lost so far */
    public long packetsLost() { return packetsLost; }
    /** @return packets declared lost and acknowledged later (spurious loss detections) */
    public long spuriousLosses() { return spuriousLosses; }
    /** @return ack-eliciting packets in flight */
    public int ackElicitingInFlight() { return ackElicitingInFlight; }
    /** @return lowest packet number still tracked */
    public long base() { return ring.base(); }
    /** @return largest acknowledged packet number, -1 if none */
    public long largestAcked() { return largestAcked; }
    /** @return true while in slow start */
    public boolean inSlowStart() { return cc.inSlowStart(); }
    /** @return consecutive probe timeouts without an acknowledgement */
    public int ptoCount() { return ptoCount; }

    /**
     * Gives a freshly reset RTT estimate its first sample: the round trip a path validation just
     * measured on the new path, so loss detection and the probe timeout start from the path's
     * RTT instead of the initial 333 ms (RFC 9002 section 6.2.2).
     *
     * @param sampleNanos the validation's round trip; ignored unless positive or if the estimate has a sample
     */
    public void seedRtt(long sampleNanos) {
        if (sampleNanos > 0 && !rtt.hasSample()) {
            rtt.update(sampleNanos, 0);
        }
    }

    /** Forgets the probe-timeout backoff (the path under the packets changed; loss says nothing about the new one). */
    public void resetPtoBackoff() {
        ptoCount = 0;
    }
    /** @return the current path's datagram size */
    public int maxDatagramSize() { return maxDatagramSize; }
}
