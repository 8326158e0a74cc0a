package io.peerlink;

import java.util.concurrent.CompletionStage;

/** A peer wants a link with this device. Exactly one of accept or reject should be called. */
public interface IncomingRequest {

    /**
     * @return the requesting device, verified: a direct request reaches the application only after
     *         the secure handshake proved this identity; a rendezvous request names the device the
     *         server admitted, and the link's handshake must prove it again
     */
    DeviceId from();

    /**
     * Accepts: takes part in path establishment.
     *
     * @return completes with the link; fails with {@link UnreachableException} if no path works
     * @throws IllegalStateException if accept or reject was already called
     */
    CompletionStage<PeerLink> accept();

    /**
     * Rejects; the requester's connect fails with {@link UnreachableException.Reason#REJECTED}.
     *
     * @param reason why, sent to the requester
     * @throws IllegalStateException if accept or reject was already called
     */
    void reject(String reason);
}
