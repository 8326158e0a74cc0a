package io.peerlink.core.internal.channel;

/**
 * Sent-packet bookkeeping, RTT estimation (RFC 9002 section 5), loss detection (section 6:
 * packet threshold 3, time threshold 9/8 RTT, probe timeout with exponential backoff) and NewReno
 * congestion control (section 7) with a pacing budget. Loop-confined, allocation-free in steady
 * state, and usable without sockets (JMH drives it directly).
 *
 * <p>Packets live in a ring buffer indexed by packet number, between {@code base} (the lowest
 * packet neither acknowledged nor declared lost) and the next packet number. Acknowledging a
 * packet is O(1); loss detection scans only from {@code base} to the largest acknowledged, and
 * {@code base} moves forward as packets retire, so the scan is amortised over the packets it
 * retires rather than repeated over the whole window.
 */
public final class SentPacketTracker {

    /** Receives the content of packets as they are acknowledged or declared lost. */
    public interface Listener {
        /** @param packet newly acknowledged; valid only during the call */
        void onAcked(SentPacket packet);

        /** @param packet declared lost; valid only during the call */
        void onLost(SentPacket packet);
    }

    /** RFC 9002 kPacketThreshold. */
    public static final int PACKET_THRESHOLD = 3;
    /** RFC 9002 kGranularity, 1 ms. */
    public static final long GRANULARITY_NANOS = 1_000_000;
    private static final int INITIAL_RING = 64;

    private final long maxAckDelayNanos;
    private final long initialRttNanos;
    private final long maxCongestionWindow;

    private SentPacket[] ring = new SentPacket[INITIAL_RING];
    private long base;
    private long nextPacketNumber;
    private long largestAcked = -1;
    private long lossTime = Long.MAX_VALUE;
    private long lastAckElicitingSent;
    private boolean lastAckElicitingImmediate;
    private int ackElicitingInFlight;
    private int ptoCount;

    // RTT, RFC 9002 5.3
    private boolean hasRttSample;
    private long latestRtt;
    private long smoothedRtt;
    private long rttVar;
    private long minRtt;

    // NewReno, RFC 9002 7
    private int maxDatagramSize;
    private long congestionWindow;
    private long ssthresh = Long.MAX_VALUE;
    private long bytesInFlight;
    private long recoveryStart = Long.MIN_VALUE;
    private long bytesAckedInAvoidance;

    // pacing: a token bucket refilled at 1.25 * cwnd / srtt
    private long pacingTokens;
    private long pacingUpdated;

    private long packetsLost;

    // Random-loss tolerance (docs/protocol-channel.md section 3, "Congestion control"): an EWMA of
    // the share of resolved ack-eliciting packets that were lost, in 1/65536.
    /** Resolved packets before the loss-rate estimate is trusted. */
    static final int LOSS_ESTIMATE_MIN_PACKETS = 64;
    /** EWMA weight 1/64 per resolved packet: about the last 64..128 packets count. */
    private static final int LOSS_EWMA_SHIFT = 6;
    /** Above this loss share (15 %) every loss is congestion, whatever the delay says. */
    static final long TOLERATED_LOSS_RATE = 65536 * 15 / 100;
    private long lossRate;
    private long resolvedPackets;
    private long randomLossEvents;

    // HyStart++ (RFC 9406), without its conservative slow start phase
    private static final int HYSTART_MIN_SAMPLES = 8;
    private static final long HYSTART_MIN_THRESH = 4_000_000;
    private static final long HYSTART_MAX_THRESH = 16_000_000;
    private long roundEnd;
    private long lastRoundMinRtt = Long.MAX_VALUE;
    private long currentRoundMinRtt = Long.MAX_VALUE;
    private int roundSamples;

    /**
     * @param maxDatagramSize current datagram size, for the congestion window's units
     * @param initialRttNanos RTT assumed before the first sample
     * @param maxAckDelayNanos the peer's maximum ACK delay
     * @param maxCongestionWindow upper bound of the window (keeps an app-limited sender from
     *        growing it without limit)
     */
    public SentPacketTracker(int maxDatagramSize, long initialRttNanos, long maxAckDelayNanos, long maxCongestionWindow) {
        this.initialRttNanos = initialRttNanos;
        this.maxAckDelayNanos = maxAckDelayNanos;
        this.maxCongestionWindow = maxCongestionWindow;
        resetPath(maxDatagramSize);
    }

