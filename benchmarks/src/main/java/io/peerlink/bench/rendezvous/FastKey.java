package io.peerlink.bench.rendezvous;

import io.peerlink.DeviceId;
import org.bouncycastle.math.ec.rfc8032.Ed25519;

import java.security.SecureRandom;
import java.util.stream.IntStream;

/**
 * A simulated device's Ed25519 key, signing with BouncyCastle's RFC 8032 code: a device signs on
 * its own CPU, so a load generator that plays ten thousand devices on the server's machine must
 * not spend JDK 17's ~1 ms per signature, or it measures itself instead of the server. The
 * signatures are ordinary Ed25519 signatures (the server cannot tell them apart).
 *
 * @param id the device ID derived from the public key
 * @param publicKey raw 32-byte public key
 * @param seed raw 32-byte private key (seed)
 */
record FastKey(DeviceId id, byte[] publicKey, byte[] seed) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** @return a fresh key */
    static FastKey generate() {
        byte[] seed = new byte[Ed25519.SECRET_KEY_SIZE];
        RANDOM.nextBytes(seed);
        byte[] pk = new byte[Ed25519.PUBLIC_KEY_SIZE];
        Ed25519.generatePublicKey(seed, 0, pk, 0);
        return new FastKey(DeviceId.fromPublicKey(pk), pk, seed);
    }

    /** @param count how many @return fresh keys, generated in parallel */
    static FastKey[] generate(int count) {
        FastKey[] keys = new FastKey[count];
        IntStream.range(0, count).parallel().forEach(i -> keys[i] = generate());
        return keys;
    }

    /** @param message what to sign @return the 64-byte signature */
    byte[] sign(byte[] message) {
        byte[] signature = new byte[Ed25519.SIGNATURE_SIZE];
        Ed25519.sign(seed, 0, message, 0, message.length, signature, 0);
        return signature;
    }
}
