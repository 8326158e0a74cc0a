package io.peerlink.core.internal.channel;

import java.util.concurrent.atomic.AtomicLong;

/**
 * Memory for reassembling received messages, shared by every channel that holds it (thread-safe;
 * meant to be one per device, or {@link #shared()} for the whole JVM). Flow-control credit
 * already bounds what one peer may <em>announce</em>; this bounds what all peers together make
 * the runtime <em>allocate</em>: reassembly chunks, assembled messages waiting for delivery, and range bookkeeping. A channel
 * whose next allocation does not fit closes with PROTOCOL_VIOLATION ("receive budget exhausted");
 * the other channels keep what they hold and go on.
 */
public final class ReceiveBudget {
    /** Smallest default budget, whatever the heap: two full default receive windows. */
    public static final long MIN_DEFAULT = 32L << 20;

    private static volatile ReceiveBudget shared;

    private final long limit;
    private final AtomicLong used = new AtomicLong();

    /**
     * @param limitBytes the most all holders may allocate together
     * @throws IllegalArgumentException if not positive
     */
    public ReceiveBudget(long limitBytes) {
        if (limitBytes <= 0) {
            throw new IllegalArgumentException("receive budget must be positive: " + limitBytes);
        }
        this.limit = limitBytes;
    }

    /**
     * The budget of channels that were given none: one per JVM, a quarter of the maximum heap
     * (at least {@link #MIN_DEFAULT}), so that peers together cannot exhaust the heap through
     * reassembly whatever number of links they open.
     *
     * @return the process-wide budget
     */
    public static ReceiveBudget shared() {
        ReceiveBudget b = shared;
        if (b == null) {
            synchronized (ReceiveBudget.class) {
                b = shared;
                if (b == null) {
                    b = new ReceiveBudget(defaultLimit());
                    shared = b;
                }
            }
        }
        return b;
    }

    /** @return the default limit: max(maxMemory / 4, {@link #MIN_DEFAULT}) */
    public static long defaultLimit() {
        long max = Runtime.getRuntime().maxMemory();
        return Math.max(max == Long.MAX_VALUE ? MIN_DEFAULT : max / 4, MIN_DEFAULT);
    }

    /**
     * @param bytes to allocate
     * @return true if reserved; false if that would exceed the limit (nothing reserved)
     */
    public boolean tryReserve(long bytes) {
        long cur;
        do {
            cur = used.get();
            if (cur + bytes > limit) {
                return false;
            }
        } while (!used.compareAndSet(cur, cur + bytes));
        return true;
    }

    /** @param bytes previously reserved, now freed */
    public void release(long bytes) {
        used.addAndGet(-bytes);
    }

    /** @return bytes reserved now */
    public long used() {
        return used.get();
    }

    /** @return the limit */
    public long limit() {
        return limit;
    }
}
