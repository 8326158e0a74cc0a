package io.peerlink.relay.turn;

/**
 * A token bucket refilled continuously at {@code perSecond}, holding at most {@code burst}. Not
 * thread-safe: its owner serialises calls (the TURN server's selector thread, or a lock).
 */
public final class TokenBucket {
    private final long perSecond;
    private final long burst;
    private double tokens;
    private long last;

    /**
     * @param perSecond refill rate
     * @param burst capacity (the bucket starts full)
     */
    public TokenBucket(long perSecond, long burst) {
        if (perSecond < 1 || burst < 1) {
            throw new IllegalArgumentException("perSecond and burst must be positive: " + perSecond + ", " + burst);
        }
        this.perSecond = perSecond;
        this.burst = burst;
        this.tokens = burst;
        this.last = System.currentTimeMillis();
    }

    /**
     * @param n tokens wanted
     * @param nowMillis the current time, {@link System#currentTimeMillis()}
     * @return true if taken; false (nothing taken) if the bucket holds fewer
     */
    public boolean take(long n, long nowMillis) {
        tokens = Math.min(burst, tokens + Math.max(0, nowMillis - last) * perSecond / 1000.0);
        last = nowMillis;
        if (tokens < n) {
            return false;
        }
        tokens -= n;
        return true;
    }

    /** @param nowMillis the current time @return milliseconds since the bucket was last used */
    public long idleSince(long nowMillis) {
        return nowMillis - last;
    }
}
