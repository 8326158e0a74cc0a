package io.peerlink;

/**
 * A resource-directory operation named a registration the directory does not hold (never
 * registered, removed, or expired). CoAP clients get 4.04 Not Found for the same case.
 */
public class RegistrationNotFoundException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    /** @param location the registration location that was not found */
    public RegistrationNotFoundException(String location) {
        super("no registration at " + location + " (never registered, removed, or expired)");
    }
}
