package io.peerlink.cdi;

import io.peerlink.PeerLinkException;

/**
 * The device configuration is missing a required key or holds a value that cannot be used. The
 * message names the key, and the value where there is one.
 */
public class PeerLinkConfigurationException extends PeerLinkException {
    /** @param message what is wrong, naming the key */
    public PeerLinkConfigurationException(String message) {
        super(message);
    }

    /**
     * @param message what is wrong, naming the key
     * @param cause the underlying failure
     */
    public PeerLinkConfigurationException(String message, Throwable cause) {
        super(message, cause);
    }
}
