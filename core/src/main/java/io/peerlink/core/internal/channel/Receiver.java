package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.Delivery;
import io.peerlink.MessageHandler;

import java.nio.ByteBuffer;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.concurrent.Executor;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;

/**
 * The receiving half of a channel: reassembly of DATA fragments into messages, delivery in order
 * (or as completed, for unordered messages) to the application's handler, and the flow-control
 * credit granted to the peer (MAX_DATA). Loop-confined, except {@link #setHandler}.
 *
 * <p>Memory is bounded twice: by credit (what the peer may announce: {@code released + held +
 * cost <= granted}) and by the {@link ReceiveBudget} (what reassembly actually allocates, shared
 * with the device's other channels). Violations throw {@link FrameFormatException}, which closes
 * this channel with PROTOCOL_VIOLATION.
 */
final class Receiver {
    private final ChannelOptions options;
    private final ChannelCounters counters;
    private final ReceiveBudget budget;
    private final BooleanSupplier closed;
    private final Executor callbacks;
    private final Consumer<InboundMessage> releaseOnLoop;
    private volatile MessageHandler handler;

    private final MessageWindow orderedWindow = new MessageWindow();
    private final MessageWindow unorderedWindow = new MessageWindow();
    private HashMap<Long, InboundMessage> orderedInbound;
    private HashMap<Long, InboundMessage> unorderedInbound;
    private ArrayDeque<InboundMessage> heldUnordered;
    private long nextToDeliver;

    /** The receive window W: every message up to maxMessageSize fits, with room to spare. */
    private final long window;
    private long creditHeld;
    private long creditReleased;
    private long maxDataGranted;
    private boolean maxDataPending;

    /**
     * @param closed true once the channel closed
     * @param callbacks the link's serial callback executor: the handler runs there, never on the loop
     * @param releaseOnLoop posts {@link #released} back to the loop once the handler returned
     */
    Receiver(ChannelOptions options, ChannelCounters counters, ReceiveBudget budget, BooleanSupplier closed,
             Executor callbacks, Consumer<InboundMessage> releaseOnLoop) {
        this.options = options;
        this.counters = counters;
        this.budget = budget;
        this.closed = closed;
        this.callbacks = callbacks;
        this.releaseOnLoop = releaseOnLoop;
        // The window covers the largest message plus its overhead, with room to spare, so a sender
        // blocked on credit is always unblocked once everything before it is delivered.
        this.window = Math.max(options.receiveWindow(), (long) options.maxMessageSize() + ChannelEngine.MESSAGE_OVERHEAD + 8192);
        this.maxDataGranted = Math.max(ChannelEngine.INITIAL_CREDIT, window);
    }

    /** @param h the application's handler; any thread */
    void setHandler(MessageHandler h) {
        handler = h;
    }

    /** The peer must learn our credit (channel start, or the packet carrying it was lost). */
    void requestMaxData() {
        maxDataPending = true;
    }

    boolean maxDataPending() {
        return maxDataPending;
    }

    long maxDataGranted() {
        return maxDataGranted;
    }

    void maxDataSent() {
        maxDataPending = false;
    }

    /** @return bytes of message data received and not yet delivered to the handler */
    long bufferedBytes() {
        return creditHeld;
    }

    void onData(Frame f) throws FrameFormatException {
        boolean unordered = f.type() == Frame.TYPE_DATA_UNORDERED;
        if (f.messageLength() > options.maxMessageSize()) {
            throw new FrameFormatException("message of " + f.messageLength() + " bytes exceeds maxMessageSize " + options.maxMessageSize());
        }
        MessageWindow w = unordered ? unorderedWindow : orderedWindow;
        long number = f.messageNumber();
        if (w.isComplete(number)) {
            return;
        }
        if (!w.inRange(number)) {
            throw new FrameFormatException("message number " + number + " is more than " + MessageWindow.SPAN
                    + " ahead of the oldest incomplete message " + w.watermark());
        }
        HashMap<Long, InboundMessage> map;
        if (unordered) {
            map = unorderedInbound == null ? (unorderedInbound = new HashMap<>()) : unorderedInbound;
        } else {
            map = orderedInbound == null ? (orderedInbound = new HashMap<>()) : orderedInbound;
        }
        InboundMessage in = map.get(number);
        if (in == null) {
            long cost = f.messageLength() + ChannelEngine.MESSAGE_OVERHEAD;
            if (creditReleased + creditHeld + cost > maxDataGranted) {
                throw new FrameFormatException("flow control: message " + number + " of " + f.messageLength()
                        + " bytes exceeds the credit granted (" + maxDataGranted + ", used " + (creditReleased + creditHeld) + ")");
            }
            creditHeld += cost;
            in = new InboundMessage(number, (int) f.messageLength(), cost, budget);
            map.put(number, in);
        } else if (in.length != f.messageLength()) {
            throw new FrameFormatException("message " + number + " changed length from " + in.length + " to " + f.messageLength());
        }
        in.add(f.source(), f.dataOffset(), (int) f.offset(), f.dataLength());
        if (!in.complete) {
            return;
        }
        in.bytes();
        w.markComplete(number);
        if (unordered) {
            map.remove(number);
            MessageHandler h = handler;
            if (h != null) {
                deliver(h, in, Delivery.UNORDERED);
            } else {
                if (heldUnordered == null) {
                    heldUnordered = new ArrayDeque<>();
                }
                heldUnordered.add(in);
            }
        } else {
            deliverOrdered();
        }
    }

