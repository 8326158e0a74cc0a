package com.example.peerlink.hmac;

import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.PluginConfig;
import io.peerlink.spi.PluginConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * {@code hmac-file}: admits a device into a network when it proves it holds that network's
 * shared secret. The device sends two claims: {@code network} (which network it asks for) and
 * {@code hmac}, the base64 of {@code HMAC-SHA256(network secret, device ID)}. The MAC covers the
 * device ID the server has already proven, so credentials copied to another identity are worth
 * nothing; the network comes from the secret that verified, never from the claim alone.
 *
 * <p>The secrets file has one line per network, {@code <network> <base64 secret of at least 16
 * bytes>}; blank lines and text after {@code #} are ignored; it is read once, when the
 * authenticator is configured, and a bad line fails with its line number. The reference server
 * finds this class with {@link java.util.ServiceLoader} and hands it the key
 * {@value #SECRETS_KEY} under {@code authenticator.hmac-file.} through the SPI's
 * {@link PluginConfig} ({@code authenticator.hmac-file.secrets} in {@code peerlink-server.properties},
 * {@code PEERLINK_AUTHENTICATOR_HMAC_FILE_SECRETS}, or
 * {@code --set authenticator.hmac-file.secrets=...}); nothing here depends on the server.
 */
public final class HmacFileAuthenticator implements Authenticator {

    /** The configuration key (relative to {@code authenticator.hmac-file.}) naming the secrets file. */
    public static final String SECRETS_KEY = "secrets";
    /** Claim naming the network the device asks to join. */
    public static final String NETWORK_CLAIM = "network";
    /** Claim carrying base64(HMAC-SHA256(network secret, device ID)). */
    public static final String HMAC_CLAIM = "hmac";
    private static final String ALGORITHM = "HmacSHA256";

    private volatile Map<String, SecretKeySpec> secrets;

    /** Used by {@link java.util.ServiceLoader}; {@link #configure(PluginConfig)} reads the secrets file. */
    public HmacFileAuthenticator() {
    }

    /**
     * @param file the secrets file
     * @throws IllegalStateException naming the file and line of the first problem
     */
    public HmacFileAuthenticator(Path file) {
        this.secrets = parse(Objects.requireNonNull(file, "file"));
    }

    /**
     * Reads the file named by {@value #SECRETS_KEY}.
     *
     * @throws io.peerlink.spi.PluginConfigException naming the key when it is unset, or the file is unreadable or malformed
     */
    @Override
    public void configure(PluginConfig config) {
        Path file = config.requirePath(SECRETS_KEY);
        try {
            secrets = parse(file);
        } catch (IllegalStateException e) {
            throw new PluginConfigException(config.fullKey(SECRETS_KEY), e.getMessage(), e);
        }
    }

    private static Map<String, SecretKeySpec> parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read HMAC secrets " + file + ": " + e, e);
        }
        Map<String, SecretKeySpec> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            String[] parts = content.split("\\s+");
            String where = file + " line " + (i + 1) + ": ";
            if (parts.length != 2) {
                throw new IllegalStateException(where + "expected '<network> <base64 secret>'");
            }
            byte[] secret;
            try {
                secret = Base64.getDecoder().decode(parts[1]);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(where + "the secret is not base64", e);
            }
            if (secret.length < 16) {
                throw new IllegalStateException(where + "a secret needs at least 16 bytes, got " + secret.length);
            }
            if (out.put(parts[0], new SecretKeySpec(secret, ALGORITHM)) != null) {
                throw new IllegalStateException(where + "network '" + parts[0] + "' is listed twice");
            }
        }
        return Map.copyOf(out);
    }

    @Override
    public String name() {
        return "hmac-file";
    }

    @Override
    public AuthResult authenticate(AuthRequest request) {
        Objects.requireNonNull(request, "request");
        String network = request.claims().get(NETWORK_CLAIM);
        String presented = request.claims().get(HMAC_CLAIM);
        if (network == null || presented == null) {
            return new AuthResult.Denied("claims '" + NETWORK_CLAIM + "' and '" + HMAC_CLAIM + "' are required");
        }
        Map<String, SecretKeySpec> current = secrets;
        if (current == null) {
            throw new IllegalStateException("hmac-file authenticator used before configure()");
        }
        SecretKeySpec key = current.get(network);
        if (key == null) {
            return new AuthResult.Denied("unknown network");
        }
        byte[] mac;
        try {
            mac = Base64.getDecoder().decode(presented);
        } catch (IllegalArgumentException e) {
            return new AuthResult.Denied("malformed " + HMAC_CLAIM + " claim");
        }
        // Constant-time comparison: a timing side channel would let a device guess the MAC byte by byte.
        return MessageDigest.isEqual(mac(key, request.deviceId().value()), mac)
                ? new AuthResult.Admitted(network)
                : new AuthResult.Denied("the " + HMAC_CLAIM + " claim does not verify for this device and network");
    }

    /**
     * @param secret a network secret
     * @param deviceId the device's ID, as text
     * @return the MAC the device must present, as base64; for enrolling devices
     */
    public static String credential(byte[] secret, String deviceId) {
        return Base64.getEncoder().encodeToString(mac(new SecretKeySpec(secret, ALGORITHM), deviceId));
    }

    private static byte[] mac(SecretKeySpec key, String deviceId) {
        try {
            Mac mac = Mac.getInstance(ALGORITHM); // one per call: a Mac is not thread-safe
            mac.init(key);
            return mac.doFinal(deviceId.getBytes(StandardCharsets.US_ASCII));
        } catch (InvalidKeyException e) {
            throw new IllegalStateException("HMAC key rejected", e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(ALGORITHM + " is not available in this JVM", e);
        }
    }
}
