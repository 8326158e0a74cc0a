package io.peerlink.core.internal.channel;

import io.peerlink.ChannelClosedException;
import io.peerlink.SendBufferFullException;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The send buffer's accounting, shared between application threads (which reserve) and the loop
 * (which releases when a message is acknowledged or fails). Each message costs its length plus
 * {@link ChannelEngine#MESSAGE_OVERHEAD}. Thread-safe.
 */
final class SendBuffer {
    private final long limit;
    private final long largestMessageCost;
    private final AtomicLong buffered = new AtomicLong();
    private final Object writableLock = new Object();
    private CompletableFuture<Void> writable;

    SendBuffer(long limit, int maxMessageSize) {
        this.limit = limit;
        this.largestMessageCost = (long) maxMessageSize + ChannelEngine.MESSAGE_OVERHEAD;
    }

    /**
     * @param length message length
     * @return null if reserved, else the refusal
     */
    SendBufferFullException reserve(int length, long cost) {
        long cur;
        do {
            cur = buffered.get();
            if (cur > 0 && cur + cost > limit) {
                return new SendBufferFullException(length, cur, limit);
            }
        } while (!buffered.compareAndSet(cur, cur + cost));
        return null;
    }

    /**
     * Writable means a message of the usual large size fits again: room for the largest message
     * (or for half the buffer, if messages may be as large as the buffer), or an empty buffer.
     * A caller woken by whenWritable after a refusal therefore does not spin on the next refusal.
     */
    private boolean writableNow(long bufferedBytes) {
        long room = Math.min(largestMessageCost, limit / 2);
        return bufferedBytes == 0 || bufferedBytes + room <= limit;
    }

    void release(long bytes) {
        long now = buffered.addAndGet(-bytes);
        if (writableNow(now)) {
            CompletableFuture<Void> w;
            synchronized (writableLock) {
                w = writable;
                writable = null;
            }
            if (w != null) {
                w.complete(null);
            }
        }
    }

    /**
     * @param closedCheck the failure if the channel is closed, else null; asked under the lock
     *        that {@link #fail} takes, so a stage is never created after the channel failed them
     * @return a stage completing once writable
     */
    CompletionStage<Void> whenWritable(Supplier<ChannelClosedException> closedCheck) {
        synchronized (writableLock) {
            ChannelClosedException closed = closedCheck.get();
            if (closed != null) {
                return CompletableFuture.failedFuture(closed);
            }
            if (writableNow(buffered.get())) {
                return CompletableFuture.completedFuture(null);
            }
            if (writable == null) {
                writable = new CompletableFuture<>();
            }
            return writable.minimalCompletionStage();
        }
    }

    /** Fails a pending whenWritable (the channel closed). */
    void fail(ChannelClosedException failure) {
        CompletableFuture<Void> w;
        synchronized (writableLock) {
            w = writable;
            writable = null;
        }
        if (w != null) {
            w.completeExceptionally(failure);
        }
    }
}
