package io.peerlink.core.internal.crypto;

import java.util.Objects;

/**
 * A handshake message was refused. The {@link Reason} says why; the handshake state is exactly as
 * it was before the refused message (a refused message is as if never received), so an integrator
 * can keep waiting for the genuine message after an injected or duplicated one.
 */
public final class HandshakeException extends Exception {
    /** Why a message was refused. */
    public enum Reason {
        /** Wrong length for its position in the pattern (truncated, oversized, trailing bytes). */
        MALFORMED_MESSAGE,
        /** The identity payload inside a message does not parse. */
        MALFORMED_PAYLOAD,
        /** An AEAD tag did not verify: tampered, wrong keys, wrong prologue or wrong suite. */
        DECRYPTION_FAILED,
        /** A received X25519 public key gave a small-order (all-zero) shared secret. */
        INVALID_PUBLIC_KEY,
        /** The Ed25519 signature over the static key does not verify. */
        BAD_IDENTITY_SIGNATURE,
        /** The verified identity is not the device the caller expected. */
        UNEXPECTED_PEER,
        /** The message repeats the last message this side already accepted (a retransmission). */
        DUPLICATE,
        /** A message arrived when this side has nothing left to read (its turn to write, or done). */
        UNEXPECTED_MESSAGE
    }

    private final Reason reason;

    /**
     * @param reason why
     * @param message details for logs
     */
    public HandshakeException(Reason reason, String message) {
        super(reason + ": " + message);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /**
     * @param reason why
     * @param message details for logs
     * @param cause the underlying failure
     */
    public HandshakeException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return why the message was refused */
    public Reason reason() {
        return reason;
    }
}
