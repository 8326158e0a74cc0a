package io.peerlink.relay.turn;

/**
 * What one relayed link may move: at most {@code maxBytes} over its whole life (both directions)
 * and at most {@code bytesPerSecond} sustained (a {@link TokenBucket} with one second of burst).
 * The embedded TURN server keeps one per allocation; the reference server's WebSocket relay one
 * per device and peer (docs/relay.md, "Limits"). Thread-safe.
 */
public final class RelayBudget {
    private final long maxBytes;
    private final TokenBucket rate;
    private long bytes;

    /**
     * @param maxBytes bytes over the whole life
     * @param bytesPerSecond sustained rate, also the burst
     */
    public RelayBudget(long maxBytes, long bytesPerSecond) {
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be positive: " + maxBytes);
        }
        this.maxBytes = maxBytes;
        this.rate = new TokenBucket(bytesPerSecond, bytesPerSecond);
    }

    /**
     * @param config the limits of a TURN server
     * @return a budget with its per-allocation byte and rate limits
     */
    public static RelayBudget of(TurnServerConfig config) {
        return new RelayBudget(config.maxBytesPerAllocation(), config.bytesPerSecondPerAllocation());
    }

    /**
     * @param n bytes to relay
     * @param nowMillis the current time, {@link System#currentTimeMillis()}
     * @return true if within both limits (counted); false if over either (nothing counted: drop the datagram)
     */
    public synchronized boolean charge(int n, long nowMillis) {
        if (bytes + n > maxBytes || !rate.take(n, nowMillis)) {
            return false;
        }
        bytes += n;
        return true;
    }

    /** @return bytes charged so far */
    public synchronized long bytes() {
        return bytes;
    }
}
