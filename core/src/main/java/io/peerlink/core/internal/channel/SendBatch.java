package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;

/**
 * The packets one flush of a channel builds, sent together by one {@link DatagramPath#sendBatch}
 * when the path {@linkplain DatagramPath#batches() batches} (the UDP transport's {@code sendmmsg}
 * or segmentation offload). One per event-loop thread, reused by every channel on that loop, so an
 * idle channel holds no packet buffers; a flush that starts while the thread's batch is in use (a
 * transport that delivers synchronously into another channel on the same thread) gets a fresh one.
 * Loop-confined.
 */
final class SendBatch {
    private static final ThreadLocal<SendBatch> PER_THREAD = new ThreadLocal<>();

    private final ByteBuffer[] buffers;
    private int count;
    private boolean inUse;

    private SendBatch(int capacity) {
        buffers = new ByteBuffer[capacity];
    }

    /**
     * @param capacity packets a flush may build
     * @return this thread's batch, empty, or a new one if it is in use
     */
    static SendBatch acquire(int capacity) {
        SendBatch b = PER_THREAD.get();
        if (b == null || b.buffers.length < capacity) {
            b = new SendBatch(capacity);
            PER_THREAD.set(b);
        } else if (b.inUse) {
            b = new SendBatch(capacity);
        }
        b.inUse = true;
        b.count = 0;
        return b;
    }

    /** Hands the batch back; the buffers stay for the thread's next flush. */
    void release() {
        count = 0;
        inUse = false;
    }

    /**
     * @param size bytes the packet needs (the channel's datagram size)
     * @return the buffer for the next packet, cleared; {@link #add()} keeps it in the batch
     */
    ByteBuffer next(int size) {
        if (count == buffers.length) {
            throw new IllegalStateException("send batch full: " + count + " packets");
        }
        ByteBuffer b = buffers[count];
        if (b == null || b.capacity() < size) {
            b = ByteBuffer.allocate(size);
            buffers[count] = b;
        }
        b.clear();
        return b;
    }

    /** Keeps the buffer {@link #next} returned last, flipped to its packet, in the batch. */
    void add() {
        count++;
    }

    /** @return packets waiting */
    int size() {
        return count;
    }

    /**
     * Sends the waiting packets and empties the batch.
     *
     * @param path where they go
     */
    void sendTo(DatagramPath path) {
        if (count == 0) {
            return;
        }
        int n = count;
        count = 0;
        // The buffers behind index n are reused by the next packets only after this returns.
        path.sendBatch(buffers, n);
    }
}
