package io.peerlink.protocol.stun;

/**
 * A datagram is not a well-formed STUN message (RFC 8489); the message says exactly what is
 * wrong and at which offset. Has no stack trace: a STUN server sees these for every piece of
 * garbage that reaches its port, and they are data, not bugs.
 */
public final class StunFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, with the offending offset or value */
    public StunFormatException(String message) {
        super(message, null, false, false);
    }
}
