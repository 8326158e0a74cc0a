package io.peerlink.core.internal.loop;

import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The single event thread of a runtime. Every link's state is confined to it, and every timer
 * (retransmission, delayed ACK, keepalive, pacing) is scheduled on it: one scheduler per runtime,
 * never a thread per link.
 */
public final class EventLoop implements Executor, AutoCloseable {

    /** A scheduled task that can be cancelled. */
    public interface Timer {
        /** Cancels the task if it has not run; idempotent. */
        void cancel();
    }

    private final ScheduledThreadPoolExecutor executor;
    private volatile Thread thread;

    /** @param name the thread's name */
    public EventLoop(String name) {
        executor = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            thread = t;
            return t;
        });
        executor.setRemoveOnCancelPolicy(true);
        executor.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        executor.prestartCoreThread();
    }

    /** @return true when called on this loop's thread */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    @Override
    public void execute(Runnable task) {
        executor.execute(task);
    }

    /**
     * @param task what to run on the loop
     * @param delayNanos delay from now
     * @return a handle to cancel it
     */
    public Timer schedule(Runnable task, long delayNanos) {
        ScheduledFuture<?> f = executor.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        return () -> f.cancel(false);
    }

    /** @return the monotonic clock every component of this runtime uses */
    public long nanoTime() {
        return System.nanoTime();
    }

    /** Stops the thread; queued tasks are dropped. Idempotent. */
    @Override
    public void close() {
        executor.shutdownNow();
    }
}
