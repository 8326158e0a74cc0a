package io.peerlink.core.internal.crypto;

import javax.crypto.KeyAgreement;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.interfaces.XECPublicKey;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Objects;

/**
 * X25519 (RFC 7748) on the JDK's {@code XDH} provider, with keys in their raw 32-byte
 * little-endian form as Noise puts them on the wire.
 */
final class X25519 {
    /** Length of a raw X25519 key and of a shared secret (Noise's DHLEN). */
    static final int KEY_LENGTH = 32;
    /** The base point u = 9: X25519(k, 9) is k's public key. */
    private static final byte[] BASE_POINT = basePoint();

    private X25519() {
    }

    /** A private key and its raw public key. */
    static final class KeyPairRaw {
        private final PrivateKey privateKey;
        private final byte[] publicKey;

        KeyPairRaw(PrivateKey privateKey, byte[] publicKey) {
            this.privateKey = privateKey;
            this.publicKey = publicKey;
        }

        PrivateKey privateKey() {
            return privateKey;
        }

        /** @return the raw public key (not a copy; callers must not modify it) */
        byte[] publicKey() {
            return publicKey;
        }
    }

    private static byte[] basePoint() {
        byte[] u = new byte[KEY_LENGTH];
        u[0] = 9;
        return u;
    }

    /** @return a fresh random key pair */
    static KeyPairRaw generate() {
        try {
            KeyPair pair = KeyPairGenerator.getInstance("X25519").generateKeyPair();
            return new KeyPairRaw(pair.getPrivate(), encodePublic(((XECPublicKey) pair.getPublic()).getU()));
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("X25519 is not available in this JVM", e);
        }
    }

    /**
     * Builds a key pair from a raw private scalar (RFC 7748 clamping is applied by the JDK).
     * Used for the published test vectors, whose private keys are fixed.
     *
     * @param rawPrivate 32 bytes
     * @return the key pair
     */
    static KeyPairRaw fromPrivate(byte[] rawPrivate) {
        Objects.requireNonNull(rawPrivate, "rawPrivate");
        if (rawPrivate.length != KEY_LENGTH) {
            throw new IllegalArgumentException("an X25519 private key has 32 bytes, got " + rawPrivate.length);
        }
        try {
            PrivateKey key = KeyFactory.getInstance("XDH")
                    .generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, rawPrivate.clone()));
            byte[] publicKey = agree(key, BASE_POINT);
            return new KeyPairRaw(key, publicKey);
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("X25519 of the base point failed", e);
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("X25519 is not available in this JVM", e);
        }
    }

    /**
     * DH(private, public).
     *
     * @param privateKey ours
     * @param rawPublic theirs, 32 bytes
     * @return the 32-byte shared secret
     * @throws InvalidKeyException if the result is all zero (a small-order public key), which the
     *         JDK refuses, as RFC 7748 section 6.1 allows
     */
    static byte[] agree(PrivateKey privateKey, byte[] rawPublic) throws InvalidKeyException {
        try {
            KeyAgreement agreement = KeyAgreement.getInstance("XDH");
            agreement.init(privateKey);
            agreement.doPhase(decodePublic(rawPublic), true);
            return agreement.generateSecret();
        } catch (InvalidKeyException e) {
            throw e;
        } catch (IllegalStateException e) {
            throw new InvalidKeyException("X25519 refused the public key: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("X25519 is not available in this JVM", e);
        }
    }

    private static PublicKey decodePublic(byte[] raw) throws GeneralSecurityException {
        if (raw.length != KEY_LENGTH) {
            throw new InvalidKeyException("an X25519 public key has 32 bytes, got " + raw.length);
        }
        byte[] bigEndian = new byte[KEY_LENGTH];
        for (int i = 0; i < KEY_LENGTH; i++) {
            bigEndian[i] = raw[KEY_LENGTH - 1 - i];
        }
        // RFC 7748 section 5: the most significant bit of the final byte is masked.
        bigEndian[0] &= 0x7f;
        BigInteger u = new BigInteger(1, bigEndian);
        return KeyFactory.getInstance("XDH").generatePublic(new XECPublicKeySpec(NamedParameterSpec.X25519, u));
    }

    private static byte[] encodePublic(BigInteger u) {
        byte[] bigEndian = u.toByteArray();
        byte[] raw = new byte[KEY_LENGTH];
        // toByteArray may carry a leading sign byte or be shorter than 32 bytes.
        for (int i = 0; i < KEY_LENGTH && i < bigEndian.length; i++) {
            raw[i] = bigEndian[bigEndian.length - 1 - i];
        }
        return raw;
    }
}
