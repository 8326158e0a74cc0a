package io.peerlink.core.internal.loop;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;

/**
 * The single event thread of a runtime. Every link's state is confined to it, and every timer
 * (retransmission, delayed ACK, keepalive, pacing) is scheduled on it: one scheduler per runtime,
 * never a thread per link.
 *
 * <p>Why not a {@code ScheduledThreadPoolExecutor}: its {@code execute} wraps every task in a
 * {@code ScheduledFutureTask}, pushes it through a lock-protected delay heap and signals the
 * worker, i.e. a lock, a heap insertion and usually a futex wake-up per received datagram. Here
 * tasks go into a lock-free queue and the loop thread is unparked only when it is actually
 * parked: while it is busy, a receive thread handing over a burst of datagrams costs one queue
 * insertion each and no system call, so the hand-off is batched without any extra latency.
 * Timers live in an indexed binary heap confined to the loop thread (O(log n) insert and cancel),
 * so re-armed channel timers never pile up as cancelled garbage.
 *
 * <p>Failure and shutdown rules (docs/architecture.md, "Threading"): a task that throws a
 * {@link RuntimeException} is logged and the loop goes on (a bug in one link must not stop the
 * others); a task that throws anything else (an {@link Error} such as {@link OutOfMemoryError})
 * leaves the runtime in an unknown state, so the loop logs it, hands it to the
 * {@linkplain #onFailure failure handler} (the device closes every link with that reason) and
 * closes. At {@link #close()} every task already queued still runs; a task submitted after it is
 * refused with {@link RejectedExecutionException}, so its submitter can fail whatever waits on
 * it; pending timers are dropped (their owners are closed first). Application code never runs
 * here: see {@link Callbacks}.
 */
public final class EventLoop implements Executor, AutoCloseable {

    /** A scheduled task that can be cancelled. */
    public interface Timer {
        /** Cancels the task if it has not run; idempotent. */
        void cancel();
    }

    private static final System.Logger LOG = System.getLogger(EventLoop.class.getName());
    /** Tasks run between two looks at the timers, so a flood of datagrams cannot starve them. */
    private static final int TASK_BUDGET = 256;

    private final Thread thread;
    private final Callbacks callbacks;
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    private volatile Consumer<Throwable> failureHandler = t -> { };
    private volatile Throwable failure;
    private final CountDownLatch terminated = new CountDownLatch(1);
    /** True while the loop thread is parked or about to park; producers unpark only then. */
    private volatile boolean parked;
    private volatile boolean closed;

    // loop-confined timer heap, ordered by deadline, then by scheduling order
    private ScheduledTask[] heap = new ScheduledTask[64];
    private int heapSize;
    private long sequence;

    /** @param name the thread's name; application callbacks run on the default executor */
    public EventLoop(String name) {
        this(name, null);
    }

    /**
     * @param name the thread's name
     * @param callbackExecutor where application callbacks run, or null for the default
     *        (see {@link Callbacks})
     */
    public EventLoop(String name, Executor callbackExecutor) {
        this.callbacks = new Callbacks(callbackExecutor, name);
        thread = new LoopThread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** The loop's thread type, so that any loop thread can be recognised. */
    private static final class LoopThread extends Thread {
        LoopThread(Runnable run, String name) {
            super(run, name);
        }
    }

    /** @return true when called on this loop's thread */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
    }

    /** @return true when called on the thread of any event loop */
    public static boolean onAnyLoop() {
        return Thread.currentThread() instanceof LoopThread;
    }

    /**
     * @param what the operation that would wait for the loop
     * @throws BlockingOperationException if called on an event loop thread
     */
    public static void checkNotOnLoop(String what) {
        if (onAnyLoop()) {
            throw new BlockingOperationException(what);
        }
    }

    /** @return where application callbacks of this runtime run */
    public Callbacks callbacks() {
        return callbacks;
    }

    /**
     * @param handler called on the loop with the throwable when a task throws something other
     *        than a RuntimeException; the loop closes right after it returns
     */
    public void onFailure(Consumer<Throwable> handler) {
        this.failureHandler = Objects.requireNonNull(handler, "handler");
    }

    /** @return what made the loop fail, or null */
    public Throwable failure() {
        return failure;
    }

    /**
     * Runs the task on the loop thread, after the tasks submitted before it.
     *
     * @throws RejectedExecutionException if the loop is closed
     */
    @Override
    public void execute(Runnable task) {
        if (closed) {
            throw new RejectedExecutionException("event loop " + thread.getName() + " is closed");
        }
        tasks.add(task);
        // close() may have run between the check above and the add: then either the loop's final
        // drain takes the task (remove fails) or this thread takes it back and refuses it.
        if (closed && tasks.remove(task)) {
            throw new RejectedExecutionException("event loop " + thread.getName() + " is closed");
        }
        // Dekker-style with the loop's "parked = true; check queue": one of the two sees the other.
        if (parked) {
            LockSupport.unpark(thread);
        }
    }

    /**
     * @param task what to run on the loop
     * @param delayNanos delay from now
     * @return a handle to cancel it
     * @throws RejectedExecutionException if the loop is closed
     */
    public Timer schedule(Runnable task, long delayNanos) {
        ScheduledTask t = new ScheduledTask(task, nanoTime() + Math.max(0, delayNanos));
        if (inLoop()) {
            add(t);
        } else {
            execute(() -> {
                if (!t.cancelled) {
                    add(t);
                }
            });
        }
        return t;
    }