    /**
     * Resets RTT and congestion state for a new path (RFC 9000 9.4). Packets in flight stay
     * tracked; their acknowledgements still count.
     *
     * @param datagramSize the new path's datagram size
     */
    public void resetPath(int datagramSize) {
        this.maxDatagramSize = datagramSize;
        hasRttSample = false;
        smoothedRtt = initialRttNanos;
        rttVar = initialRttNanos / 2;
        minRtt = 0;
        latestRtt = 0;
        congestionWindow = initialWindow();
        ssthresh = Long.MAX_VALUE;
        lossRate = 0;
        resolvedPackets = 0;
        recoveryStart = Long.MIN_VALUE;
        bytesAckedInAvoidance = 0;
        pacingTokens = congestionWindow;
        ptoCount = 0;
        lastRoundMinRtt = Long.MAX_VALUE;
        currentRoundMinRtt = Long.MAX_VALUE;
        roundSamples = 0;
        roundEnd = nextPacketNumber;
    }

    private long initialWindow() {
        return Math.min(10L * maxDatagramSize, Math.max(14720L, 2L * maxDatagramSize));
    }

    private long minimumWindow() {
        return 2L * maxDatagramSize;
    }

    /**
     * Starts the next packet. Fill it with {@link SentPacket#addItem}/{@link SentPacket#addFlag},
     * then call {@link #commit}; at most one packet may be open at a time.
     *
     * @return the slot of packet number {@link #nextPacketNumber()}
     */
    public SentPacket open() {
        long pn = nextPacketNumber;
        if (pn - base >= ring.length) {
            grow();
        }
        int idx = (int) (pn & (ring.length - 1));
        SentPacket p = ring[idx];
        if (p == null) {
            p = new SentPacket();
            ring[idx] = p;
        }
        p.reset();
        p.packetNumber = pn;
        return p;
    }

    private void grow() {
        SentPacket[] bigger = new SentPacket[ring.length * 2];
        for (long pn = base; pn < nextPacketNumber; pn++) {
            bigger[(int) (pn & (bigger.length - 1))] = ring[(int) (pn & (ring.length - 1))];
        }
        ring = bigger;
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
        nextPacketNumber = p.packetNumber + 1;
        if (ackEliciting) {
            bytesInFlight += size;
            ackElicitingInFlight++;
            lastAckElicitingSent = now;
            lastAckElicitingImmediate = immediateAck;
            refillPacing(now);
            pacingTokens -= size;
        }
        if (!ackEliciting) {
            // Nobody acknowledges a packet without ack-eliciting frames and it needs no
            // retransmission: retire it at once so that base can move past it.
            p.state = SentPacket.ACKED;
            advanceBase();
        }
    }

    /** @return the packet number the next {@link #open()} returns */
    public long nextPacketNumber() {
        return nextPacketNumber;
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
        return onAck(f.ackLow, f.ackHigh, f.ackRangeCount, f.ackDelay * 1000, now, listener);
    }

    /**
     * Processes acknowledged ranges, highest first.
     *
     * @param low lowest packet number per range
     * @param high highest packet number per range
     * @param count number of ranges
     * @param ackDelayNanos the peer's reported ACK delay
     * @param now loop clock
     * @param listener receives acknowledged and lost packets
     * @return number of newly acknowledged packets
     * @throws FrameFormatException if it acknowledges a packet number never sent
     */
    public int onAck(long[] low, long[] high, int count, long ackDelayNanos, long now, Listener listener)
            throws FrameFormatException {
        if (count == 0) {
            return 0;
        }
        if (high[0] >= nextPacketNumber) {
            throw new FrameFormatException("ACK of packet " + high[0] + " that was never sent (next is " + nextPacketNumber + ")");
        }
        int newly = 0;
        boolean largestNewlyAcked = false;
        boolean anyAckEliciting = false;
        long largestTimeSent = 0;
        for (int r = 0; r < count; r++) {
            long lo = Math.max(low[r], base);
            for (long pn = high[r]; pn >= lo; pn--) {
                SentPacket p = ring[(int) (pn & (ring.length - 1))];
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
                onPacketAcked(p);
                listener.onAcked(p);
            }
        }
        if (newly == 0) {
            return 0;
        }
        if (high[0] > largestAcked) {
            largestAcked = high[0];
        }
        if (largestNewlyAcked && anyAckEliciting) {
            updateRtt(now - largestTimeSent, ackDelayNanos);
            hystart();
        }
        ptoCount = 0;
        detectLosses(now, listener);
        advanceBase();
        return newly;
    }

