package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.loop.EventLoop;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The timer primitive a channel's retransmission deadline rests on: {@link EventLoop#schedule}
 * followed by {@link EventLoop.Timer#cancel()}, which is what {@code ChannelEngine} does each time
 * it re-arms its single timer to an earlier deadline. Baseline: the same pair on a
 * {@link ScheduledThreadPoolExecutor} configured as the loop configures its own (one thread,
 * remove-on-cancel), without the loop's wrapper.
 *
 * <p>The benchmark thread is not the loop thread. With {@code anchored=false} each new timer
 * becomes the head of the loop's delay queue, so scheduling it signals the idle loop thread
 * (a wake-up the engine, which schedules from the loop thread itself, mostly does not pay).
 * With {@code anchored=true} an earlier task is already queued, the new timer sorts behind it
 * and nobody is woken: the queue operations alone.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TimerScheduleBenchmark {
    private static final Runnable NOTHING = () -> { };
    /** Far enough that no timer fires during a run. */
    private static final long TIMER_DELAY_NANOS = TimeUnit.HOURS.toNanos(2);
    private static final long ANCHOR_DELAY_NANOS = TimeUnit.HOURS.toNanos(1);

    /** Whether an earlier task sits at the head of the queue. */
    @Param({"false", "true"})
    public boolean anchored;

    private EventLoop loop;
    private ScheduledThreadPoolExecutor executor;

    /** Starts the loop and the baseline executor, and queues the anchors if asked. */
    @Setup
    public void start() {
        loop = new EventLoop("jmh-loop");
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "jmh-stpe");
            t.setDaemon(true);
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.prestartCoreThread();
        if (anchored) {
            loop.schedule(NOTHING, ANCHOR_DELAY_NANOS);
            executor.schedule(NOTHING, ANCHOR_DELAY_NANOS, TimeUnit.NANOSECONDS);
        }
    }

    /** Stops both threads. */
    @TearDown
    public void stop() {
        loop.close();
        executor.shutdownNow();
    }

    /**
     * Arm and cancel one timer on the event loop.
     *
     * @return the handle, cancelled
     */
    @Benchmark
    public EventLoop.Timer eventLoopScheduleCancel() {
        EventLoop.Timer t = loop.schedule(NOTHING, TIMER_DELAY_NANOS);
        t.cancel();
        return t;
    }

    /**
     * Baseline: the same pair directly on a {@link ScheduledThreadPoolExecutor}.
     *
     * @return the future, cancelled
     */
    @Benchmark
    public ScheduledFuture<?> baselineExecutorScheduleCancel() {
        ScheduledFuture<?> f = executor.schedule(NOTHING, TIMER_DELAY_NANOS, TimeUnit.NANOSECONDS);
        f.cancel(false);
        return f;
    }
}
