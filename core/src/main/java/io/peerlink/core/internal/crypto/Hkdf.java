package io.peerlink.core.internal.crypto;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.security.GeneralSecurityException;
import java.util.Arrays;

/**
 * HMAC-SHA256 and the two HKDF forms PeerLink uses: Noise's {@code HKDF(chaining_key, ikm, n)}
 * (spec rev 34, section 4.3) and RFC 5869 HKDF-Expand for labelled derivations from a secret.
 */
public final class Hkdf {
    /** SHA-256 output length, Noise's HASHLEN. */
    public static final int HASH_LENGTH = 32;

    private Hkdf() {
    }

    static Mac newMac() {
        try {
            return Mac.getInstance("HmacSHA256");
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("HmacSHA256 is not available in this JVM", e);
        }
    }

    /**
     * @param key the HMAC key (copied by the JDK; the caller may wipe its array afterwards)
     * @return HMAC-SHA256 initialised with that key, for repeated use on one thread
     */
    public static Mac keyedMac(byte[] key) {
        Mac mac = newMac();
        try {
            // An empty HMAC key is legal (RFC 2104) but SecretKeySpec refuses it; a zero block is equivalent.
            mac.init(new SecretKeySpec(key.length == 0 ? new byte[HASH_LENGTH] : key, "HmacSHA256"));
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("cannot key HmacSHA256", e);
        }
        return mac;
    }

    public static byte[] hmac(byte[] key, byte[]... parts) {
        Mac mac = keyedMac(key);
        for (byte[] part : parts) {
            mac.update(part);
        }
        return mac.doFinal();
    }

    /**
     * Noise HKDF: returns {@code outputs} 32-byte values (2 or 3).
     *
     * @param chainingKey Noise's ck
     * @param inputKeyMaterial zero, 32 bytes or a DH output
     * @param outputs 2 or 3
     * @return the outputs, each 32 bytes
     */
    static byte[][] noiseHkdf(byte[] chainingKey, byte[] inputKeyMaterial, int outputs) {
        byte[] tempKey = hmac(chainingKey, inputKeyMaterial);
        byte[][] out = new byte[outputs][];
        byte[] previous = new byte[0];
        for (int i = 0; i < outputs; i++) {
            previous = hmac(tempKey, previous, new byte[] {(byte) (i + 1)});
            out[i] = previous;
        }
        Arrays.fill(tempKey, (byte) 0);
        return out;
    }

    /**
     * RFC 5869 HKDF-Expand.
     *
     * @param secret the pseudo-random key (32 bytes)
     * @param info the label
     * @param length bytes wanted, 1..255*32
     * @return the output keying material
     */
    public static byte[] expand(byte[] secret, byte[] info, int length) {
        if (length < 1 || length > 255 * HASH_LENGTH) {
            throw new IllegalArgumentException("HKDF-Expand length must be 1.." + 255 * HASH_LENGTH + ", got " + length);
        }
        byte[] out = new byte[length];
        byte[] block = new byte[0];
        int done = 0;
        for (int i = 1; done < length; i++) {
            block = hmac(secret, block, info, new byte[] {(byte) i});
            int n = Math.min(HASH_LENGTH, length - done);
            System.arraycopy(block, 0, out, done, n);
            done += n;
        }
        Arrays.fill(block, (byte) 0);
        return out;
    }
}