    private void onPacketAcked(SentPacket p) {
        if (!p.inFlight) {
            return;
        }
        bytesInFlight -= p.size;
        ackElicitingInFlight--;
        resolvedPackets++;
        lossRate -= lossRate >> LOSS_EWMA_SHIFT;
        if (p.timeSent <= recoveryStart) {
            return;
        }
        if (congestionWindow < ssthresh) {
            congestionWindow += p.size;
        } else {
            bytesAckedInAvoidance += p.size;
            if (bytesAckedInAvoidance >= congestionWindow) {
                bytesAckedInAvoidance -= congestionWindow;
                congestionWindow += maxDatagramSize;
            }
        }
        if (congestionWindow > maxCongestionWindow) {
            congestionWindow = maxCongestionWindow;
        }
    }

    private void updateRtt(long sample, long ackDelayNanos) {
        latestRtt = Math.max(sample, 1);
        if (!hasRttSample) {
            hasRttSample = true;
            minRtt = latestRtt;
            smoothedRtt = latestRtt;
            rttVar = latestRtt / 2;
            return;
        }
        minRtt = Math.min(minRtt, latestRtt);
        long ackDelay = Math.min(ackDelayNanos, maxAckDelayNanos);
        long adjusted = latestRtt;
        if (latestRtt >= minRtt + ackDelay) {
            adjusted = latestRtt - ackDelay;
        }
        rttVar = (3 * rttVar + Math.abs(smoothedRtt - adjusted)) / 4;
        smoothedRtt = (7 * smoothedRtt + adjusted) / 8;
    }

    /**
     * Leaves slow start when the round trip grows by an eighth (4..16 ms) from one round to the
     * next: queues are filling, and doubling once more would overflow them and lose a whole
     * window. Without this, slow start on a fast path overshoots into a buffer overflow.
     */
    private void hystart() {
        if (largestAcked >= roundEnd) {
            lastRoundMinRtt = currentRoundMinRtt;
            currentRoundMinRtt = Long.MAX_VALUE;
            roundSamples = 0;
            roundEnd = nextPacketNumber;
        }
        // Tracked in congestion avoidance too: randomLoss() asks whether a queue is standing.
        currentRoundMinRtt = Math.min(currentRoundMinRtt, latestRtt);
        roundSamples++;
        if (congestionWindow >= ssthresh) {
            return;
        }
        if (roundSamples >= HYSTART_MIN_SAMPLES && lastRoundMinRtt != Long.MAX_VALUE && currentRoundMinRtt != Long.MAX_VALUE) {
            long thresh = hystartThreshold(lastRoundMinRtt);
            if (currentRoundMinRtt >= lastRoundMinRtt + thresh) {
                ssthresh = congestionWindow;
            }
        }
    }

    private long lossDelay() {
        long d = Math.max(latestRtt, smoothedRtt);
        return Math.max(d + (d >>> 3), GRANULARITY_NANOS);
    }

