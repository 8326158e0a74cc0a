package io.peerlink.core.internal.loop;

import java.util.Arrays;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.locks.LockSupport;

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
    private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
    /** True while the loop thread is parked or about to park; producers unpark only then. */
    private volatile boolean parked;
    private volatile boolean closed;

    // loop-confined timer heap, ordered by deadline, then by scheduling order
    private ScheduledTask[] heap = new ScheduledTask[64];
    private int heapSize;
    private long sequence;

    /** @param name the thread's name */
    public EventLoop(String name) {
        thread = new Thread(this::run, name);
        thread.setDaemon(true);
        thread.start();
    }

    /** @return true when called on this loop's thread */
    public boolean inLoop() {
        return Thread.currentThread() == thread;
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

    /** Stops the thread; queued tasks and timers are dropped. Idempotent. */
    @Override
    public void close() {
        closed = true;
        LockSupport.unpark(thread);
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
        tasks.clear();
        Arrays.fill(heap, null);
    }

    private void runTask(Runnable r) {
        try {
            r.run();
        } catch (RuntimeException e) {
            // A bug in one link must not stop every other link of the runtime.
            LOG.log(System.Logger.Level.WARNING, "task on event loop " + thread.getName() + " failed", e);
        }
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
