package io.peerlink.protocol.rendezvous;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * A pin of the rendezvous server's TLS key: the SHA-256 of the certificate's
 * SubjectPublicKeyInfo, written {@code sha256/<base64>} (the form curl's {@code --pinnedpubkey}
 * and HPKP use). Pinning the key rather than the certificate survives a re-issued certificate
 * with the same key. The server prints its pin at start; a device configured with it accepts
 * that key and nothing else, whatever certificate authorities say.
 *
 * @param sha256 the 32-byte digest
 */
public record ServerPin(byte[] sha256) {
    private static final String PREFIX = "sha256/";

    /** @throws IllegalArgumentException if the digest is not 32 bytes */
    public ServerPin {
        Objects.requireNonNull(sha256, "sha256");
        if (sha256.length != 32) {
            throw new IllegalArgumentException("a pin is a 32-byte SHA-256, got " + sha256.length + " bytes");
        }
        sha256 = sha256.clone();
    }

    /**
     * @param text {@code sha256/<base64>} or 64 hex digits
     * @return the pin
     * @throws IllegalArgumentException with a message saying the expected form
     */
    public static ServerPin parse(String text) {
        Objects.requireNonNull(text, "text");
        String t = text.strip();
        try {
            if (t.toLowerCase(Locale.ROOT).startsWith(PREFIX)) {
                return new ServerPin(Base64.getDecoder().decode(t.substring(PREFIX.length())));
            }
            if (t.length() == 64) {
                return new ServerPin(HexFormat.of().parseHex(t));
            }
        } catch (IllegalArgumentException e) {
            // fall through to the one message that says what a pin looks like
        }
        throw new IllegalArgumentException("not a server pin: '" + text + "'; expected sha256/<base64 of 32 bytes> "
                + "(printed by 'peerlink server' at start) or 64 hex digits");
    }

    /**
     * @param certificate the server's (leaf) certificate
     * @return the pin of its public key
     */
    public static ServerPin of(Certificate certificate) {
        try {
            return new ServerPin(MessageDigest.getInstance("SHA-256").digest(certificate.getPublicKey().getEncoded()));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JDK always has SHA-256", e);
        }
    }

    /** @param certificate a certificate @return true if its public key is the pinned one */
    public boolean matches(Certificate certificate) {
        return MessageDigest.isEqual(sha256, of(certificate).sha256);
    }

    @Override
    public byte[] sha256() {
        return sha256.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ServerPin p && Arrays.equals(sha256, p.sha256);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(sha256);
    }

    /** @return {@code sha256/<base64>} */
    @Override
    public String toString() {
        return PREFIX + Base64.getEncoder().encodeToString(sha256);
    }
}
