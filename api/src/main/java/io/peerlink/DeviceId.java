package io.peerlink;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;

/**
 * A device's stable identity: derived from its Ed25519 public key as the lowercase, unpadded
 * RFC 4648 base32 encoding of the SHA-256 digest of the raw 32-byte public key (52 characters).
 * Anyone holding the public key can recompute the ID, so a device proves its ID by signing with
 * the matching private key.
 *
 * @param value the 52-character base32 form
 */
public record DeviceId(String value) implements Comparable<DeviceId> {
    /** Length of the textual form. */
    public static final int LENGTH = 52;
    private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz234567";

    /**
     * @throws NullPointerException if {@code value} is null
     * @throws IllegalArgumentException if {@code value} is not 52 characters of lowercase base32
     * @param value the 52-character base32 form
     */
    public DeviceId {
        Objects.requireNonNull(value, "value");
        if (value.length() != LENGTH) {
            throw new IllegalArgumentException("device ID must have " + LENGTH + " characters, got " + value.length());
        }
        for (int i = 0; i < LENGTH; i++) {
            if (ALPHABET.indexOf(value.charAt(i)) < 0) {
                throw new IllegalArgumentException("device ID has a character outside lowercase base32 at index " + i);
            }
        }
    }

    /**
     * Parses the textual form, accepting upper case.
     *
     * @param text the ID as printed by {@link #toString()}
     * @return the ID
     * @throws NullPointerException if {@code text} is null
     * @throws IllegalArgumentException if it is not a device ID
     */
    public static DeviceId parse(String text) {
        return new DeviceId(Objects.requireNonNull(text, "text").trim().toLowerCase(java.util.Locale.ROOT));
    }

    /**
     * Derives the ID of a raw Ed25519 public key.
     *
     * @param rawPublicKey the 32-byte public key (RFC 8032 encoding)
     * @return its device ID
     * @throws NullPointerException if the key is null
     * @throws IllegalArgumentException if the key is not 32 bytes
     */
    public static DeviceId fromPublicKey(byte[] rawPublicKey) {
        Objects.requireNonNull(rawPublicKey, "rawPublicKey");
        if (rawPublicKey.length != 32) {
            throw new IllegalArgumentException("an Ed25519 public key has 32 bytes, got " + rawPublicKey.length);
        }
        try {
            return new DeviceId(base32(MessageDigest.getInstance("SHA-256").digest(rawPublicKey)));
        } catch (NoSuchAlgorithmException e) {
            throw new PeerLinkException("SHA-256 is not available in this JVM", e);
        }
    }

    /** @return a short form (first 8 characters) for logs and progress output */
    public String shortForm() {
        return value.substring(0, 8);
    }

    @Override
    public int compareTo(DeviceId other) {
        return value.compareTo(other.value);
    }

    @Override
    public String toString() {
        return value;
    }

    private static String base32(byte[] data) {
        StringBuilder out = new StringBuilder((data.length * 8 + 4) / 5);
        int buffer = 0;
        int bits = 0;
        for (byte b : data) {
            buffer = (buffer << 8) | (b & 0xff);
            bits += 8;
            while (bits >= 5) {
                out.append(ALPHABET.charAt((buffer >>> (bits - 5)) & 31));
                bits -= 5;
            }
        }
        if (bits > 0) {
            out.append(ALPHABET.charAt((buffer << (5 - bits)) & 31));
        }
        return out.toString();
    }
}
