package io.peerlink.core.internal.loop;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Where application code runs (docs/architecture.md, "Threading"): never on the event loop. Every
 * callback (message handlers, link listeners, incoming-link handlers) goes through a
 * {@link #serial() serial executor} on top of the callback executor, and every stage handed to the
 * application is a {@link CallbackFuture} completed on the callback executor, so neither a slow
 * callback nor a waiting one can stall the loop.
 *
 * <p>The default callback executor is a pool of daemon threads named
 * {@code peerlink-callback-<name>-<n>}, created on demand and ended after 10 s idle: one blocked
 * callback holds one thread and its own link's serial queue, nothing else.
 */
public final class Callbacks {
    private static final System.Logger LOG = System.getLogger(Callbacks.class.getName());
    private static final AtomicBoolean INLINE_WARNED = new AtomicBoolean();

    private final Executor executor;

    /**
     * @param executor the application's callback executor, or null for the default
     * @param name names the default executor's threads
     */
    public Callbacks(Executor executor, String name) {
        this.executor = executor != null ? executor : defaultExecutor(name);
    }

    private static Executor defaultExecutor(String name) {
        AtomicInteger n = new AtomicInteger();
        ThreadFactory threads = r -> {
            Thread t = new Thread(r, "peerlink-callback-" + name + "-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
        // Never shut down: idle threads end after 10 s, so an unused pool holds no thread.
        return new ThreadPoolExecutor(0, Integer.MAX_VALUE, 10, TimeUnit.SECONDS, new SynchronousQueue<>(), threads);
    }

    /** @return the callback executor */
    public Executor executor() {
        return executor;
    }

    /** @return a new executor that runs its tasks in order, one at a time, on the callback executor */
    public Executor serial() {
        return new SerialExecutor(executor);
    }

    /**
     * @param internal a stage completed by the runtime (typically on the loop)
     * @param <T> the value type
     * @return a stage for the application that completes the same way, on the callback executor
     */
    public <T> CompletableFuture<T> expose(CompletionStage<T> internal) {
        CallbackFuture<T> exposed = new CallbackFuture<>(executor);
        internal.whenComplete((value, error) -> dispatch(executor, () -> {
            if (error != null) {
                exposed.completeExceptionally(unwrap(error));
            } else {
                exposed.complete(value);
            }
        }));
        return exposed;
    }

    private static Throwable unwrap(Throwable t) {
        return t instanceof java.util.concurrent.CompletionException && t.getCause() != null ? t.getCause() : t;
    }

    /**
     * Runs the task on the executor. If the executor refuses (an application executor that was
     * shut down), the task runs here rather than never: a stage must not hang.
     */
    static void dispatch(Executor executor, Runnable task) {
        try {
            executor.execute(task);
        } catch (RejectedExecutionException e) {
            if (INLINE_WARNED.compareAndSet(false, true)) {
                LOG.log(System.Logger.Level.WARNING, "the callback executor refused a task (" + e.getMessage()
                        + "); running PeerLink callbacks on the calling thread instead");
            }
            task.run();
        }
    }
}
