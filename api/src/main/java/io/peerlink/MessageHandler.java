package io.peerlink;

import java.nio.ByteBuffer;

/**
 * Receives messages from a {@link ReliableChannel}. Called on the device's callback executor
 * ({@link Device.Builder#callbackExecutor}), one message at a time and in order, never on the
 * event loop: it may take its time or wait for a stage. The receive window is credited back to
 * the sender when this method returns, so a slow handler slows the sender down (back-pressure)
 * rather than growing a queue.
 */
@FunctionalInterface
public interface MessageHandler {
    /**
     * @param message the whole message, read-only, positioned at 0; valid after the call returns
     *        (the channel does not reuse it)
     * @param delivery how it was sent
     */
    void onMessage(ByteBuffer message, Delivery delivery);
}
