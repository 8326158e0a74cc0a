package io.peerlink.testkit;

import io.peerlink.Delivery;
import io.peerlink.ReliableChannel;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A one-way transfer of numbered {@link Delivery#ORDERED} messages whose bytes derive from their
 * number, over a real link's {@link ReliableChannel}: the receiver records every message lost,
 * duplicated, reordered or corrupted, so a test can move, break or restart the path mid-transfer and
 * then require the transfer intact. Optionally paced (a pause after each message), so that it lasts
 * long enough on a fast loopback for something to happen during it.
 *
 * <pre>{@code
 * NumberedTransfer t = new NumberedTransfer(600, 16 << 10, 1);
 * t.receiveOn(accepted.channel());
 * CompletableFuture<Void> sending = t.sendOn(dialed.channel());
 * t.after(150).await(20, TimeUnit.SECONDS);   // under way: now move the path
 * t.awaitIntact(30);
 * }</pre>
 */
public final class NumberedTransfer {
    private final int messages;
    private final int size;
    private final long pauseMillis;
    private final AtomicInteger next = new AtomicInteger();
    private final List<String> errors = new ArrayList<>();
    private final CompletableFuture<Void> complete = new CompletableFuture<>();
    private volatile CountDownLatch milestone = new CountDownLatch(0);
    private volatile int milestoneAt = -1;

    /**
     * An unpaced transfer.
     *
     * @param messages how many messages
     * @param size bytes per message, at least 4 (the number)
     */
    public NumberedTransfer(int messages, int size) {
        this(messages, size, 0);
    }

    /**
     * @param messages how many messages
     * @param size bytes per message, at least 4 (the number)
     * @param pauseMillis the sender's pause after each message, 0 for none
     * @throws IllegalArgumentException if {@code messages} is not positive, {@code size} below 4 or the pause negative
     */
    public NumberedTransfer(int messages, int size, long pauseMillis) {
        if (messages <= 0 || size < 4 || pauseMillis < 0) {
            throw new IllegalArgumentException("messages must be positive, size at least 4 and the pause not negative: "
                    + messages + ", " + size + ", " + pauseMillis);
        }
        this.messages = messages;
        this.size = size;
        this.pauseMillis = pauseMillis;
    }

    /**
     * @param seq the message's number
     * @param size its length
     * @return the message's bytes: the number (big-endian int), then bytes derived from it
     */
    public static byte[] message(int seq, int size) {
        byte[] b = new byte[size];
        ByteBuffer.wrap(b).putInt(seq);
        for (int i = 4; i < size; i++) {
            b[i] = (byte) (seq * 31 + i);
        }
        return b;
    }

    /** @return how many messages the transfer sends */
    public int messages() {
        return messages;
    }

    /** @param channel the receiving side's channel; its message handler is replaced */
    public void receiveOn(ReliableChannel channel) {
        channel.onMessage((m, how) -> {
            byte[] got = new byte[m.remaining()];
            m.get(got);
            int expected = next.get();
            int seq = got.length >= 4 ? ByteBuffer.wrap(got).getInt() : -1;
            synchronized (errors) {
                if (seq != expected) {
                    errors.add("expected message " + expected + ", got " + seq);
                } else if (!Arrays.equals(got, message(seq, size))) {
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

    /**
     * @param count messages received
     * @return a latch released once that many have arrived (at once if they have)
     */
    public CountDownLatch after(int count) {
        CountDownLatch l = new CountDownLatch(1);
        milestone = l;
        milestoneAt = count;
        if (next.get() >= count) {
            l.countDown();
        }
        return l;
    }

    /** @return messages received so far */
    public int received() {
        return next.get();
    }

    /**
     * Sends every message on a new thread, keeping at most half the channel's send buffer
     * unacknowledged, so the buffer never fills (a full buffer may be reported only later, on the
     * callback executor).
     *
     * @param channel the sending side's channel
     * @return completes when every message is acknowledged; fails if one is not within 60 s of its turn
     */
    public CompletableFuture<Void> sendOn(ReliableChannel channel) {
        return CompletableFuture.runAsync(() -> {
            long limit = Math.max(size, channel.options().sendBufferSize() / 2);
            ArrayDeque<CompletableFuture<Void>> unacked = new ArrayDeque<>();
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

    /**
     * Waits for every message and fails on the first error seen.
     *
     * @param seconds how long to wait for the last message
     * @throws AssertionError if a message was lost, duplicated, reordered or corrupted
     * @throws TimeoutException if not every message arrived in time
     * @throws InterruptedException if interrupted while waiting
     * @throws ExecutionException never in practice (the completion is never exceptional)
     */
    public void awaitIntact(long seconds) throws InterruptedException, ExecutionException, TimeoutException {
        complete.get(seconds, TimeUnit.SECONDS);
        synchronized (errors) {
            if (!errors.isEmpty()) {
                throw new AssertionError(errors.size() + " errors, first: " + errors.get(0));
            }
        }
        if (next.get() != messages) {
            throw new AssertionError("received " + next.get() + " of " + messages + " messages");
        }
    }
}
