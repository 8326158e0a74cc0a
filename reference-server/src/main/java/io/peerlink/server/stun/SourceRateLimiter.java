package io.peerlink.server.stun;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Token buckets per source IP address, so a STUN server cannot be used to reflect traffic at a
 * victim faster than {@code perSecond} answers a second (burst twice that), plus one bucket for
 * all sources together so spoofing many sources does not multiply the total. The table holds
 * at most {@link #MAX_SOURCES} addresses, least recently seen evicted first. Not thread-safe:
 * the STUN server has one thread.
 */
final class SourceRateLimiter {
    static final int MAX_SOURCES = 16_384;
    private static final long NANOS = 1_000_000_000L;
    private final double perSecond;
    private final double burst;
    private final double totalPerSecond;
    private double totalTokens;
    private long totalRefill;
    private final Map<InetAddress, double[]> buckets = new LinkedHashMap<>(1024, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, double[]> eldest) {
            return size() > MAX_SOURCES;
        }
    };

    SourceRateLimiter(int perSecond) {
        this.perSecond = perSecond;
        this.burst = 2.0 * perSecond;
        this.totalPerSecond = Math.max(1000.0, 100.0 * perSecond);
        this.totalTokens = totalPerSecond;
        this.totalRefill = System.nanoTime();
    }

    /** @param source a request's source @return true if it may be answered now (and a token is spent) */
    boolean tryAcquire(InetAddress source) {
        long now = System.nanoTime();
        totalTokens = Math.min(totalPerSecond, totalTokens + (now - totalRefill) * totalPerSecond / NANOS);
        totalRefill = now;
        double[] b = buckets.get(source);
        if (b == null) {
            b = new double[] {burst, now};
            buckets.put(source, b);
        } else {
            b[0] = Math.min(burst, b[0] + (now - (long) b[1]) * perSecond / NANOS);
            b[1] = now;
        }
        if (b[0] < 1 || totalTokens < 1) {
            return false;
        }
        b[0] -= 1;
        totalTokens -= 1;
        return true;
    }
}
