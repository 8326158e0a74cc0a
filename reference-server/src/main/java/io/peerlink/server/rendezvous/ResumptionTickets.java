package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.server.ServerConfig;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.Base64;
import java.util.Objects;

/**
 * Resumption tickets (docs/protocol-rendezvous.md, "Resumption tickets"; docs/security.md): what a
 * device gets at admission so that its next admission at this server costs an HMAC instead of an
 * Ed25519 verification.
 *
 * <pre>
 * body   = 0x01 || issuedAt (8 bytes, epoch s) || expiresAt (8 bytes, epoch s) || publicKey (32 bytes) || UTF-8(network)
 * ticket = base64url(body || HMAC-SHA256(macKey, body))                        (no padding)
 * secret = HMAC-SHA256(secretKey, body)                                        (the device's resumption secret)
 * macKey = HMAC-SHA256(ticketKey, "peerlink-ticket-mac"), secretKey = HMAC-SHA256(ticketKey, "peerlink-ticket-secret")
 * </pre>
 *
 * <p>The body is authenticated, not encrypted: it says nothing the device does not know. The
 * server keeps no per-ticket state; the ticket key (32 random bytes in a key file, or derived from
 * a configured secret) is all it needs, so tickets survive a restart. Thread-safe.
 */
public final class ResumptionTickets {
    private static final byte FORMAT = 1;
    private static final int HEADER = 1 + 8 + 8 + 32;
    private static final int MAC_LENGTH = 32;

    private final byte[] macKey;
    private final byte[] secretKey;
    private final Duration lifetime;
    private final Clock clock;
    private final ThreadLocal<Mac> macs;
    private final ThreadLocal<Mac> secrets;

    /** A ticket that passed its MAC and expiry checks. @param publicKey the device's key @param network its network then */
    public record Opened(byte[] publicKey, String network, long issuedAtSeconds, long expiresAtSeconds, byte[] body) {
        /** @return the device the ticket was issued to */
        public DeviceId deviceId() {
            return DeviceId.fromPublicKey(publicKey);
        }
    }

    /** A new ticket and its secret. @param ticket as sent @param secret the device's resumption secret @param expiresAtSeconds expiry */
    public record Issued(String ticket, byte[] secret, long expiresAtSeconds) {
    }

    /** Why a ticket was not accepted; the message goes to the device in {@code error{TICKET_REJECTED}}. */
    public static final class Rejected extends Exception {
        private static final long serialVersionUID = 1L;

