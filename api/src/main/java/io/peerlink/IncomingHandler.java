package io.peerlink;

/**
 * Decides on incoming link requests. Called on the device's callback executor
 * ({@link Device.Builder#callbackExecutor}), one request at a time, never on the event loop:
 * decide now, or keep the request and decide later (the requester times out after its connect
 * timeout).
 */
@FunctionalInterface
public interface IncomingHandler {
    /** @param request the request to accept or reject */
    void onIncoming(IncomingRequest request);
}
