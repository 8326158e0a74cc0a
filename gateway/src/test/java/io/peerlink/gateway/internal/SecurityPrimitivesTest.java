package io.peerlink.gateway.internal;

import io.peerlink.gateway.GatewayKey;

import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.Signature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SecurityPrimitivesTest {

    @Test
    void nonceIsSingleUseBoundToItsConnectionAndExpires() {
        NonceRegistry r = new NonceRegistry(1_000);
        String n = r.issue("c1", 0);
        assertEquals(NonceRegistry.Verdict.UNKNOWN_NONCE, r.consume(n, "c2", 10));
        // Consumed by the wrong connection: gone for the right one too.
        assertEquals(NonceRegistry.Verdict.UNKNOWN_NONCE, r.consume(n, "c1", 10));
        String m = r.issue("c1", 0);
        assertEquals(NonceRegistry.Verdict.OK, r.consume(m, "c1", 1_000));
        assertEquals(NonceRegistry.Verdict.UNKNOWN_NONCE, r.consume(m, "c1", 1_000));
        String old = r.issue("c1", 0);
        assertEquals(NonceRegistry.Verdict.EXPIRED_NONCE, r.consume(old, "c1", 1_001));
        r.issue("c1", 0);
        r.issue("c2", 5_000);
        r.sweep(2_000);
        assertEquals(1, r.size());
        r.forget("c2");
        assertEquals(0, r.size());
    }

    @Test
    void tokenBucketRefillsAtItsRate() {
        TokenBucket b = new TokenBucket(2, 3, 0);
        assertTrue(b.tryTake(0));
        assertTrue(b.tryTake(0));
        assertTrue(b.tryTake(0));
        assertFalse(b.tryTake(0));
        assertFalse(b.tryTake(400_000_000L));
        assertTrue(b.tryTake(500_000_000L));
        assertFalse(b.isFull(500_000_000L));
        assertTrue(b.isFull(2_000_000_000L));
    }

    @Test
    void hmacAndEd25519AnswersVerifyOnlyForTheirGatewayAndNonce() throws Exception {
        byte[] secret = new byte[32];
        secret[0] = 1;
        GatewayKey.HmacSha256 h = new GatewayKey.HmacSha256(secret);
        byte[] proof = ChallengeVerifier.hmac(secret, "gw", "n1");
        assertTrue(ChallengeVerifier.verify(h, ChallengeVerifier.HMAC, "gw", "n1", proof));
        assertFalse(ChallengeVerifier.verify(h, ChallengeVerifier.HMAC, "gw2", "n1", proof));
        assertFalse(ChallengeVerifier.verify(h, ChallengeVerifier.HMAC, "gw", "n2", proof));
        assertFalse(ChallengeVerifier.verify(h, ChallengeVerifier.ED25519, "gw", "n1", proof));
        assertFalse(ChallengeVerifier.verify(h, "MD5", "gw", "n1", proof));

        KeyPair kp = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        Signature s = Signature.getInstance("Ed25519");
        s.initSign(kp.getPrivate());
        s.update(ChallengeVerifier.signedText("gw", "n1"));
        byte[] sig = s.sign();
        GatewayKey.Ed25519 e = new GatewayKey.Ed25519(kp.getPublic());
        assertTrue(ChallengeVerifier.verify(e, ChallengeVerifier.ED25519, "gw", "n1", sig));
        assertFalse(ChallengeVerifier.verify(e, ChallengeVerifier.ED25519, "gw", "n2", sig));
        assertFalse(ChallengeVerifier.verify(e, ChallengeVerifier.ED25519, "gw", "n1", new byte[3]));
        assertFalse(ChallengeVerifier.verify(e, ChallengeVerifier.HMAC, "gw", "n1", sig));
    }
}
