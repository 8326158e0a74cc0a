package io.peerlink.core.internal.crypto;

import io.peerlink.DeviceId;
import io.peerlink.core.internal.crypto.HandshakeException.Reason;
import io.peerlink.protocol.identity.DeviceIdentity;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * The identity payload each side sends inside its encrypted Noise message (message 2 for the
 * responder, message 3 for the initiator), binding the Noise static key to the device's Ed25519
 * identity the way libp2p's Noise handshake does:
 * <pre>
 * offset  length  field
 * 0       1       version, 1
 * 1       32      Ed25519 public key of the device (RFC 8032 encoding)
 * 33      64      Ed25519 signature over "peerlink-noise-static-key:" || Noise static public key (32)
 * 97      2       application data length L, big-endian, 0..512
 * 99      L       application data (opaque to this layer)
 * </pre>
 * Exactly {@code 99 + L} bytes: a shorter, longer or otherwise malformed payload is refused with
 * {@link Reason#MALFORMED_PAYLOAD}. The verifier derives the {@link DeviceId} from the verified
 * Ed25519 key; no identifier is ever carried as a claim.
 */
public final class HandshakePayload {
    /** The only version this code writes and reads. */
    public static final int VERSION = 1;
    /** Bytes of an Ed25519 public key. */
    public static final int IDENTITY_KEY_LENGTH = 32;
    /** Bytes of an Ed25519 signature. */
    public static final int SIGNATURE_LENGTH = DeviceIdentity.SIGNATURE_LENGTH;
    /** Bytes before the application data. */
    public static final int FIXED_LENGTH = 1 + IDENTITY_KEY_LENGTH + SIGNATURE_LENGTH + 2;
    /** Largest application data a payload may carry. */
    public static final int MAX_APPLICATION_DATA = 512;
    /** Largest encoded payload. */
    public static final int MAX_LENGTH = FIXED_LENGTH + MAX_APPLICATION_DATA;
    /** Domain-separation prefix of the signed message. */
    static final byte[] SIGNATURE_PREFIX = "peerlink-noise-static-key:".getBytes(StandardCharsets.US_ASCII);

    private final byte[] identityKey;
    private final byte[] signature;
    private final byte[] applicationData;

    private HandshakePayload(byte[] identityKey, byte[] signature, byte[] applicationData) {
        this.identityKey = identityKey;
        this.signature = signature;
        this.applicationData = applicationData;
    }

    /**
     * Signs {@code noiseStaticKey} with the device identity.
     *
     * @param identity the local device
     * @param noiseStaticKey our 32-byte Noise static public key
     * @param applicationData up to {@link #MAX_APPLICATION_DATA} bytes
     * @return the payload
     * @throws IllegalArgumentException if the static key is not 32 bytes or the data is too long
     */
    public static HandshakePayload sign(DeviceIdentity identity, byte[] noiseStaticKey, byte[] applicationData) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(noiseStaticKey, "noiseStaticKey");
        Objects.requireNonNull(applicationData, "applicationData");
        if (noiseStaticKey.length != X25519.KEY_LENGTH) {
            throw new IllegalArgumentException("a Noise static key has 32 bytes, got " + noiseStaticKey.length);
        }
        checkApplicationData(applicationData.length);
        return new HandshakePayload(identity.rawPublicKey(), identity.sign(signedMessage(noiseStaticKey)),
                applicationData.clone());
    }

    /**
     * Builds a payload from its parts without signing (tests, fuzzing, forged-input checks).
     *
     * @param identityKey 32 bytes
     * @param signature 64 bytes
     * @param applicationData up to {@link #MAX_APPLICATION_DATA} bytes
     * @return the payload
     * @throws IllegalArgumentException if a length is wrong
     */
    public static HandshakePayload of(byte[] identityKey, byte[] signature, byte[] applicationData) {
        if (identityKey.length != IDENTITY_KEY_LENGTH || signature.length != SIGNATURE_LENGTH) {
            throw new IllegalArgumentException("identity key must have 32 bytes and signature 64, got "
                    + identityKey.length + " and " + signature.length);
        }
        checkApplicationData(applicationData.length);
        return new HandshakePayload(identityKey.clone(), signature.clone(), applicationData.clone());
    }

    private static void checkApplicationData(int length) {
        if (length > MAX_APPLICATION_DATA) {
            throw new IllegalArgumentException("application data of " + length + " bytes exceeds " + MAX_APPLICATION_DATA);
        }
    }

    static byte[] signedMessage(byte[] noiseStaticKey) {
        byte[] message = Arrays.copyOf(SIGNATURE_PREFIX, SIGNATURE_PREFIX.length + noiseStaticKey.length);
        System.arraycopy(noiseStaticKey, 0, message, SIGNATURE_PREFIX.length, noiseStaticKey.length);
        return message;
    }

    /** @return the encoded form */
    public byte[] encode() {
        byte[] out = new byte[FIXED_LENGTH + applicationData.length];
        out[0] = VERSION;
        System.arraycopy(identityKey, 0, out, 1, IDENTITY_KEY_LENGTH);
        System.arraycopy(signature, 0, out, 1 + IDENTITY_KEY_LENGTH, SIGNATURE_LENGTH);
        out[FIXED_LENGTH - 2] = (byte) (applicationData.length >>> 8);
        out[FIXED_LENGTH - 1] = (byte) applicationData.length;
        System.arraycopy(applicationData, 0, out, FIXED_LENGTH, applicationData.length);
        return out;
    }

    /**
     * Parses a payload. Does not verify the signature: see {@link #verify(byte[])}.
     *
     * @param encoded the bytes, all of which must belong to the payload
     * @return the payload
     * @throws HandshakeException with {@link Reason#MALFORMED_PAYLOAD} if truncated, oversized,
     *         of an unknown version, or followed by trailing bytes
     */
    public static HandshakePayload decode(byte[] encoded) throws HandshakeException {
        Objects.requireNonNull(encoded, "encoded");
        if (encoded.length > MAX_LENGTH) {
            throw malformed("payload of " + encoded.length + " bytes exceeds the maximum " + MAX_LENGTH);
        }
        if (encoded.length < FIXED_LENGTH) {
            throw malformed("payload of " + encoded.length + " bytes is truncated (at least " + FIXED_LENGTH + ")");
        }
        int version = encoded[0] & 0xFF;
        if (version != VERSION) {
            throw malformed("payload version " + version + " is not supported (expected " + VERSION + ")");
        }
        int dataLength = ((encoded[FIXED_LENGTH - 2] & 0xFF) << 8) | (encoded[FIXED_LENGTH - 1] & 0xFF);
        if (dataLength > MAX_APPLICATION_DATA) {
            throw malformed("application data length " + dataLength + " exceeds " + MAX_APPLICATION_DATA);
        }
        int expected = FIXED_LENGTH + dataLength;
        if (encoded.length < expected) {
            throw malformed("payload is truncated: announces " + dataLength + " bytes of application data, "
                    + (encoded.length - FIXED_LENGTH) + " present");
        }
        if (encoded.length > expected) {
            throw malformed((encoded.length - expected) + " trailing bytes after the payload");
        }
        return new HandshakePayload(
                Arrays.copyOfRange(encoded, 1, 1 + IDENTITY_KEY_LENGTH),
                Arrays.copyOfRange(encoded, 1 + IDENTITY_KEY_LENGTH, 1 + IDENTITY_KEY_LENGTH + SIGNATURE_LENGTH),
                Arrays.copyOfRange(encoded, FIXED_LENGTH, expected));
    }

    private static HandshakeException malformed(String message) {
        return new HandshakeException(Reason.MALFORMED_PAYLOAD, message);
    }

    /**
     * Verifies the signature over {@code noiseStaticKey} and derives the device ID.
     *
     * @param noiseStaticKey the static key the Noise handshake authenticated for this peer
     * @return the verified device ID
     * @throws HandshakeException with {@link Reason#BAD_IDENTITY_SIGNATURE} if the signature does
     *         not verify (a substituted static key, a forged payload, a wrong identity key)
     */
    public DeviceId verify(byte[] noiseStaticKey) throws HandshakeException {
        if (!DeviceIdentity.verify(identityKey, signedMessage(noiseStaticKey), signature)) {
            throw new HandshakeException(Reason.BAD_IDENTITY_SIGNATURE,
                    "the identity signature does not cover the Noise static key the peer used");
        }
        return DeviceId.fromPublicKey(identityKey);
    }

    /** @return a copy of the Ed25519 public key */
    public byte[] identityKey() {
        return identityKey.clone();
    }

    /** @return a copy of the signature */
    public byte[] signature() {
        return signature.clone();
    }

    /** @return a copy of the application data */
    public byte[] applicationData() {
        return applicationData.clone();
    }
}
