package io.peerlink.core.internal.channel;

import io.peerlink.Delivery;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

/** A message being sent: its private copy, fragmentation progress and acknowledgement count. */
final class OutboundMessage {
    final ByteBuffer data;
    final int length;
    final Delivery delivery;
    final CompletableFuture<Void> future;
    /** Bytes reserved in the send buffer (length + per-message overhead). */
    final long reserved;
    long number = -1;
    /** Next byte to send for the first time. */
    int nextOffset;
    boolean started;
    int unackedFragments;
    boolean done;

    OutboundMessage(ByteBuffer data, Delivery delivery, CompletableFuture<Void> future, long reserved) {
        this.data = data;
        this.length = data.remaining();
        this.delivery = delivery;
        this.future = future;
        this.reserved = reserved;
    }

    boolean fullySent() {
        return nextOffset >= length && started;
    }

    boolean unordered() {
        return delivery == Delivery.UNORDERED;
    }
}
