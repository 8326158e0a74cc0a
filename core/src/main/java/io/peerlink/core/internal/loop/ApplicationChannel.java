package io.peerlink.core.internal.loop;

import io.peerlink.ChannelOptions;
import io.peerlink.ChannelStats;
import io.peerlink.CloseReason;
import io.peerlink.Delivery;
import io.peerlink.MessageHandler;
import io.peerlink.ReliableChannel;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletionStage;

/**
 * The application's view of a channel: the same channel, but every stage it returns is a
 * {@link CallbackFuture} completed on the callback executor, so an application's dependent
 * actions never run on the event loop, and waiting for one there fails fast.
 */
public final class ApplicationChannel implements ReliableChannel {
    private final ReliableChannel channel;
    private final Callbacks callbacks;

    /**
     * @param channel the runtime's channel, whose stages complete on the loop
     * @param callbacks the device's callbacks
     */
    public ApplicationChannel(ReliableChannel channel, Callbacks callbacks) {
        this.channel = channel;
        this.callbacks = callbacks;
    }

    @Override
    public CompletionStage<Void> send(ByteBuffer message) {
        return callbacks.expose(channel.send(message));
    }

    @Override
    public CompletionStage<Void> send(ByteBuffer message, Delivery delivery) {
        return callbacks.expose(channel.send(message, delivery));
    }

    @Override
    public int maxUnreliableSize() {
        return channel.maxUnreliableSize();
    }

    @Override
    public void onMessage(MessageHandler handler) {
        channel.onMessage(handler);
    }

    @Override
    public CompletionStage<Void> whenWritable() {
        return callbacks.expose(channel.whenWritable());
    }

    @Override
    public CompletionStage<CloseReason> close() {
        return callbacks.expose(channel.close());
    }

    @Override
    public void abort() {
        channel.abort();
    }

    @Override
    public CompletionStage<CloseReason> closed() {
        return callbacks.expose(channel.closed());
    }

    @Override
    public boolean isOpen() {
        return channel.isOpen();
    }

    @Override
    public ChannelStats stats() {
        return channel.stats();
    }

    @Override
    public ChannelOptions options() {
        return channel.options();
    }

    @Override
    public String toString() {
        return channel.toString();
    }
}
