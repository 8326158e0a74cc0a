package io.peerlink.core.internal.channel;

/**
 * NewReno (RFC 9002 section 7) with HyStart++ (RFC 9406, without its conservative slow-start
 * phase) and random-loss tolerance (docs/protocol-channel.md section 3, "Congestion control").
 * Loop-confined, allocation-free.
 */
public final class NewRenoController implements CongestionController {
    /** Resolved packets before the loss-rate estimate is trusted. */
    static final int LOSS_ESTIMATE_MIN_PACKETS = 64;
    /** EWMA weight 1/64 per resolved packet: about the last 64..128 packets count. */
    private static final int LOSS_EWMA_SHIFT = 6;
    /** Above this loss share (15 %) every loss is congestion, whatever the delay says. */
    static final long TOLERATED_LOSS_RATE = 65536 * 15 / 100;
    private static final int HYSTART_MIN_SAMPLES = 8;
    private static final long HYSTART_MIN_THRESH = 4_000_000;
    private static final long HYSTART_MAX_THRESH = 16_000_000;

    private final int maxDatagramSize;
    private final long maxWindow;
    private final RttEstimator rtt;
    private long window;
    private long ssthresh = Long.MAX_VALUE;
    private long recoveryStart = Long.MIN_VALUE;
    private long bytesAckedInAvoidance;

    // share of resolved ack-eliciting packets that were lost, EWMA in 1/65536
    private long lossRate;
    private long resolvedPackets;
    private long toleratedLossEvents;

    // HyStart++ rounds: a round ends when a packet sent after it started is acknowledged
    private long roundEnd;
    private long lastRoundMinRtt = Long.MAX_VALUE;
    private long currentRoundMinRtt = Long.MAX_VALUE;
    private int roundSamples;

    /**
     * @param maxDatagramSize the path's datagram size, the window's unit
     * @param maxWindow upper bound of the window (keeps an app-limited sender from growing it without limit)
     * @param rtt the path's RTT estimator
     */
    public NewRenoController(int maxDatagramSize, long maxWindow, RttEstimator rtt) {
        this.maxDatagramSize = maxDatagramSize;
        this.maxWindow = maxWindow;
        this.rtt = rtt;
        this.window = initialWindow(maxDatagramSize);
    }

    /** @param maxWindow the cap @return a factory for this controller */
    public static Factory factory(long maxWindow) {
        return (size, rtt) -> new NewRenoController(size, maxWindow, rtt);
    }

    /** @param datagramSize datagram size @return RFC 9002's initial window */
    static long initialWindow(int datagramSize) {
        return Math.min(10L * datagramSize, Math.max(14720L, 2L * datagramSize));
    }

    private long minimumWindow() {
        return 2L * maxDatagramSize;
    }

    @Override
    public long window() {
        return window;
    }

    @Override
    public long initialWindow() {
        return initialWindow(maxDatagramSize);
    }

    @Override
    public boolean inSlowStart() {
        return window < ssthresh;
    }

    @Override
    public void onAcked(long timeSent, int bytes, long now) {
        resolvedPackets++;
        lossRate -= lossRate >> LOSS_EWMA_SHIFT;
        if (timeSent <= recoveryStart) {
            return;
        }
        if (window < ssthresh) {
            window += bytes;
        } else {
            bytesAckedInAvoidance += bytes;
            if (bytesAckedInAvoidance >= window) {
                bytesAckedInAvoidance -= window;
                window += maxDatagramSize;
            }
        }
        if (window > maxWindow) {
            window = maxWindow;
        }
    }

    @Override
    public void onLost(int bytes) {
        resolvedPackets++;
        lossRate += (65536 - lossRate) >> LOSS_EWMA_SHIFT;
    }

    /**
     * Leaves slow start when the round trip grows by an eighth (4..16 ms) from one round to the
     * next: queues are filling, and doubling once more would overflow them and lose a whole
     * window. Without this, slow start on a fast path overshoots into a buffer overflow.
     */
    @Override
    public void onRttSample(long largestAcked, long nextPacketNumber) {
        if (largestAcked >= roundEnd) {
            lastRoundMinRtt = currentRoundMinRtt;
            currentRoundMinRtt = Long.MAX_VALUE;
            roundSamples = 0;
            roundEnd = nextPacketNumber;
        }
        // Tracked in congestion avoidance too: randomLoss() asks whether a queue is standing.
        currentRoundMinRtt = Math.min(currentRoundMinRtt, rtt.latest());
        roundSamples++;
        if (window >= ssthresh) {
            return;
        }
        if (roundSamples >= HYSTART_MIN_SAMPLES && lastRoundMinRtt != Long.MAX_VALUE && currentRoundMinRtt != Long.MAX_VALUE) {
            if (currentRoundMinRtt >= lastRoundMinRtt + hystartThreshold(lastRoundMinRtt)) {
                ssthresh = window;
            }
        }
    }

    @Override
    public void onCongestionEvent(long largestLostSent, long now) {
        if (largestLostSent <= recoveryStart) {
            // One congestion event per round trip: packets sent before recovery started do not cut again.
            return;
        }
        if (randomLoss()) {
            toleratedLossEvents++;
            return;
        }
        recoveryStart = now;
        ssthresh = Math.max(window / 2, minimumWindow());
        window = ssthresh;
        bytesAckedInAvoidance = 0;
    }

    @Override
    public void onPersistentCongestion(long now) {
        window = minimumWindow();
        ssthresh = window;
        recoveryStart = now;
        bytesAckedInAvoidance = 0;
    }

    /**
     * A loss on a path without a standing queue, at a moderate measured loss rate, is taken for
     * random (non-congestive) loss, as on a lossy radio link, and does not shrink the window.
     * NewReno alone holds the window near {@code 1.2 / sqrt(p)} packets, about 5 at 5 % loss,
     * which caps goodput at a few packets per round trip however fast the path is. The delay test
     * is HyStart++'s: congestion shows as the smallest round trip of the last two rounds grown by
     * {@code clamp(minRTT / 8, 4, 16 ms)} over the minimum (a filling buffer delays before it
     * drops). A path that drops without delaying (a policer, a shallow buffer) pushes the loss
     * rate past 15 % as soon as the sender overshoots, and from then on every loss counts as
     * congestion again. Until 64 packets are resolved the rate is unknown and every loss counts.
     */
    private boolean randomLoss() {
        if (resolvedPackets < LOSS_ESTIMATE_MIN_PACKETS || lossRate >= TOLERATED_LOSS_RATE || !rtt.hasSample()) {
            return false;
        }
        // The smallest RTT of this and the last round: a standing queue raises even that, while
        // one late sample (a descheduled thread on a busy host) does not.
        long recent = Math.min(lastRoundMinRtt, currentRoundMinRtt);
        if (recent == Long.MAX_VALUE) {
            recent = rtt.latest();
        }
        return recent < rtt.min() + hystartThreshold(rtt.min());
    }

    private static long hystartThreshold(long rtt) {
        return Math.max(HYSTART_MIN_THRESH, Math.min(HYSTART_MAX_THRESH, rtt / 8));
    }

    @Override
    public long toleratedLossEvents() {
        return toleratedLossEvents;
    }

    @Override
    public double lossRate() {
        return lossRate / 65536.0;
    }
}
