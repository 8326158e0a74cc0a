package io.peerlink.core.internal.punch;

/** Connectivity checks found no working candidate pair. */
public final class NoPathException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what was tried */
    public NoPathException(String message) {
        super(message);
    }
}
