package io.peerlink.core.internal.crypto;

import java.nio.charset.StandardCharsets;

/**
 * The two Noise protocols PeerLink speaks: pattern XX, DH 25519, hash SHA-256, and one of the two
 * Noise ciphers. Both sides of a link must use the same suite (it is mixed into the handshake hash,
 * so a mismatch fails the handshake at the first encrypted message).
 *
 * <p>The ciphers differ in how a 64-bit Noise nonce becomes the AEAD's 96-bit nonce (Noise spec
 * rev 34, section 12): AESGCM puts 32 zero bits and then the nonce big-endian, ChaChaPoly 32 zero
 * bits and then the nonce little-endian.
 */
public enum NoiseSuite {
    /** {@code Noise_XX_25519_AESGCM_SHA256}: AES-256-GCM, big-endian nonce. */
    AESGCM("Noise_XX_25519_AESGCM_SHA256", "AES/GCM/NoPadding", "AES", true),
    /** {@code Noise_XX_25519_ChaChaPoly_SHA256}: ChaCha20-Poly1305 (RFC 8439), little-endian nonce. */
    CHACHAPOLY("Noise_XX_25519_ChaChaPoly_SHA256", "ChaCha20-Poly1305", "ChaCha20", false);

    /**
     * The suite links use unless configured otherwise: AES-GCM, because the JDK 17 AES-GCM is
     * intrinsified and measured several times faster than its ChaCha20-Poly1305 for a 1,200-byte
     * packet (docs/benchmarks.md, "AEAD and handshake").
     */
    public static final NoiseSuite DEFAULT = AESGCM;

    private final String protocolName;
    private final String transformation;
    private final String keyAlgorithm;
    private final boolean bigEndianNonce;

    NoiseSuite(String protocolName, String transformation, String keyAlgorithm, boolean bigEndianNonce) {
        this.protocolName = protocolName;
        this.transformation = transformation;
        this.keyAlgorithm = keyAlgorithm;
        this.bigEndianNonce = bigEndianNonce;
    }

    /** @return the Noise protocol name, e.g. {@code Noise_XX_25519_AESGCM_SHA256} */
    public String protocolName() {
        return protocolName;
    }

    byte[] protocolNameBytes() {
        return protocolName.getBytes(StandardCharsets.US_ASCII);
    }

    /** @return the JCA cipher transformation */
    String transformation() {
        return transformation;
    }

    /** @return the JCA key algorithm name for {@code SecretKeySpec} */
    String keyAlgorithm() {
        return keyAlgorithm;
    }

    /**
     * Writes the 12-byte AEAD nonce for a 64-bit Noise nonce into {@code out[0..12)}.
     *
     * @param nonce the Noise nonce (or packet number)
     * @param out a 12-byte array, overwritten
     */
    void encodeNonce(long nonce, byte[] out) {
        out[0] = 0;
        out[1] = 0;
        out[2] = 0;
        out[3] = 0;
        for (int i = 0; i < 8; i++) {
            int shift = bigEndianNonce ? 56 - 8 * i : 8 * i;
            out[4 + i] = (byte) (nonce >>> shift);
        }
    }

    /**
     * Finds a suite by its Noise protocol name.
     *
     * @param protocolName e.g. {@code Noise_XX_25519_ChaChaPoly_SHA256}
     * @return the suite
     * @throws IllegalArgumentException if PeerLink does not implement that protocol
     */
    public static NoiseSuite forProtocolName(String protocolName) {
        for (NoiseSuite suite : values()) {
            if (suite.protocolName.equals(protocolName)) {
                return suite;
            }
        }
        throw new IllegalArgumentException("unsupported Noise protocol " + protocolName
                + " (supported: Noise_XX_25519_AESGCM_SHA256, Noise_XX_25519_ChaChaPoly_SHA256)");
    }
}
