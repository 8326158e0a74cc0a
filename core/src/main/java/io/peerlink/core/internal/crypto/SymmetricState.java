package io.peerlink.core.internal.crypto;

import javax.crypto.AEADBadTagException;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;

/**
 * Noise SymmetricState (spec rev 34, section 5.2): chaining key {@code ck}, handshake hash
 * {@code h} and a {@link CipherState}. Not thread-safe.
 */
final class SymmetricState {
    private final NoiseSuite suite;
    private final CipherState cipherState;
    private byte[] chainingKey;
    private byte[] handshakeHash;

    SymmetricState(NoiseSuite suite) {
        this.suite = suite;
        this.cipherState = new CipherState(suite);
        byte[] name = suite.protocolNameBytes();
        // Both names fit in HASHLEN (32), so h is the name zero-padded rather than its hash.
        handshakeHash = name.length <= Hkdf.HASH_LENGTH ? Arrays.copyOf(name, Hkdf.HASH_LENGTH) : sha256(name);
        chainingKey = handshakeHash.clone();
    }

    private SymmetricState(SymmetricState other) {
        this.suite = other.suite;
        this.cipherState = other.cipherState.copy();
        this.chainingKey = other.chainingKey.clone();
        this.handshakeHash = other.handshakeHash.clone();
    }

    SymmetricState copy() {
        return new SymmetricState(this);
    }

    void mixKey(byte[] inputKeyMaterial) {
        byte[][] out = Hkdf.noiseHkdf(chainingKey, inputKeyMaterial, 2);
        Arrays.fill(chainingKey, (byte) 0);
        chainingKey = out[0];
        cipherState.initializeKey(out[1]);
        Arrays.fill(out[1], (byte) 0);
    }

    void mixHash(byte[] data) {
        try {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            digest.update(handshakeHash);
            digest.update(data);
            handshakeHash = digest.digest();
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("SHA-256 is not available in this JVM", e);
        }
    }

    byte[] encryptAndHash(byte[] plaintext) {
        byte[] ciphertext = cipherState.encryptWithAd(handshakeHash, plaintext);
        mixHash(ciphertext);
        return ciphertext;
    }

    byte[] decryptAndHash(byte[] ciphertext) throws AEADBadTagException {
        byte[] plaintext = cipherState.decryptWithAd(handshakeHash, ciphertext);
        mixHash(ciphertext);
        return plaintext;
    }

    boolean hasKey() {
        return cipherState.hasKey();
    }

    byte[] handshakeHash() {
        return handshakeHash.clone();
    }

    /**
     * Noise Split(), extended by a third HKDF output that PeerLink uses as its exporter secret
     * (HKDF's outputs are independent PRF values, so the third reveals nothing of the first two).
     *
     * @return {initiator-to-responder key, responder-to-initiator key, exporter secret}
     */
    byte[][] split() {
        return Hkdf.noiseHkdf(chainingKey, new byte[0], 3);
    }

    void erase() {
        Arrays.fill(chainingKey, (byte) 0);
        cipherState.erase();
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException("SHA-256 is not available in this JVM", e);
        }
    }
}
