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

    /** @return the part after the expiry (the device ID), or the empty string */
    public static String userId(String username) {
        int colon = username.indexOf(':');
        return colon < 0 ? "" : username.substring(colon + 1);
    }
}
