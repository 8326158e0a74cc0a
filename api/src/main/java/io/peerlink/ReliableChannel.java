package io.peerlink;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * Ordered, reliable, flow- and congestion-controlled messages over an unreliable datagram path,
 * with an unordered-reliable mode and unreliable datagrams alongside. Obtained from a
 * {@link PeerLink}. All methods are thread-safe and never block. Every stage it returns completes
 * on the device's callback executor ({@link Device.Builder#callbackExecutor}), never on the
 * event loop.
 *
 * <p>Lifecycle: OPEN → CLOSING (after {@link #close()}: no new sends, outstanding data is still
 * delivered) → CLOSED; {@link #abort()} or a failure moves any state straight to CLOSED.
 */
public interface ReliableChannel {

    /**
     * Sends a message reliably and in order. The bytes between the buffer's position and limit
     * are copied before this method returns, so the caller may reuse the buffer.
     *
     * @param message the message, 0..{@link ChannelOptions#maxMessageSize()} bytes
     * @return completes when the peer has acknowledged every byte; fails with
     *         {@link ChannelClosedException} if the channel closes first, or
     *         {@link SendBufferFullException} if the send buffer cannot take the message
     * @throws NullPointerException if message is null
     * @throws IllegalArgumentException if the message is larger than maxMessageSize
     */
    CompletionStage<Void> send(ByteBuffer message);

    /**
     * Sends a message with the given delivery mode. For {@link Delivery#UNRELIABLE} the stage
     * completes once the datagram is handed to the transport.
     *
     * @param message the message
     * @param delivery how to deliver it
     * @return as for {@link #send(ByteBuffer)}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the message is too large for the mode: maxMessageSize
     *         for reliable modes, {@link #maxUnreliableSize()} for UNRELIABLE
     */
    CompletionStage<Void> send(ByteBuffer message, Delivery delivery);

    /** @return the largest message {@link Delivery#UNRELIABLE} can carry on the current path */
    int maxUnreliableSize();

    /**
     * Sets the receiver of messages. Messages arriving before a handler is set are held (within
     * the receive window) and delivered once it is set.
     *
     * @param handler the handler
     * @throws NullPointerException if handler is null
     */
    void onMessage(MessageHandler handler);

    /**
     * @return completes when the send buffer has room again (at once if it has room now); fails
     *         with {@link ChannelClosedException} if the channel closes
     */
    CompletionStage<Void> whenWritable();

    /**
     * Closes gracefully: refuses new sends, delivers and waits for acknowledgement of everything
     * already sent, then tells the peer. Aborts if that takes longer than
     * {@link ChannelOptions#closeTimeout()}. Idempotent.
     *
     * @return completes when the channel is closed
     */
    CompletionStage<CloseReason> close();

    /**
     * Closes at once: tells the peer, fails every pending send with
     * {@link ChannelClosedException}, discards buffered data. Idempotent.
     */
    void abort();

    /** @return completes with the reason once the channel is closed, however it closed */
    CompletionStage<CloseReason> closed();

    /** @return true until the channel starts closing */
    boolean isOpen();

    /** @return a snapshot of the channel's counters */
    ChannelStats stats();

    /** @return the options the channel runs with */
    ChannelOptions options();
}