    private void detectLosses(long now, Listener listener) {
        lossTime = Long.MAX_VALUE;
        if (largestAcked < 0) {
            return;
        }
        long delay = lossDelay();
        long lostSendTime = now - delay;
        long largestLostSent = Long.MIN_VALUE;
        // Persistent congestion (RFC 9002 7.6): a run of consecutive lost packets, none
        // acknowledged in between, spanning more than the persistent-congestion duration.
        long runStart = Long.MIN_VALUE;
        boolean persistent = false;
        for (long pn = base; pn < largestAcked && pn < nextPacketNumber; pn++) {
            SentPacket p = ring[(int) (pn & (ring.length - 1))];
            if (p.state == SentPacket.ACKED) {
                runStart = Long.MIN_VALUE;
                continue;
            }
            if (p.state != SentPacket.PENDING) {
                continue;
            }
            if (p.timeSent <= lostSendTime || largestAcked >= pn + PACKET_THRESHOLD) {
                p.state = SentPacket.LOST;
                packetsLost++;
                if (p.inFlight) {
                    bytesInFlight -= p.size;
                    ackElicitingInFlight--;
                    resolvedPackets++;
                    lossRate += (65536 - lossRate) >> LOSS_EWMA_SHIFT;
                    largestLostSent = Math.max(largestLostSent, p.timeSent);
                    if (runStart == Long.MIN_VALUE) {
                        runStart = p.timeSent;
                    } else if (hasRttSample && p.timeSent - runStart > persistentCongestionNanos()) {
                        persistent = true;
                    }
                }
                listener.onLost(p);
            } else {
                runStart = Long.MIN_VALUE;
                lossTime = Math.min(lossTime, p.timeSent + delay);
            }
        }
        if (persistent) {
            congestionWindow = minimumWindow();
            ssthresh = congestionWindow;
            recoveryStart = now;
            bytesAckedInAvoidance = 0;
            return;
        }
        if (largestLostSent != Long.MIN_VALUE && largestLostSent > recoveryStart) {
            if (randomLoss()) {
                randomLossEvents++;
                return;
            }
            // One congestion event per round trip: packets sent before recovery started do not cut again.
            recoveryStart = now;
            ssthresh = Math.max(congestionWindow / 2, minimumWindow());
            congestionWindow = ssthresh;
            bytesAckedInAvoidance = 0;
        }
    }

    /**
     * A loss on a path without a standing queue, at a moderate measured loss rate, is taken for
     * random (non-congestive) loss, as on a lossy radio link, and does not shrink the window.
     * NewReno alone holds the window near {@code 1.2 / sqrt(p)} packets, about 5 at 5 % loss,
     * which caps goodput at a few packets per round trip however fast the path is. The delay test
     * is HyStart++'s: congestion shows as the smallest round trip of the last two rounds grown by
     * {@code clamp(minRTT / 8, 4, 16 ms)} over the minimum (a filling buffer delays before it drops). A path that drops without
     * delaying (a policer, a shallow buffer) pushes the loss rate past 15 % as soon as the sender
     * overshoots, and from then on every loss counts as congestion again. Until 64 packets are
     * resolved the rate is unknown and every loss counts.
     */
    private boolean randomLoss() {
        if (resolvedPackets < LOSS_ESTIMATE_MIN_PACKETS || lossRate >= TOLERATED_LOSS_RATE || !hasRttSample) {
            return false;
        }
        // The smallest RTT of this and the last round: a standing queue raises even that, while
        // one late sample (a descheduled thread on a busy host) does not.
        long recent = Math.min(lastRoundMinRtt, currentRoundMinRtt);
        if (recent == Long.MAX_VALUE) {
            recent = latestRtt;
        }
        return recent < minRtt + hystartThreshold(minRtt);
    }

    private static long hystartThreshold(long rtt) {
        return Math.max(HYSTART_MIN_THRESH, Math.min(HYSTART_MAX_THRESH, rtt / 8));
    }

    private void advanceBase() {
        while (base < nextPacketNumber) {
            SentPacket p = ring[(int) (base & (ring.length - 1))];
            if (p.state == SentPacket.PENDING) {
                break;
            }
            p.reset();
            base++;
        }
    }

    private long persistentCongestionNanos() {
        return 3 * ptoNanos();
    }

    /** @return the probe timeout without backoff (RFC 9002 6.2.1) */
    public long ptoNanos() {
        return smoothedRtt + Math.max(4 * rttVar, GRANULARITY_NANOS) + maxAckDelayNanos;
    }

    /** @return when {@link #onTimeout} must run, loop clock; Long.MAX_VALUE if nothing is pending */
    public long deadline() {
        if (lossTime != Long.MAX_VALUE) {
            return lossTime;
        }
        if (ackElicitingInFlight == 0) {
            return Long.MAX_VALUE;
        }
        long pto = lastAckElicitingImmediate ? ptoNanos() - maxAckDelayNanos : ptoNanos();
        return lastAckElicitingSent + (pto << Math.min(ptoCount, 16));
    }

