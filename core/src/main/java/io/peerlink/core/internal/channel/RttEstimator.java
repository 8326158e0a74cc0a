package io.peerlink.core.internal.channel;

/**
 * Round-trip time estimation, RFC 9002 section 5: latest, minimum, smoothed RTT and variation.
 * Loop-confined.
 *
 * <p>All arithmetic saturates. Every input that comes from the peer (the ACK delay, up to 2^62
 * microseconds on the wire) is clamped before it is used, and samples are capped at
 * {@link #MAX_RTT_NANOS}, so no combination of hostile values can overflow a {@code long}: the
 * probe timeout is always positive and finite, and loss recovery keeps running.
 */
public final class RttEstimator {
    /** RFC 9002 kGranularity, 1 ms. */
    public static final long GRANULARITY_NANOS = 1_000_000;
    /**
     * Largest RTT sample taken into account (100 s): longer than any idle timeout a channel
     * survives, small enough that {@code 8 x} it and a PTO backed off 2^16 times fit a long.
     */
    public static final long MAX_RTT_NANOS = 100_000_000_000L;

    private final long initialRttNanos;
    private final long maxAckDelayNanos;
    private boolean hasSample;
    private long latest;
    private long smoothed;
    private long variation;
    private long min;

    /**
     * @param initialRttNanos RTT assumed before the first sample
     * @param maxAckDelayNanos the peer's maximum ACK delay; larger reported delays are cut to it
     */
    public RttEstimator(long initialRttNanos, long maxAckDelayNanos) {
        this.initialRttNanos = clamp(initialRttNanos, 1, MAX_RTT_NANOS);
        this.maxAckDelayNanos = clamp(maxAckDelayNanos, 0, MAX_RTT_NANOS);
        reset();
    }

    /** Forgets every sample (a new path, RFC 9000 9.4). */
    public void reset() {
        hasSample = false;
        smoothed = initialRttNanos;
        variation = initialRttNanos / 2;
        min = 0;
        latest = 0;
    }

    /**
     * Converts an ACK frame's delay to nanoseconds without overflowing.
     *
     * @param micros the delay from the wire, 0..2^62
     * @return nanoseconds, saturated at Long.MAX_VALUE (negative input reads as 0)
     */
    public static long ackDelayNanos(long micros) {
        if (micros <= 0) {
            return 0;
        }
        return micros >= Long.MAX_VALUE / 1000 ? Long.MAX_VALUE : micros * 1000;
    }

    /**
     * Takes a sample.
     *
     * @param sampleNanos time from sending the largest newly acknowledged packet to its ACK
     * @param ackDelayNanos the peer's reported ACK delay, any value (clamped to 0..maxAckDelay)
     */
    public void update(long sampleNanos, long ackDelayNanos) {
        latest = clamp(sampleNanos, 1, MAX_RTT_NANOS);
        if (!hasSample) {
            hasSample = true;
            min = latest;
            smoothed = latest;
            variation = latest / 2;
            return;
        }
        min = Math.min(min, latest);
        long ackDelay = clamp(ackDelayNanos, 0, maxAckDelayNanos);
        long adjusted = latest;
        if (latest >= min + ackDelay) {
            adjusted = latest - ackDelay;
        }
        variation = (3 * variation + Math.abs(smoothed - adjusted)) / 4;
        smoothed = (7 * smoothed + adjusted) / 8;
    }

    /** @return the probe timeout without backoff (RFC 9002 6.2.1), always in 1 ns..about 6 min */
    public long pto() {
        return smoothed + Math.max(4 * variation, GRANULARITY_NANOS) + maxAckDelayNanos;
    }

    /** @return the probe timeout without the peer's ACK delay (the ACK is not delayed) */
    public long ptoWithoutAckDelay() {
        return smoothed + Math.max(4 * variation, GRANULARITY_NANOS);
    }

    /** @return RFC 9002 time threshold: 9/8 of max(smoothed, latest), at least 1 ms */
    public long lossDelay() {
        long d = Math.max(latest, smoothed);
        return Math.max(d + (d >>> 3), GRANULARITY_NANOS);
    }

    /** @return true once a sample was taken */
    public boolean hasSample() { return hasSample; }
    /** @return latest sample, nanoseconds (0 before the first) */
    public long latest() { return latest; }
    /** @return smoothed RTT, nanoseconds */
    public long smoothed() { return smoothed; }
    /** @return RTT variation, nanoseconds */
    public long variation() { return variation; }
    /** @return minimum RTT, nanoseconds (0 before the first sample) */
    public long min() { return min; }
    /** @return the peer's maximum ACK delay, nanoseconds */
    public long maxAckDelay() { return maxAckDelayNanos; }

    static long clamp(long v, long lo, long hi) {
        return Math.max(lo, Math.min(hi, v));
    }

    /** @return a + b, saturated at Long.MAX_VALUE (both non-negative or a any, b non-negative) */
    static long saturatedAdd(long a, long b) {
        long r = a + b;
        return ((a ^ r) & (b ^ r)) < 0 ? Long.MAX_VALUE : r;
    }
}
