package io.peerlink.gateway.internal;

import io.peerlink.gateway.GatewayKey;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.Signature;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Checks a gateway's answer to a challenge. The signed text binds the protocol version, the
 * gateway id and the nonce, so an answer cannot be reused for another gateway or protocol:
 * {@code "peerlink-gateway-auth-v1\n" + gatewayId + "\n" + nonce} (UTF-8).
 */
public final class ChallengeVerifier {

    public static final String HMAC = "HMAC-SHA256";
    public static final String ED25519 = "Ed25519";

    private ChallengeVerifier() {}

    public static byte[] signedText(String gatewayId, String nonce) {
        return ("peerlink-gateway-auth-v1\n" + gatewayId + "\n" + nonce).getBytes(StandardCharsets.UTF_8);
    }

    /** True when {@code proof} is valid for {@code key} under {@code algorithm}; a mismatched algorithm is false. */
    public static boolean verify(GatewayKey key, String algorithm, String gatewayId, String nonce, byte[] proof) {
        byte[] text = signedText(gatewayId, nonce);
        try {
            if (key instanceof GatewayKey.HmacSha256 h && HMAC.equals(algorithm)) {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(new SecretKeySpec(h.secret(), "HmacSHA256"));
                // Constant-time comparison: the MAC must not leak through timing.
                return MessageDigest.isEqual(mac.doFinal(text), proof);
            }
            if (key instanceof GatewayKey.Ed25519 e && ED25519.equals(algorithm)) {
                Signature s = Signature.getInstance("Ed25519");
                s.initVerify(e.publicKey());
                s.update(text);
                return s.verify(proof);
            }
            return false;
        } catch (GeneralSecurityException | IllegalArgumentException ex) {
            // A malformed signature (wrong length, not a point) is simply a wrong answer.
            return false;
        }
    }

    /** Computes the HMAC answer; used by Java gateways and tests. */
    public static byte[] hmac(byte[] secret, String gatewayId, String nonce) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            return mac.doFinal(signedText(gatewayId, nonce));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is mandatory in every JDK", e);
        }
    }
}
