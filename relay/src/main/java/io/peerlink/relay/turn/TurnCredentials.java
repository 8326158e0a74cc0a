package io.peerlink.relay.turn;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * TURN REST API credentials (draft-uberti-behave-turn-rest, as coturn's
 * {@code --use-auth-secret --static-auth-secret} implements it): the username is
 * {@code <expiry-unix-seconds>:<deviceId>}, the password is base64(HMAC-SHA1(secret, username)).
 * Whoever knows the secret (the rendezvous, the TURN server) can mint and check credentials
 * without sharing any per-user state.
 *
 * @param username {@code <expiry>:<id>}
 * @param password base64 HMAC
 */
public record TurnCredentials(String username, String password) {

    /** Validates both parts are present. */
    public TurnCredentials {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(password, "password");
    }

    /**
     * @param secret the shared secret (coturn's static-auth-secret, as UTF-8)
     * @param deviceId who the credential is for (no {@code ':'})
     * @param expiry when it stops being accepted
     * @return the credential
     */
    public static TurnCredentials mint(String secret, String deviceId, Instant expiry) {
        if (deviceId.isEmpty() || deviceId.indexOf(':') >= 0) {
            throw new IllegalArgumentException("deviceId must be non-empty and contain no ':': " + deviceId);
        }
        String username = expiry.getEpochSecond() + ":" + deviceId;
        return new TurnCredentials(username, password(secret, username));
    }

    /**
     * A credential for one link: username {@code <expiry>:<deviceId>.<linkTag>}. The TURN server
     * counts allocations per device ({@link #userId}); a permission policy can look the link up
     * by its tag ({@link #linkTag}). coturn treats the whole username as opaque.
     *
     * @param secret the shared secret
     * @param deviceId who the credential is for (no {@code ':'} or {@code '.'})
     * @param linkTag the link (1..32 of {@code [0-9a-zA-Z_-]})
     * @param expiry when it stops being accepted
     * @return the credential
     */
    public static TurnCredentials mint(String secret, String deviceId, String linkTag, Instant expiry) {
        if (deviceId.indexOf('.') >= 0) {
            throw new IllegalArgumentException("deviceId must contain no '.': " + deviceId);
        }
        if (linkTag.isEmpty() || linkTag.length() > 32
                || !linkTag.chars().allMatch(c -> Character.isLetterOrDigit(c) && c < 128 || c == '_' || c == '-')) {
            throw new IllegalArgumentException("linkTag must be 1..32 of [0-9a-zA-Z_-]: " + linkTag);
        }
        return mint(secret, deviceId + "." + linkTag, expiry);
    }

    /** @return base64(HMAC-SHA1(secret, username)) */
    public static String password(String secret, String username) {
        try {
            Mac mac = Mac.getInstance("HmacSHA1");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA1"));
            return Base64.getEncoder().encodeToString(mac.doFinal(username.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA1 is mandatory in every JDK", e);
        }
    }

    /**
     * @param username a REST API username
     * @return its expiry
     * @throws IllegalArgumentException if it does not start with {@code <digits>:}
     */
    public static Instant expiry(String username) {
        int colon = username.indexOf(':');
        String seconds = colon < 0 ? username : username.substring(0, colon);
        if (seconds.isEmpty() || seconds.length() > 12 || !seconds.chars().allMatch(c -> c >= '0' && c <= '9')) {
            throw new IllegalArgumentException("TURN REST username must start with <unix-seconds>: " + username);
        }
        return Instant.ofEpochSecond(Long.parseLong(seconds));
    }

    /** @return the part after the expiry up to a {@code '.'} (the device ID), or the empty string */
    public static String userId(String username) {
        int colon = username.indexOf(':');
        String id = colon < 0 ? "" : username.substring(colon + 1);
        int dot = id.indexOf('.');
        return dot < 0 ? id : id.substring(0, dot);
    }

    /** @return the link tag after the device ID ({@code <expiry>:<deviceId>.<linkTag>}), or null if there is none */
    public static String linkTag(String username) {
        int colon = username.indexOf(':');
        int dot = colon < 0 ? -1 : username.indexOf('.', colon);
        return dot < 0 ? null : username.substring(dot + 1);
    }
}
