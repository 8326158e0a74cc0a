package io.peerlink.protocol.rendezvous;

import java.util.Objects;

/** A rendezvous message could not be decoded or violates the protocol; carries the error code to send back. */
public final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;
    private final ErrorCode code;

    /**
     * @param code the protocol error code
     * @param message what is wrong, naming the field
     */
    public ProtocolException(ErrorCode code, String message) {
        super(message);
        this.code = Objects.requireNonNull(code, "code");
    }

    /** @return the error code to put in the {@code error} message */
    public ErrorCode code() {
        return code;
    }
}
