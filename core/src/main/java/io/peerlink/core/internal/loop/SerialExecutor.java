package io.peerlink.core.internal.loop;

import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs tasks one at a time, in submission order, on a delegate executor that may have many
 * threads: one per link keeps that link's messages and events in order while other links' run in
 * parallel, so one blocked callback stalls only its own link. A task that throws (an
 * {@link Error} included) is logged and does not stop the ones behind it.
 */
final class SerialExecutor implements Executor {
    private static final System.Logger LOG = System.getLogger(SerialExecutor.class.getName());

    private final Executor delegate;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private final AtomicBoolean scheduled = new AtomicBoolean();
    private final Runnable drain = this::drain;

    SerialExecutor(Executor delegate) {
        this.delegate = delegate;
    }

    @Override
    public void execute(Runnable task) {
        tasks.add(task);
        schedule();
    }

    private void schedule() {
        if (scheduled.compareAndSet(false, true)) {
            Callbacks.dispatch(delegate, drain);
        }
    }

    private void drain() {
        try {
            for (Runnable r; (r = tasks.poll()) != null; ) {
                try {
                    r.run();
                } catch (Throwable t) { // an application callback's bug must not stall the link's later callbacks
                    LOG.log(System.Logger.Level.ERROR, "application callback failed", t);
                }
            }
        } finally {
            scheduled.set(false);
        }
        // A task added after the last poll but before the flag was cleared found it set.
        if (!tasks.isEmpty()) {
            schedule();
        }
    }
}
