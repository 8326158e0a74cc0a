package io.peerlink.gateway.internal;

/** A classic token bucket; callers supply the clock so that tests need no sleeping. */
public final class TokenBucket {

    private final double ratePerNano;
    private final double capacity;
    private double tokens;
    private long lastNanos;

    public TokenBucket(double perSecond, int capacity, long nowNanos) {
        if (perSecond <= 0 || capacity < 1) {
            throw new IllegalArgumentException("rate " + perSecond + ", capacity " + capacity);
        }
        this.ratePerNano = perSecond / 1e9;
        this.capacity = capacity;
        this.tokens = capacity;
        this.lastNanos = nowNanos;
    }

    /** Takes one token if there is one. */
    public synchronized boolean tryTake(long nowNanos) {
        long elapsed = nowNanos - lastNanos;
        if (elapsed > 0) {
            tokens = Math.min(capacity, tokens + elapsed * ratePerNano);
            lastNanos = nowNanos;
        }
        if (tokens >= 1) {
            tokens -= 1;
            return true;
        }
        return false;
    }

    /** True when the bucket has refilled completely, i.e. it can be forgotten without changing behaviour. */
    public synchronized boolean isFull(long nowNanos) {
        return tokens + (nowNanos - lastNanos) * ratePerNano >= capacity;
    }
}
