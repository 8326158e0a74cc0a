package io.peerlink.server.rendezvous;

import io.peerlink.protocol.rendezvous.ErrorCode;

/**
 * What the rendezvous service reports to observers such as the metrics (docs/operations.md).
 * Called on the connection's or the timer thread, so implementations must be cheap and
 * thread-safe; they must not call back into the service.
 */
public interface RendezvousEvents {
    /** Observes nothing. */
    RendezvousEvents NONE = new RendezvousEvents() {
    };

    /** @param network the network a device was admitted into */
    default void admitted(String network) {
    }

    /** A connection closed before admission. @param reason the error code it was answered with */
    default void refused(ErrorCode reason) {
    }

    /** Two devices were introduced to each other. */
    default void introduced() {
    }

    /** A connect request ended without an introduction. @param reason why, as told to the requester */
    default void unreachable(io.peerlink.UnreachableException.Reason reason) {
    }
}
