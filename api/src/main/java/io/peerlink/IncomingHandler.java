package io.peerlink;

/**
 * Decides on incoming link requests. Called on an event thread: decide quickly, or keep the
 * request and decide later (the requester times out after its connect timeout).
 */
@FunctionalInterface
public interface IncomingHandler {
    /** @param request the request to accept or reject */
    void onIncoming(IncomingRequest request);
}
