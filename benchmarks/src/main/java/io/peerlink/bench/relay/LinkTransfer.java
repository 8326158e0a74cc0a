package io.peerlink.bench.relay;

import io.peerlink.Delivery;
import io.peerlink.ReliableChannel;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A one-way transfer of numbered ordered messages whose bytes derive from their number: the
 * receiver counts every message lost, duplicated, reordered or corrupted, and records when each
 * one was delivered, so a delivery stall around an event (a path change) can be measured.
 */
final class LinkTransfer {
    final int messages;
    final int size;
    private final long[] deliveredAt;
    private final AtomicInteger next = new AtomicInteger();
    private final AtomicLong errors = new AtomicLong();
    private final AtomicLong duplicates = new AtomicLong();
    private final AtomicLong gaps = new AtomicLong();
    private volatile String firstError;
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    private volatile long startedAt;

    LinkTransfer(long bytes, int size) {
        this.size = size;
        this.messages = (int) (bytes / size);
        this.deliveredAt = new long[messages];
    }

    private static void fill(ByteBuffer b, int seq, int size) {
        b.clear();
        b.putInt(seq);
        for (int i = 4; i < size; i++) {
            b.put((byte) (seq * 31 + i));
        }
        b.flip();
    }

    void receiveOn(ReliableChannel channel) {
        channel.onMessage((m, how) -> {
            long now = System.nanoTime();
            int seq = m.getInt(m.position());
            int expected = next.get();
            if (seq < expected) {
                duplicates.incrementAndGet();
                error("message " + seq + " delivered again after " + (expected - 1));
                return;
            }
            if (seq > expected) {
                gaps.addAndGet(seq - expected);
                error("expected message " + expected + ", got " + seq);
            }
            boolean intact = m.remaining() == size;
            for (int i = 4; intact && i < size; i++) {
                intact = m.get(m.position() + i) == (byte) (seq * 31 + i);
            }
            if (!intact) {
                error("message " + seq + " corrupted");
            }
            if (seq < messages) {
                deliveredAt[seq] = now;
            }
            if (next.updateAndGet(n -> Math.max(n, seq + 1)) == messages) {
                complete.complete(null);
            }
        });
    }

    private void error(String what) {
        if (errors.getAndIncrement() == 0) {
            firstError = what;
        }
    }

    /**
     * Sends every message from a new thread, keeping at most half the channel's send buffer
     * unacknowledged: a send's stage reports a full buffer only later, on the callback executor,
     * so the sender must not fill the buffer in the first place.
     */
    CompletableFuture<Void> sendOn(ReliableChannel channel) {
        return CompletableFuture.runAsync(() -> {
            ByteBuffer b = ByteBuffer.allocate(size);
            long limit = Math.max(size, channel.options().sendBufferSize() / 2);
            java.util.ArrayDeque<CompletableFuture<Void>> unacked = new java.util.ArrayDeque<>();
            startedAt = System.nanoTime();
            for (int i = 0; i < messages; i++) {
                while ((long) (unacked.size() + 1) * size > limit) {
                    unacked.poll().orTimeout(120, TimeUnit.SECONDS).join();
                }
                fill(b, i, size);
                unacked.add(channel.send(b, Delivery.ORDERED).toCompletableFuture());
            }
            for (CompletableFuture<Void> f : unacked) {
                f.orTimeout(120, TimeUnit.SECONDS).join();
            }
        });
    }

    void await(long seconds) throws Exception {
        complete.get(seconds, TimeUnit.SECONDS);
    }

    int delivered() {
        return next.get();
    }

    long errors() {
        return errors.get();
    }

    long duplicates() {
        return duplicates.get();
    }

    /** @return messages never delivered (skipped over, or missing at the end) */
    long lost() {
        return gaps.get() + (messages - next.get());
    }

    String firstError() {
        return firstError;
    }

    /** @return MiB/s from the first send to the last delivery */
    double mibPerSecond() {
        long end = deliveredAt[messages - 1];
        return (double) messages * size / (1 << 20) / ((end - startedAt) / 1e9);
    }

    long startedAt() {
        return startedAt;
    }

    /**
     * @param from start of the window, {@link System#nanoTime()}
     * @param to end of the window
     * @return the longest time without a delivery inside the window, in nanoseconds (the
     *         window's edges count as deliveries only when a message was delivered before/after them)
     */
    long longestGap(long from, long to) {
        long prev = -1;
        long longest = 0;
        for (long t : deliveredAt) {
            if (t == 0) {
                continue;
            }
            if (t < from) {
                prev = t;
                continue;
            }
            if (prev >= 0) {
                long gapStart = Math.max(prev, from);
                longest = Math.max(longest, Math.min(t, to) - gapStart);
            }
            if (t > to) {
                break;
            }
            prev = t;
        }
        return longest;
    }

    /** @return the median time between consecutive deliveries over the whole transfer, ns */
    long medianGap() {
        long[] g = new long[messages - 1];
        for (int i = 1; i < messages; i++) {
            g[i - 1] = deliveredAt[i] - deliveredAt[i - 1];
        }
        java.util.Arrays.sort(g);
        return g[g.length / 2];
    }
}
