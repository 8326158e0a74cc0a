package io.peerlink.server.auth;

import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import java.util.Objects;
import java.util.logging.Logger;

/**
 * {@code open}: admits every device that proves its key into network {@code default}. For labs
 * and demos only: anyone who can reach the server can register and reach every other device, so
 * each admission is logged as a WARNING.
 */
public final class OpenAuthenticator implements Authenticator {
    private static final Logger LOG = Logger.getLogger(OpenAuthenticator.class.getName());
    /** The network every device is admitted into. */
    public static final String NETWORK = "default";

    /** Used by {@link java.util.ServiceLoader}. */
    public OpenAuthenticator() {
    }

    @Override
    public String name() {
        return "open";
    }

    @Override
    public AuthResult authenticate(AuthRequest request) {
        Objects.requireNonNull(request, "request");
        LOG.warning(() -> "OPEN MODE: admitting unvetted device " + request.deviceId() + " from " + request.remoteAddress()
                + " into network '" + NETWORK + "'");
        return new AuthResult.Admitted(NETWORK);
    }
}
