package io.peerlink.server.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** BouncyCastle's Ed25519 verification accepts exactly what the JDK's does, on valid, tampered and malformed input. */
class Ed25519VerifierTest {
    private static final DeviceIdentity KEY = DeviceIdentity.ephemeral();
    /** The group order L (RFC 8032, section 5.1). */
    private static final BigInteger L = BigInteger.TWO.pow(252).add(new BigInteger("27742317777372353535851937790883648493"));

    @Test
    void rfc8032TestVector1() {
        HexFormat hex = HexFormat.of();
        byte[] publicKey = hex.parseHex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
        byte[] signature = hex.parseHex("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                + "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
        assertTrue(Ed25519Verifier.verifyBouncyCastle(publicKey, new byte[0], signature));
        assertTrue(DeviceIdentity.verify(publicKey, new byte[0], signature));
        assertFalse(Ed25519Verifier.verifyBouncyCastle(publicKey, new byte[1], signature));
    }

    @Test
    void nonCanonicalSAndMalformedInputAreRejectedLikeTheJdk() {
        byte[] message = "hello".getBytes();
        byte[] signature = KEY.sign(message);
        // S + L encodes the same scalar non-canonically: RFC 8032 requires rejecting it.
        byte[] s = reverse(java.util.Arrays.copyOfRange(signature, 32, 64));
        byte[] sPlusL = reverse(toFixed(new BigInteger(1, s).add(L), 32));
        byte[] malleated = signature.clone();
        System.arraycopy(sPlusL, 0, malleated, 32, 32);
        for (byte[][] c : List.of(
                new byte[][] {KEY.rawPublicKey(), malleated},
                new byte[][] {new byte[32], signature},
                new byte[][] {filled(32, (byte) 0xff), signature},
                new byte[][] {new byte[31], signature},
                new byte[][] {KEY.rawPublicKey(), new byte[63]},
                new byte[][] {KEY.rawPublicKey(), new byte[64]})) {
            assertFalse(Ed25519Verifier.verifyBouncyCastle(c[0], message, c[1]));
            assertEquals(DeviceIdentity.verify(c[0], message, c[1]), Ed25519Verifier.verifyBouncyCastle(c[0], message, c[1]));
        }
        assertTrue(Ed25519Verifier.verifyBouncyCastle(KEY.rawPublicKey(), message, signature));
    }

    @Property(tries = 200)
    void agreesWithTheJdkOnValidAndTamperedSignatures(@ForAll @Size(max = 200) List<Byte> text,
                                                       @ForAll @IntRange(min = 0, max = 63) int flip) {
        byte[] message = new byte[text.size()];
        for (int i = 0; i < message.length; i++) {
            message[i] = text.get(i);
        }
        byte[] signature = KEY.sign(message);
        assertTrue(Ed25519Verifier.verifyBouncyCastle(KEY.rawPublicKey(), message, signature));
        byte[] tampered = signature.clone();
        tampered[flip] ^= 1;
        assertFalse(Ed25519Verifier.verifyBouncyCastle(KEY.rawPublicKey(), message, tampered));
        assertEquals(DeviceIdentity.verify(KEY.rawPublicKey(), message, tampered),
                Ed25519Verifier.verifyBouncyCastle(KEY.rawPublicKey(), message, tampered));
    }

    private static byte[] reverse(byte[] b) {
        byte[] r = new byte[b.length];
        for (int i = 0; i < b.length; i++) {
            r[i] = b[b.length - 1 - i];
        }
        return r;
    }

    private static byte[] toFixed(BigInteger v, int length) {
        byte[] raw = v.toByteArray();
        byte[] out = new byte[length];
        int copy = Math.min(raw.length, length);
        System.arraycopy(raw, raw.length - copy, out, length - copy, copy);
        return out;
    }

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, v);
        return b;
    }
}
