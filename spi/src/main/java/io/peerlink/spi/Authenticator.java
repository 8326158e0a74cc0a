package io.peerlink.spi;

/**
 * Decides which devices a rendezvous server admits, after the server has verified the device's
 * signature over a fresh nonce. Implementations must be thread-safe and fast (they run on the
 * control connection's thread); found by {@link java.util.ServiceLoader} and selected by
 * {@link #name()} in the server configuration.
 */
public interface Authenticator {

    /** @return the name the server configuration selects this authenticator by, e.g. {@code allow-list} */
    String name();

    /**
     * @param request the proven device identity and its claims
     * @return admitted (with its network) or denied (with a reason); never null
     * @throws NullPointerException if request is null
     */
    AuthResult authenticate(AuthRequest request);
}
