package io.peerlink;

/** A device identity (key file) is missing, unreadable, corrupt or belongs to another device. */
public class IdentityException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong with the identity, naming the file */
    public IdentityException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong with the identity, naming the file
     * @param cause the underlying failure
     */
    public IdentityException(String message, Throwable cause) {
        super(message, cause);
    }
}
