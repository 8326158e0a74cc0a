package io.peerlink.server.log;

import org.slf4j.Logger;
import org.slf4j.event.Level;

import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Logs what clients can trigger (a denied device, a malformed message, a failing plug-in) without
 * letting a hostile client flood the log: a token bucket of {@code burst} lines, refilled at
 * {@code burst} per {@code interval}, shared by every line this instance logs. Lines over the
 * budget are counted, not written; the next line written says how many were suppressed. The
 * counters that matter (refusals, protocol errors) are in the metrics, which count every event.
 *
 * <p>Thread-safe; one instance per kind of message (docs/operations.md, "Logging").
 */
public final class RateLimitedLogger {
    /** Default: 10 lines per minute per kind of message. */
    public static final int DEFAULT_BURST = 10;
    /** Default refill interval. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMinutes(1);

    private final Logger log;
    private final int burst;
    private final long intervalNanos;
    private final LongSupplier clock;
    private double tokens;
    private long last;
    private long suppressed;

    /**
     * @param log where lines go
     * @param burst lines allowed at once, and per interval
     * @param interval the refill interval
     * @param clock nanosecond clock (tests); normally {@code System::nanoTime}
     */
    public RateLimitedLogger(Logger log, int burst, Duration interval, LongSupplier clock) {
        this.log = Objects.requireNonNull(log, "log");
        if (burst < 1 || interval.isNegative() || interval.isZero()) {
            throw new IllegalArgumentException("burst must be positive and interval > 0");
        }
        this.burst = burst;
        this.intervalNanos = interval.toNanos();
        this.clock = clock;
        this.tokens = burst;
        this.last = clock.getAsLong();
    }

    /** @param log where lines go @return a limiter with the defaults (10 lines a minute) */
    public static RateLimitedLogger of(Logger log) {
        return new RateLimitedLogger(log, DEFAULT_BURST, DEFAULT_INTERVAL, System::nanoTime);
    }

    /** @param format SLF4J format @param args arguments (a trailing Throwable is logged as such) */
    public void warn(String format, Object... args) {
        log(Level.WARN, format, args);
    }

    /** @param format SLF4J format @param args arguments */
    public void info(String format, Object... args) {
        log(Level.INFO, format, args);
    }

    private void log(Level level, String format, Object... args) {
        if (!log.isEnabledForLevel(level)) {
            return;
        }
        long dropped;
        synchronized (this) {
            long now = clock.getAsLong();
            tokens = Math.min(burst, tokens + (now - last) * (double) burst / intervalNanos);
            last = now;
            if (tokens < 1) {
                suppressed++;
                return;
            }
            tokens -= 1;
            dropped = suppressed;
            suppressed = 0;
        }
        if (dropped == 0) {
            log.atLevel(level).log(format, args);
        } else {
            log.atLevel(level).log(format + " [" + dropped + " similar line(s) suppressed by the log rate limit]", args);
        }
    }

    /** @return lines counted but not written since the last line written */
    public synchronized long suppressed() {
        return suppressed;
    }
}
