package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.channel.AckTracker;
import io.peerlink.core.internal.channel.SentPacket;
import io.peerlink.core.internal.channel.SentPacketTracker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.TimeUnit;

/**
 * What a channel does for its retransmission timer on every sent packet and every ACK when the
 * armed timer is already early enough (the common case): read the clock, take the earliest of
 * the loss-detection/probe deadline ({@link SentPacketTracker#deadline()}) and the delayed-ACK
 * deadline ({@link AckTracker#ackDeadline()}), and compare it with the armed deadline; only an
 * earlier deadline costs a {@code schedule} + {@code cancel} pair (see
 * {@link TimerScheduleBenchmark}). The tracker holds 1,024 packets in flight, so a deadline that
 * scanned the window would show. Baseline: {@code System.nanoTime()} alone, the loop's clock.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class RetransmissionDeadlineBenchmark {
    private final SentPacketTracker tracker = new SentPacketTracker(1200, 1_000_000, 25_000_000, 1L << 40);
    private final AckTracker acks = new AckTracker(2, 25_000_000);
    private long armedAt;

    /** Puts 1,024 packets in flight and one received packet awaiting a delayed ACK. */
    @Setup
    public void fill() {
        long now = System.nanoTime();
        Object item = new Object();
        for (int i = 0; i < AckProcessingBenchmark.WINDOW; i++) {
            SentPacket p = tracker.open();
            p.addItem(item);
            tracker.commit(p, now, 1200, true);
        }
        acks.record(0, now);
        acks.onAckEliciting(now);
        armedAt = Math.min(tracker.deadline(), acks.ackDeadline()) - 1;
    }

    /**
     * The per-event deadline check.
     *
     * @return true if the timer would have to be re-armed (never, here)
     */
    @Benchmark
    public boolean deadlineCheck() {
        long now = System.nanoTime();
        long d = Math.max(Math.min(tracker.deadline(), acks.ackDeadline()), now);
        return d < armedAt;
    }

    /**
     * Baseline: the clock read alone.
     *
     * @return the time
     */
    @Benchmark
    public long baselineNanoTime() {
        return System.nanoTime();
    }
}
