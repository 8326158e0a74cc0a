package io.peerlink.core.internal.crypto;

/**
 * The JVM lacks an algorithm PeerLink needs (X25519, AES-GCM, ChaCha20-Poly1305, SHA-256,
 * HMAC-SHA256 or Ed25519). Every Java 17 runtime has them; seeing this means a stripped or
 * restricted security configuration.
 */
public final class CryptoUnavailableException extends RuntimeException {
    /**
     * @param message what is missing
     * @param cause the JCA failure
     */
    public CryptoUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