    /** @return the monotonic clock every component of this runtime uses */
    public long nanoTime() {
        return System.nanoTime();
    }

    /**
     * Stops accepting tasks; the thread runs every task already queued, drops pending timers and
     * ends. Idempotent; does not wait (see {@link #awaitTermination}).
     */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
    }

    /**
     * @param timeoutNanos how long to wait
     * @return true if the thread ended (after running the queued tasks) within the time
     * @throws InterruptedException if interrupted while waiting
     * @throws BlockingOperationException if called on the loop itself
     */
    public boolean awaitTermination(long timeoutNanos) throws InterruptedException {
        checkNotOnLoop("awaiting the event loop's termination");
        return terminated.await(timeoutNanos, java.util.concurrent.TimeUnit.NANOSECONDS);
    }

    private void run() {
        while (!closed) {
            int n = 0;
            for (Runnable r; n < TASK_BUDGET && (r = tasks.poll()) != null; n++) {
                runTask(r);
            }
            long now = nanoTime();
            while (heapSize > 0 && heap[0].deadline - now <= 0 && !closed) {
                ScheduledTask t = removeAt(0);
                if (!t.cancelled) {
                    runTask(t.task);
                }
            }
            if (!tasks.isEmpty() || closed) {
                continue;
            }
            long wait = heapSize > 0 ? heap[0].deadline - nanoTime() : Long.MAX_VALUE;
            if (wait <= 0) {
                continue;
            }
            parked = true;
            if (tasks.isEmpty() && !closed) {
                if (wait == Long.MAX_VALUE) {
                    LockSupport.park(this);
                } else {
                    LockSupport.parkNanos(this, wait);
                }
            }
            parked = false;
        }
        // Queued tasks run, never vanish: they may complete futures someone waits on. Producers
        // racing with close() take their task back (see execute), so this ends.
        for (Runnable r; (r = tasks.poll()) != null; ) {
            runTask(r);
        }
        Arrays.fill(heap, null);
        heapSize = 0;
        terminated.countDown();
    }

    private void runTask(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // A bug in one link must not stop every other link of the runtime.
            LOG.log(System.Logger.Level.WARNING, "task on event loop " + thread.getName() + " failed", e);
        } catch (Throwable t) {
            fail(t);
        }
    }

    /** An Error (or a checked throwable smuggled out): state may be corrupt, so fail loudly and stop. */
    private void fail(Throwable t) {
        if (failure == null) {
            failure = t;
            LOG.log(System.Logger.Level.ERROR, "event loop " + thread.getName() + " failed; closing the runtime", t);
            try {
                failureHandler.accept(t);
            } catch (Throwable again) {
                LOG.log(System.Logger.Level.ERROR, "failure handler of event loop " + thread.getName() + " failed", again);
            }
        } else {
            LOG.log(System.Logger.Level.ERROR, "event loop " + thread.getName() + " failed again while closing", t);
        }
        closed = true;
    }

    // ---- indexed binary min-heap, loop thread only

    private static boolean before(ScheduledTask a, ScheduledTask b) {
        long d = a.deadline - b.deadline;
        return d < 0 || (d == 0 && a.sequence < b.sequence);
    }

    private void add(ScheduledTask t) {
        if (heapSize == heap.length) {
            heap = Arrays.copyOf(heap, heap.length * 2);
        }
        t.sequence = sequence++;
        t.index = heapSize;
        heap[heapSize++] = t;
        siftUp(t.index);
    }

    private ScheduledTask removeAt(int i) {
        ScheduledTask t = heap[i];
        int last = --heapSize;
        if (i != last) {
            heap[i] = heap[last];
            heap[i].index = i;
            heap[last] = null;
            siftDown(i);
            siftUp(i);
        } else {
            heap[last] = null;
        }
        t.index = -1;
        return t;
    }

    private void siftUp(int i) {
        ScheduledTask t = heap[i];
        while (i > 0) {
            int parent = (i - 1) >>> 1;
            ScheduledTask p = heap[parent];
            if (!before(t, p)) {
                break;
            }
            heap[i] = p;
            p.index = i;
            i = parent;
        }
        heap[i] = t;
        t.index = i;
    }

    private void siftDown(int i) {
        ScheduledTask t = heap[i];
        int half = heapSize >>> 1;
        while (i < half) {
            int child = 2 * i + 1;
            int right = child + 1;
            if (right < heapSize && before(heap[right], heap[child])) {
                child = right;
            }
            if (!before(heap[child], t)) {
                break;
            }
            heap[i] = heap[child];
            heap[i].index = i;
            i = child;
        }
        heap[i] = t;
        t.index = i;
    }

    private final class ScheduledTask implements Timer {
        final Runnable task;
        final long deadline;
        long sequence;
        /** Position in the heap, -1 when not in it; loop thread only. */
        int index = -1;
        volatile boolean cancelled;

        ScheduledTask(Runnable task, long deadline) {
            this.task = task;
            this.deadline = deadline;
        }

        @Override
        public void cancel() {
            if (cancelled) {
                return;
            }
            cancelled = true;
            if (inLoop()) {
                if (index >= 0) {
                    removeAt(index);
                }
            } else if (!closed) {
                try {
                    execute(() -> {
                        if (index >= 0) {
                            removeAt(index);
                        }
                    });
                } catch (RejectedExecutionException e) {
                    // Closed meanwhile: the timer will never run anyway.
                }
            }
        }
    }
}
