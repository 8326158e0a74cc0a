package io.peerlink.server.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

import java.util.Locale;
import java.util.Objects;

/**
 * Verifies the Ed25519 signature of a hello. By default with BouncyCastle's RFC 8032
 * implementation ({@code org.bouncycastle.math.ec.rfc8032.Ed25519}, no JCA provider installed),
 * which costs about a tenth of JDK 17's pure-Java EdDSA per verification (docs/benchmarks.md,
 * "Re-admission storm"): the difference between minutes and seconds when ten thousand devices
 * come back after a restart. Both reject non-canonical S (S >= L) and public keys that are not
 * curve points; a signature either accepts is a valid RFC 8032 signature.
 *
 * <p>The system property {@code peerlink.server.ed25519=jdk} selects the JDK's implementation
 * instead (kept for the benchmark's same-run baseline and as a fallback).
 */
public final class Ed25519Verifier {
    /** Which implementation verifies: {@code bouncycastle} (default) or {@code jdk}. */
    public static final String PROPERTY = "peerlink.server.ed25519";
    private static final boolean JDK = "jdk".equals(System.getProperty(PROPERTY, "bouncycastle").toLowerCase(Locale.ROOT));

    private Ed25519Verifier() {
    }

    /**
     * @param rawPublicKey raw 32-byte public key
     * @param message the signed message
     * @param signature 64-byte signature
     * @return true if the signature is valid; false for any malformed input (never throws for hostile input)
     * @throws NullPointerException if an argument is null
     */
    public static boolean verify(byte[] rawPublicKey, byte[] message, byte[] signature) {
        return JDK ? DeviceIdentity.verify(rawPublicKey, message, signature) : verifyBouncyCastle(rawPublicKey, message, signature);
    }

    /**
     * BouncyCastle's verification, whatever the property says.
     *
     * @param rawPublicKey raw 32-byte public key
     * @param message the signed message
     * @param signature 64-byte signature
     * @return true if valid
     */
    public static boolean verifyBouncyCastle(byte[] rawPublicKey, byte[] message, byte[] signature) {
        Objects.requireNonNull(rawPublicKey, "rawPublicKey");
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(signature, "signature");
        if (rawPublicKey.length != Ed25519.PUBLIC_KEY_SIZE || signature.length != Ed25519.SIGNATURE_SIZE) {
            return false;
        }
        try {
            return Ed25519.verify(signature, 0, rawPublicKey, 0, message, 0, message.length);
        } catch (RuntimeException e) {
            // A malformed point is a failed verification, not an error.
            return false;
        }
    }

    /** @return the implementation in use, for the start-up log: {@code bouncycastle} or {@code jdk} */
    public static String implementation() {
        return JDK ? "jdk" : "bouncycastle";
    }
}