    /**
     * Runs the loss-detection timer.
     *
     * @param now loop clock
     * @param listener receives lost packets
     * @return true if the probe timeout fired: the caller must send one or two ack-eliciting probes
     */
    public boolean onTimeout(long now, Listener listener) {
        if (lossTime != Long.MAX_VALUE) {
            if (now >= lossTime) {
                detectLosses(now, listener);
                advanceBase();
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
     * Calls {@code visitor} with the oldest packets still in flight, oldest first, for probe
     * retransmission after a probe timeout.
     *
     * @param max how many packets at most
     * @param visitor receives them
     */
    public void forEachOldestInFlight(int max, java.util.function.Consumer<SentPacket> visitor) {
        int n = 0;
        for (long pn = base; pn < nextPacketNumber && n < max; pn++) {
            SentPacket p = ring[(int) (pn & (ring.length - 1))];
            if (p.state == SentPacket.PENDING && p.ackEliciting) {
                visitor.accept(p);
                n++;
            }
        }
    }

    /**
     * @param bytes size of the next packet
     * @return true if the congestion window has room for it
     */
    public boolean congestionAllows(int bytes) {
        return bytesInFlight + bytes <= congestionWindow;
    }

    /**
     * @param now loop clock
     * @param bytes size of the next packet
     * @return 0 if pacing lets it go now, otherwise nanoseconds until it may
     */
    public long pacingDelay(long now, int bytes) {
        refillPacing(now);
        if (pacingTokens >= bytes) {
            return 0;
        }
        long rate = pacingRateBytesPerSecond();
        return Math.max(1, (bytes - pacingTokens) * 1_000_000_000L / rate);
    }

    private long pacingRateBytesPerSecond() {
        long srtt = Math.max(smoothedRtt, 1000);
        // 1.25 x cwnd per smoothed RTT, RFC 9002 7.7
        return Math.max(1, (congestionWindow * 5 / 4) * 1_000_000_000L / srtt);
    }

    private void refillPacing(long now) {
        long elapsed = now - pacingUpdated;
        if (elapsed <= 0) {
            return;
        }
        pacingUpdated = now;
        long rate = pacingRateBytesPerSecond();
        long add = elapsed >= 1_000_000_000L ? Long.MAX_VALUE / 4 : elapsed * rate / 1_000_000_000L;
        // Burst: the initial window, or 2 ms worth of sending, whichever is larger, because the loop's
        // timers are not finer than about a millisecond.
        long burst = Math.max(initialWindow(), rate / 500);
        pacingTokens = Math.min(burst, pacingTokens + add);
    }

    /** @return bytes in flight */
    public long bytesInFlight() { return bytesInFlight; }
    /** @return congestion window in bytes */
    public long congestionWindow() { return congestionWindow; }
    /** @return smoothed RTT, nanoseconds */
    public long smoothedRtt() { return smoothedRtt; }
    /** @return RTT variation, nanoseconds */
    public long rttVariation() { return rttVar; }
    /** @return latest RTT sample, nanoseconds (0 before the first) */
    public long latestRtt() { return latestRtt; }
    /** @return loss events that did not reduce the window because they looked random ({@link #randomLoss}) */
    public long randomLossEvents() { return randomLossEvents; }
    /** @return estimated share of packets lost, 0..1 */
    public double lossRate() { return lossRate / 65536.0; }
    /** @return packets declared lost so far */
    public long packetsLost() { return packetsLost; }
    /** @return ack-eliciting packets in flight */
    public int ackElicitingInFlight() { return ackElicitingInFlight; }
    /** @return lowest packet number still tracked */
    public long base() { return base; }
    /** @return largest acknowledged packet number, -1 if none */
    public long largestAcked() { return largestAcked; }
    /** @return true while in slow start */
    public boolean inSlowStart() { return congestionWindow < ssthresh; }
    /** @return consecutive probe timeouts without an acknowledgement */
    public int ptoCount() { return ptoCount; }
}
