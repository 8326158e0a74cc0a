package io.peerlink.relay.turn;

import io.peerlink.Delivery;
import io.peerlink.ReliableChannel;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A paced transfer of numbered ordered messages whose bytes derive from their number: the
 * receiver records every message lost, duplicated, reordered or corrupted.
 */
final class LinkTransfer {
    final int messages;
    final int size;
    private final long pauseMillis;
    private final AtomicInteger next = new AtomicInteger();
    private final List<String> errors = new ArrayList<>();
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    private volatile CountDownLatch milestone = new CountDownLatch(0);
    private volatile int milestoneAt = -1;

    LinkTransfer(int messages, int size, long pauseMillis) {
        this.messages = messages;
        this.size = size;
        this.pauseMillis = pauseMillis;
    }

    static byte[] message(int seq, int size) {
        byte[] b = new byte[size];
        ByteBuffer.wrap(b).putInt(seq);
        for (int i = 4; i < size; i++) {
            b[i] = (byte) (seq * 31 + i);
        }
        return b;
    }

    void receiveOn(ReliableChannel channel) {
        channel.onMessage((m, how) -> {
            byte[] got = new byte[m.remaining()];
            m.get(got);
            int expected = next.get();
            int seq = ByteBuffer.wrap(got).getInt();
            synchronized (errors) {
                if (seq != expected) {
                    errors.add("expected message " + expected + ", got " + seq);
                } else if (!java.util.Arrays.equals(got, message(seq, size))) {
                    errors.add("message " + seq + " corrupted");
                }
            }
            int n = next.incrementAndGet();
            if (n == milestoneAt) {
                milestone.countDown();
            }
            if (n == messages) {
                complete.complete(null);
            }
        });
    }

    /** @return a latch released once {@code count} messages have arrived */
    CountDownLatch after(int count) {
        CountDownLatch l = new CountDownLatch(1);
        milestone = l;
        milestoneAt = count;
        if (next.get() >= count) {
            l.countDown();
        }
        return l;
    }

    int received() {
        return next.get();
    }

    /**
     * Sends every message on a new thread, keeping at most half the channel's send buffer
     * unacknowledged (a full buffer is reported only later, on the callback executor).
     */
    CompletableFuture<Void> sendOn(ReliableChannel channel) {
        return CompletableFuture.runAsync(() -> {
            long limit = Math.max(size, channel.options().sendBufferSize() / 2);
            java.util.ArrayDeque<CompletableFuture<Void>> unacked = new java.util.ArrayDeque<>();
            for (int i = 0; i < messages; i++) {
                while ((long) (unacked.size() + 1) * size > limit) {
                    unacked.poll().orTimeout(60, TimeUnit.SECONDS).join();
                }
                unacked.add(channel.send(ByteBuffer.wrap(message(i, size)), Delivery.ORDERED).toCompletableFuture());
                if (pauseMillis > 0) {
                    try {
                        Thread.sleep(pauseMillis);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                }
            }
            CompletableFuture.allOf(unacked.toArray(CompletableFuture[]::new)).orTimeout(60, TimeUnit.SECONDS).join();
        });
    }

    /** Waits for every message; fails on the first error seen. */
    void awaitIntact(long seconds) throws Exception {
        complete.get(seconds, TimeUnit.SECONDS);
        synchronized (errors) {
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.size() + " errors, first: " + errors.get(0));
            }
        }
        if (next.get() != messages) {
            throw new AssertionError("received " + next.get() + " of " + messages);
        }
    }
}
