package io.peerlink.core.internal.link;

/** A link set-up datagram (hello, connectivity check) is malformed; it is dropped. */
public final class SetupFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong, with offsets where useful */
    public SetupFormatException(String message) {
        super(message, null, false, false);
    }
}
