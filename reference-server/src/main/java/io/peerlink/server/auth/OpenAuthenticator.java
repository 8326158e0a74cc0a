package io.peerlink.server.auth;

import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import java.util.Objects;
import io.peerlink.server.log.RateLimitedLogger;
import org.slf4j.LoggerFactory;

/**
 * {@code open}: admits every device that proves its key into network {@code default}. For labs
 * and demos only: anyone who can reach the server can register and reach every other device, so
 * admissions are logged as WARNINGs (rate-limited: 10 a minute, then a count of those suppressed).
 */
public final class OpenAuthenticator implements Authenticator {
    private static final RateLimitedLogger LOG = RateLimitedLogger.of(LoggerFactory.getLogger(OpenAuthenticator.class));
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
        LOG.warn("OPEN MODE: admitting unvetted device {} from {} into network '{}'", request.deviceId(), request.remoteAddress(),
                NETWORK);
        return new AuthResult.Admitted(NETWORK);
    }
}
