package io.peerlink.core.internal.rendezvous;

/**
 * The target side's answer to an incoming connect request. Exactly one of {@link #accept()} or
 * {@link #reject(String)} takes effect; later calls are ignored. May be called from any thread,
 * at once or later (the server times the request out after its connect timeout).
 */
public interface IncomingDecision {
    /** Accepts: both sides receive an introduction. */
    void accept();

    /** @param reason told to the requester (at most 512 characters) */
    void reject(String reason);
}
