package io.peerlink.core.internal.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;

/**
 * Noise CipherState (spec rev 34, section 5.1): a key {@code k} (or none) and a 64-bit counter
 * nonce {@code n}. Used during the handshake and for the Noise transport messages of the test
 * vectors; the data path uses {@link PacketProtector}, whose nonce is the packet number.
 *
 * <p>Not thread-safe.
 */
final class CipherState {
    /** AEAD tag length of both Noise ciphers. */
    static final int TAG_LENGTH = 16;
    /** 2^64 - 1 is reserved by the spec; as a signed long it is -1. */
    private static final long MAX_NONCE = -1L;

    private final NoiseSuite suite;
    private byte[] key;
    private long nonce;
    private Cipher cipher;
    private final byte[] nonceBytes = new byte[12];

    CipherState(NoiseSuite suite) {
        this.suite = suite;
    }

    /** @return a deep copy (key bytes and nonce); the JCA cipher is not shared */
    CipherState copy() {
        CipherState copy = new CipherState(suite);
        copy.key = key == null ? null : key.clone();
        copy.nonce = nonce;
        return copy;
    }

    void initializeKey(byte[] newKey) {
        erase();
        key = newKey.clone();
        nonce = 0;
    }

    boolean hasKey() {
        return key != null;
    }

    long nonce() {
        return nonce;
    }

    byte[] encryptWithAd(byte[] ad, byte[] plaintext) {
        if (key == null) {
            return plaintext.clone();
        }
        checkNonce();
        try {
            Cipher c = init(Cipher.ENCRYPT_MODE);
            c.updateAAD(ad);
            byte[] out = c.doFinal(plaintext);
            nonce++;
            return out;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.transformation() + " encryption failed", e);
        }
    }

    /**
     * @return the plaintext; the nonce advances only on success, as the spec requires
     * @throws AEADBadTagException if the tag does not verify
     */
    byte[] decryptWithAd(byte[] ad, byte[] ciphertext) throws AEADBadTagException {
        if (key == null) {
            return ciphertext.clone();
        }
        if (ciphertext.length < TAG_LENGTH) {
            throw new AEADBadTagException("ciphertext of " + ciphertext.length + " bytes is shorter than the tag");
        }
        checkNonce();
        try {
            Cipher c = init(Cipher.DECRYPT_MODE);
            c.updateAAD(ad);
            byte[] out = c.doFinal(ciphertext);
            nonce++;
            return out;
        } catch (AEADBadTagException e) {
            // The JDK's ChaCha20-Poly1305 refuses a second init with the same key and nonce; a
            // fresh instance lets the genuine message with this nonce still be read.
            cipher = null;
            throw e;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.transformation() + " decryption failed", e);
        }
    }

    private void checkNonce() {
        if (nonce == MAX_NONCE) {
            throw new IllegalStateException("Noise nonce exhausted (2^64-1 messages on one key)");
        }
    }

    private Cipher init(int mode) throws GeneralSecurityException {
        if (cipher == null) {
            cipher = Cipher.getInstance(suite.transformation());
        }
        suite.encodeNonce(nonce, nonceBytes);
        AlgorithmParameterSpec params = suite == NoiseSuite.AESGCM
                ? new GCMParameterSpec(TAG_LENGTH * 8, nonceBytes)
                : new IvParameterSpec(nonceBytes);
        cipher.init(mode, new SecretKeySpec(key, suite.keyAlgorithm()), params);
        return cipher;
    }

    /** Overwrites the key bytes this object holds (JCA-internal copies are out of reach). */
    void erase() {
        if (key != null) {
            Arrays.fill(key, (byte) 0);
            key = null;
        }
    }

    /** @return a copy of the key, for Split() consumers; null if none */
    byte[] keyCopy() {
        return key == null ? null : key.clone();
    }
}
