package io.peerlink.transport.mqtt.moquette;

import io.peerlink.DeviceId;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.transport.mqtt.MqttPasswordSource;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Objects;

/**
 * The login of a PeerLink device at the {@link EmbeddedMqttBroker}: user name = the device ID,
 * password = a token that proves the device holds its Ed25519 key, for one broker, at one time:
 *
 * <pre>
 * pl1.&lt;base64url raw public key&gt;.&lt;unix seconds&gt;.&lt;base64url 12-byte nonce&gt;.&lt;base64url Ed25519 signature&gt;
 * signed message (UTF-8): "peerlink-mqtt-login/1\n" audience "\n" deviceId "\n" unixSeconds "\n" nonce
 * </pre>
 *
 * The broker recomputes the device ID from the key, checks the signature, that the time is within
 * its window and that the token was not used before; only then does its
 * {@link io.peerlink.spi.Authenticator} decide. MQTT 3.1.1 has no challenge from the broker, so the
 * time window and the replay cache stand in for a nonce: use TLS between device and broker where
 * eavesdroppers matter (a token seen on the wire is refused when reused, but a token stolen
 * before first use is good until it expires).
 */
public final class MqttIdentityLogin {

    static final String VERSION = "pl1";
    private static final String CONTEXT = "peerlink-mqtt-login/1\n";
    private static final int MAX_PASSWORD_LENGTH = 512;
    private static final int NONCE_LENGTH = 12;
    private static final java.security.SecureRandom RANDOM = new java.security.SecureRandom();

    private MqttIdentityLogin() {
    }

    /**
     * @param identity the device's key pair
     * @param audience the broker's audience string ({@link EmbeddedMqttBroker#audience()})
     * @param now the signing time
     * @return a password for one login
     * @throws NullPointerException if an argument is null
     */
    public static String password(DeviceIdentity identity, String audience, Instant now) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(audience, "audience");
        long seconds = now.getEpochSecond();
        byte[] nonceBytes = new byte[NONCE_LENGTH];
        RANDOM.nextBytes(nonceBytes);
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        // Ed25519 is deterministic: the nonce makes two logins in the same second two different tokens.
        String nonce = b64.encodeToString(nonceBytes);
        byte[] signature = identity.sign(message(audience, identity.id().value(), seconds, nonce));
        return VERSION + "." + b64.encodeToString(identity.rawPublicKey()) + "." + seconds + "." + nonce + "." + b64.encodeToString(signature);
    }

    /**
     * @param identity the device's key pair
     * @param audience the broker's audience string
     * @return a source for {@link io.peerlink.transport.mqtt.MqttOptions#PASSWORD_SOURCE} that signs a fresh token for every connection attempt
     */
    public static MqttPasswordSource passwordSource(DeviceIdentity identity, String audience) {
        return passwordSource(identity, audience, Clock.systemUTC());
    }

    static MqttPasswordSource passwordSource(DeviceIdentity identity, String audience, Clock clock) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(audience, "audience");
        return () -> password(identity, audience, clock.instant());
    }

    /** A checked token. */
    record Verified(DeviceId deviceId, byte[] publicKey, long seconds, String signature) {
    }

    /**
     * @return the proven identity
     * @throws LoginRejectedException with the precise reason, for any token that is not valid now
     */
    static Verified verify(String username, byte[] password, String audience, Instant now, Duration window) throws LoginRejectedException {
        if (username == null || username.isEmpty()) {
            throw new LoginRejectedException("no user name: log in with the device ID");
        }
        DeviceId id;
        try {
            id = DeviceId.parse(username);
        } catch (IllegalArgumentException e) {
            throw new LoginRejectedException("the user name is not a device ID: " + e.getMessage());
        }
        if (password == null || password.length == 0) {
            throw new LoginRejectedException("no password: send a " + VERSION + " login token");
        }
        if (password.length > MAX_PASSWORD_LENGTH) {
            throw new LoginRejectedException("the password has " + password.length + " bytes, more than a login token's " + MAX_PASSWORD_LENGTH);
        }
        String[] parts = new String(password, StandardCharsets.US_ASCII).split("\\.", -1);
        if (parts.length != 5 || !VERSION.equals(parts[0])) {
            throw new LoginRejectedException("the password is not a " + VERSION + " login token (" + VERSION + ".<key>.<time>.<nonce>.<signature>)");
        }
        byte[] key;
        byte[] signature;
        long seconds;
        try {
            key = canonical(parts[1], "key");
            seconds = Long.parseLong(parts[2]);
            if (canonical(parts[3], "nonce").length != NONCE_LENGTH) {
                throw new LoginRejectedException("the login token's nonce does not have " + NONCE_LENGTH + " bytes");
            }
            signature = canonical(parts[4], "signature");
        } catch (IllegalArgumentException e) {
            throw new LoginRejectedException("the login token is malformed: " + e.getMessage());
        }
        if (key.length != 32) {
            throw new LoginRejectedException("the login token's public key has " + key.length + " bytes, not 32");
        }
        if (signature.length != DeviceIdentity.SIGNATURE_LENGTH) {
            throw new LoginRejectedException("the login token's signature has " + signature.length + " bytes, not " + DeviceIdentity.SIGNATURE_LENGTH);
        }
        if (!DeviceId.fromPublicKey(key).equals(id)) {
            throw new LoginRejectedException("the login token's key does not belong to device " + id.shortForm());
        }
        long skew = Math.abs(now.getEpochSecond() - seconds);
        if (skew > window.getSeconds()) {
            throw new LoginRejectedException("the login token was signed " + skew + " s away from the broker's clock (window "
                    + window.getSeconds() + " s): check the device's clock");
        }
        if (!DeviceIdentity.verify(key, message(audience, id.value(), seconds, parts[3]), signature)) {
            throw new LoginRejectedException("the login token's signature is not valid for this broker (audience '" + audience + "')");
        }
        return new Verified(id, key, seconds, parts[4]);
    }

    /**
     * Decodes unpadded base64url and insists on the one canonical spelling: otherwise a token with
     * other unused low bits in its last character would be a "new" token to the replay cache.
     */
    private static byte[] canonical(String text, String what) throws LoginRejectedException {
        byte[] bytes = Base64.getUrlDecoder().decode(text);
        if (!Base64.getUrlEncoder().withoutPadding().encodeToString(bytes).equals(text)) {
            throw new LoginRejectedException("the login token's " + what + " is not in canonical unpadded base64url");
        }
        return bytes;
    }

    private static byte[] message(String audience, String deviceId, long seconds, String nonce) {
        return (CONTEXT + audience + "\n" + deviceId + "\n" + seconds + "\n" + nonce).getBytes(StandardCharsets.UTF_8);
    }

    /** Why a login token was refused; logged by the broker (MQTT 3.1.1 cannot carry it to the client). */
    static final class LoginRejectedException extends Exception {
        private static final long serialVersionUID = 1L;

        LoginRejectedException(String message) {
            super(message);
        }
    }
}
