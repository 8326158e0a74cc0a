package io.peerlink;

/**
 * Receives {@link LinkEvent}s, on the device's callback executor
 * ({@link Device.Builder#callbackExecutor}), in order with the link's messages, never on the
 * event loop.
 */
@FunctionalInterface
public interface LinkListener {
    /** @param event what happened */
    void onEvent(LinkEvent event);
}
