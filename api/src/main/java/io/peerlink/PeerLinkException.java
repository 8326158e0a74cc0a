package io.peerlink;

/**
 * The root of every exception PeerLink throws. Unchecked: a caller that wants to treat all
 * PeerLink failures alike catches this one type.
 */
public class PeerLinkException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** @param message what went wrong, phrased for the person reading the log */
    public PeerLinkException(String message) {
        super(message);
    }

    /**
     * @param message what went wrong
     * @param cause the underlying failure
     */
    public PeerLinkException(String message, Throwable cause) {
        super(message, cause);
    }
}