        Rejected(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * @param ticketKey 32 bytes (at least 16)
     * @param lifetime ticket validity
     * @param clock the wall clock expiry is checked against
     */
    public ResumptionTickets(byte[] ticketKey, Duration lifetime, Clock clock) {
        if (ticketKey.length < 16) {
            throw new IllegalArgumentException("ticket key too short");
        }
        this.macKey = hmac(ticketKey, "peerlink-ticket-mac".getBytes(StandardCharsets.US_ASCII));
        this.secretKey = hmac(ticketKey, "peerlink-ticket-secret".getBytes(StandardCharsets.US_ASCII));
        this.lifetime = Objects.requireNonNull(lifetime, "lifetime");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.macs = ThreadLocal.withInitial(() -> mac(macKey));
        this.secrets = ThreadLocal.withInitial(() -> mac(secretKey));
    }

    /**
     * @param config the tickets configuration
     * @return the tickets, or null when disabled
     * @throws UncheckedIOException if the key file cannot be read or created
     * @throws IllegalStateException if the key file exists but does not hold a key
     */
    public static ResumptionTickets from(ServerConfig.Tickets config) {
        return from(config, Clock.systemUTC());
    }

    /**
     * @param config the tickets configuration
     * @param clock the wall clock tickets are issued and checked by
     * @return the tickets, or null when disabled
     */
    public static ResumptionTickets from(ServerConfig.Tickets config, Clock clock) {
        if (config == null || !config.enabled()) {
            return null;
        }
        byte[] key;
        if (config.secret() != null) {
            key = sha256(("peerlink-ticket-key\0" + config.secret()).getBytes(StandardCharsets.UTF_8));
        } else {
            key = loadOrCreateKey(config.keyFile());
        }
        return new ResumptionTickets(key, config.lifetime(), clock);
    }

    /**
     * Reads the ticket key file (base64 of 32 bytes), or creates it with a fresh random key and
     * owner-only permissions if it does not exist.
     *
     * @param file the key file
     * @return the key
     */
    static byte[] loadOrCreateKey(Path file) {
        try {
            if (!Files.exists(file)) {
                byte[] key = new byte[32];
                new SecureRandom().nextBytes(key);
                Path dir = file.toAbsolutePath().getParent();
                Files.createDirectories(dir);
                Path tmp = Files.createTempFile(dir, ".peerlink-tickets", ".tmp");
                try {
                    try {
                        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
                    } catch (UnsupportedOperationException e) {
                        // not a POSIX file system: the directory's protection is all there is
                    }
                    Files.writeString(tmp, Base64.getEncoder().encodeToString(key) + "\n", StandardCharsets.US_ASCII);
                    // A second node starting at the same moment must not overwrite the first one's key.
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                    return key;
                } catch (FileAlreadyExistsException e) {
                    // lost the race: read the winner's key below
                } finally {
                    Files.deleteIfExists(tmp);
                }
            }
            String text = Files.readString(file, StandardCharsets.US_ASCII).strip();
            byte[] key;
            try {
                key = Base64.getDecoder().decode(text);
            } catch (IllegalArgumentException e) {
                key = new byte[0];
            }
            if (key.length != 32) {
                throw new IllegalStateException("ticket key file " + file + " does not hold a base64 32-byte key;"
                        + " delete it to have a new one generated (devices then fall back to a signed hello once)");
            }
            return key;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the ticket key file " + file + ": " + e.getMessage(), e);
        }
    }

    /**
     * @param publicKey the admitted device's raw Ed25519 key
     * @param network the network it was admitted into
     * @return a ticket and its resumption secret
     */
    public Issued issue(byte[] publicKey, String network) {
        long now = clock.millis() / 1000;
        long expires = now + lifetime.toSeconds();
        byte[] net = network.getBytes(StandardCharsets.UTF_8);
        ByteBuffer body = ByteBuffer.allocate(HEADER + net.length);
        body.put(FORMAT).putLong(now).putLong(expires).put(publicKey).put(net);
        byte[] b = body.array();
        Mac mac = macs.get();
        mac.update(b);
        byte[] tag = mac.doFinal();
        byte[] ticket = Arrays.copyOf(b, b.length + MAC_LENGTH);
        System.arraycopy(tag, 0, ticket, b.length, MAC_LENGTH);
        return new Issued(Base64.getUrlEncoder().withoutPadding().encodeToString(ticket), secret(b), expires);
    }

    /**
     * @param ticket a ticket as a device sent it
     * @return its contents
     * @throws Rejected if it is malformed, not MACed with this server's key, or expired
     */
    public Opened open(String ticket) throws Rejected {
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(ticket);
        } catch (IllegalArgumentException e) {
            throw new Rejected("the ticket is not base64url");
        }
        if (raw.length < HEADER + MAC_LENGTH || raw[0] != FORMAT) {
            throw new Rejected("the ticket is not in a format this server issues");
        }
        byte[] body = Arrays.copyOf(raw, raw.length - MAC_LENGTH);
        Mac mac = macs.get();
        mac.update(body);
        byte[] expected = mac.doFinal();
        if (!MessageDigest.isEqual(expected, Arrays.copyOfRange(raw, body.length, raw.length))) {
            throw new Rejected("the ticket was not issued by this server (or its ticket key changed)");
        }
        ByteBuffer b = ByteBuffer.wrap(body);
        b.get();
        long issued = b.getLong();
        long expires = b.getLong();
        byte[] publicKey = new byte[32];
        b.get(publicKey);
        String network = new String(body, HEADER, body.length - HEADER, StandardCharsets.UTF_8);
        if (clock.millis() / 1000 >= expires) {
            throw new Rejected("the ticket expired");
        }
        return new Opened(publicKey, network, issued, expires, body);
    }

    /** @param ticket an opened ticket @return the resumption secret that goes with it */
    public byte[] secret(Opened ticket) {
        return secret(ticket.body());
    }

    private byte[] secret(byte[] body) {
        Mac mac = secrets.get();
        mac.update(body);
        return mac.doFinal();
    }

    /** @return how long a new ticket stays valid */
    public Duration lifetime() {
        return lifetime;
    }

    /** @return seconds since the epoch, by this instance's clock */
    long nowSeconds() {
        return clock.millis() / 1000;
    }

    private static Mac mac(byte[] key) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(key, "HmacSHA256"));
            return m;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static byte[] hmac(byte[] key, byte[] data) {
        Mac m = mac(key);
        return m.doFinal(data);
    }

    private static byte[] sha256(byte[] data) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
