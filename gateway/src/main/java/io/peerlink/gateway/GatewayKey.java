package io.peerlink.gateway;

import java.security.PublicKey;
import java.util.Arrays;
import java.util.Objects;

/**
 * The credential a gateway proves possession of when it answers the server's challenge
 * (docs/gateway.md, "Authentication"). MD5 and plain passwords are deliberately not offered.
 */
public sealed interface GatewayKey {

    /** Shared secret for HMAC-SHA256; at least 16 bytes so that it cannot be brute-forced offline. */
    record HmacSha256(byte[] secret) implements GatewayKey {
        public HmacSha256 {
            Objects.requireNonNull(secret, "secret");
            if (secret.length < 16) {
                throw new IllegalArgumentException("HMAC secret must have at least 16 bytes, got " + secret.length);
            }
            secret = secret.clone();
        }

        @Override
        public byte[] secret() {
            return secret.clone();
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof HmacSha256 h && Arrays.equals(secret, h.secret);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(secret);
        }

        @Override
        public String toString() {
            return "HmacSha256[secret=<redacted>]";
        }
    }

    /** Ed25519 public key; the gateway keeps the private key. */
    record Ed25519(PublicKey publicKey) implements GatewayKey {
        public Ed25519 {
            Objects.requireNonNull(publicKey, "publicKey");
            if (!"EdDSA".equals(publicKey.getAlgorithm()) && !"Ed25519".equals(publicKey.getAlgorithm())) {
                throw new IllegalArgumentException("not an Ed25519 key: " + publicKey.getAlgorithm());
            }
        }
    }
}