    void onDatagram(Frame f) {
        MessageHandler h = handler;
        if (h == null) {
            return;
        }
        byte[] copy = f.payload();
        ByteBuffer message = ByteBuffer.wrap(copy).asReadOnlyBuffer();
        counters.payloadBytesDelivered += copy.length;
        callbacks.execute(() -> h.onMessage(message, Delivery.UNRELIABLE));
    }

    /** Delivers what waited for a handler. */
    void deliverHeld() throws FrameFormatException {
        MessageHandler h = handler;
        if (h == null || closed.getAsBoolean()) {
            return;
        }
        while (heldUnordered != null && !heldUnordered.isEmpty() && !closed.getAsBoolean()) {
            deliver(h, heldUnordered.poll(), Delivery.UNORDERED);
        }
        deliverOrdered();
    }

    private void deliverOrdered() throws FrameFormatException {
        MessageHandler h = handler;
        if (h == null || orderedInbound == null) {
            return;
        }
        while (!closed.getAsBoolean()) {
            InboundMessage in = orderedInbound.get(nextToDeliver);
            if (in == null || !in.complete) {
                return;
            }
            orderedInbound.remove(nextToDeliver);
            nextToDeliver++;
            deliver(h, in, Delivery.ORDERED);
        }
    }

    /**
     * The handler runs on the link's callback executor, never on the loop (a handler that throws
     * is logged there and the next message is delivered); the message's credit and its memory in
     * the receive budget stay held until it returns, so a slow handler slows the sender
     * (back-pressure) and is bounded by the budget like any reassembly. The message counts as
     * delivered ({@code payloadBytesDelivered}) when it is handed to the handler, as a datagram
     * does: whoever the handler signals sees it in the stats, even if the channel closes before the
     * handler returns.
     */
    private void deliver(MessageHandler h, InboundMessage in, Delivery delivery) throws FrameFormatException {
        ByteBuffer message = ByteBuffer.wrap(in.bytes()).asReadOnlyBuffer();
        counters.payloadBytesDelivered += in.length;
        callbacks.execute(() -> {
            try {
                h.onMessage(message, delivery);
            } finally {
                try {
                    releaseOnLoop.accept(in);
                } catch (RuntimeException loopGone) {
                    // the loop is gone; nothing to credit any more
                }
            }
        });
    }

    /** Loop thread: the handler returned; give the message's window and memory back. */
    void released(InboundMessage in) {
        in.release();
        if (closed.getAsBoolean()) {
            return;
        }
        creditHeld -= in.credit;
        creditReleased += in.credit;
        long extension = creditReleased + window - maxDataGranted;
        if (extension >= window / 4 || (extension >= 4096 && creditHeld == 0)) {
            maxDataGranted += extension;
            maxDataPending = true;
        }
    }

    /** Drops every message and returns its memory to the budget (the channel closed). */
    void close() {
        releaseAll(orderedInbound != null ? orderedInbound.values() : null);
        releaseAll(unorderedInbound != null ? unorderedInbound.values() : null);
        releaseAll(heldUnordered);
        orderedInbound = null;
        unorderedInbound = null;
        heldUnordered = null;
    }

    private static void releaseAll(Iterable<InboundMessage> messages) {
        if (messages != null) {
            for (InboundMessage m : messages) {
                m.release();
            }
        }
    }
}
