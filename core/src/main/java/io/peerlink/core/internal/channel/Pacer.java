package io.peerlink.core.internal.channel;

/**
 * Pacing (RFC 9002 7.7): a token bucket refilled at {@code 1.25 x window / smoothed RTT}, holding
 * at most {@code max(initial window, 2 ms of sending)} because the loop's timers are not finer
 * than about a millisecond. Loop-confined; all arithmetic saturates.
 */
final class Pacer {
    private long tokens;
    private long updated;

    /** @param burst tokens to start with (a new path starts with a full initial window) */
    void reset(long burst) {
        tokens = burst;
    }

    /**
     * @param now loop clock
     * @param bytes size of the next packet
     * @param window congestion window
     * @param initialWindow the controller's initial window (smallest burst)
     * @param smoothedRtt smoothed RTT
     * @return 0 if the packet may go now, otherwise nanoseconds until it may
     */
    long delay(long now, int bytes, long window, long initialWindow, long smoothedRtt) {
        refill(now, window, initialWindow, smoothedRtt);
        if (tokens >= bytes) {
            return 0;
        }
        long rate = rate(window, smoothedRtt);
        long missing = bytes - tokens;
        return missing >= Long.MAX_VALUE / 1_000_000_000L ? Long.MAX_VALUE / 4 : Math.max(1, missing * 1_000_000_000L / rate);
    }

    /**
     * Takes the tokens of a packet sent.
     *
     * @param now loop clock
     * @param bytes its size
     * @param window congestion window
     * @param initialWindow the controller's initial window
     * @param smoothedRtt smoothed RTT
     */
    void onSent(long now, int bytes, long window, long initialWindow, long smoothedRtt) {
        refill(now, window, initialWindow, smoothedRtt);
        tokens -= bytes;
    }

    private static long rate(long window, long smoothedRtt) {
        long srtt = Math.max(smoothedRtt, 1000);
        long perRtt = window + window / 4;
        // bytes per second = perRtt * 1e9 / srtt, without overflowing for huge windows
        if (perRtt >= Long.MAX_VALUE / 1_000_000_000L) {
            return Math.max(1, perRtt / srtt * 1_000_000_000L);
        }
        return Math.max(1, perRtt * 1_000_000_000L / srtt);
    }

    private void refill(long now, long window, long initialWindow, long smoothedRtt) {
        long elapsed = now - updated;
        if (elapsed <= 0) {
            return;
        }
        updated = now;
        long rate = rate(window, smoothedRtt);
        long add = elapsed >= 1_000_000_000L || elapsed > Long.MAX_VALUE / rate
                ? Long.MAX_VALUE / 4 : elapsed * rate / 1_000_000_000L;
        long burst = Math.max(initialWindow, rate / 500);
        tokens = Math.min(burst, RttEstimator.saturatedAdd(tokens, add));
    }
}
