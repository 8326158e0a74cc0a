package io.peerlink.core.internal.crypto;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What a completed handshake yields: one traffic secret per direction (Noise Split()), an exporter
 * secret (a third output of Split's HKDF), the final handshake hash and the suite.
 *
 * <p>The owner (the link) creates its {@link PacketProtector} from these keys, derives any
 * further keys it needs with {@link #export(String, int)} (for example a MAC key for connectivity
 * checks), then calls {@link #destroy()}. Not thread-safe.
 */
public final class SessionKeys {
    private static final byte[] EXPORT_LABEL_PREFIX = "peerlink exporter ".getBytes(StandardCharsets.US_ASCII);

    private final NoiseSuite suite;
    private final boolean initiator;
    private final byte[] sendSecret;
    private final byte[] receiveSecret;
    private final byte[] exporterSecret;
    private final byte[] handshakeHash;
    private boolean destroyed;

    SessionKeys(NoiseSuite suite, boolean initiator, byte[] sendSecret, byte[] receiveSecret, byte[] exporterSecret,
                byte[] handshakeHash) {
        this.suite = suite;
        this.initiator = initiator;
        this.sendSecret = sendSecret;
        this.receiveSecret = receiveSecret;
        this.exporterSecret = exporterSecret;
        this.handshakeHash = handshakeHash;
    }

    /**
     * Keys from raw secrets, for benchmarks and tests that need a protector without a handshake.
     *
     * @param suite the cipher suite
     * @param sendSecret 32 bytes, copied
     * @param receiveSecret 32 bytes, copied
     * @return keys with an all-zero exporter secret and handshake hash
     */
    public static SessionKeys fromSecrets(NoiseSuite suite, byte[] sendSecret, byte[] receiveSecret) {
        Objects.requireNonNull(suite, "suite");
        if (sendSecret.length != Hkdf.HASH_LENGTH || receiveSecret.length != Hkdf.HASH_LENGTH) {
            throw new IllegalArgumentException("traffic secrets have 32 bytes");
        }
        return new SessionKeys(suite, true, sendSecret.clone(), receiveSecret.clone(), new byte[Hkdf.HASH_LENGTH],
                new byte[Hkdf.HASH_LENGTH]);
    }

    /** @return the suite the handshake used */
    public NoiseSuite suite() {
        return suite;
    }

    /** @return true on the side that sent handshake message 1 */
    public boolean isInitiator() {
        return initiator;
    }

    /**
     * @return a copy of the final Noise handshake hash: identical on both sides, unique per session,
     *         public (it is not a secret); usable for channel binding
     */
    public byte[] handshakeHash() {
        return handshakeHash.clone();
    }

    /**
     * Derives a secret for another purpose: HKDF-Expand(exporter secret, "peerlink exporter " ||
     * label, length). Both sides derive the same value for the same label.
     *
     * @param label ASCII purpose label, e.g. {@code "probe mac"}
     * @param length bytes wanted, 1..8160
     * @return the derived secret
     * @throws IllegalStateException after {@link #destroy()}
     */
    public byte[] export(String label, int length) {
        Objects.requireNonNull(label, "label");
        checkAlive();
        byte[] labelBytes = label.getBytes(StandardCharsets.US_ASCII);
        byte[] info = Arrays.copyOf(EXPORT_LABEL_PREFIX, EXPORT_LABEL_PREFIX.length + labelBytes.length);
        System.arraycopy(labelBytes, 0, info, EXPORT_LABEL_PREFIX.length, labelBytes.length);
        return Hkdf.expand(exporterSecret, info, length);
    }

    /**
     * @param policy when to update keys
     * @param nowNanos the caller's monotonic clock ({@link System#nanoTime()} or the event loop's)
     * @return a new packet protector for this session's data path (it holds its own copies)
     * @throws IllegalStateException after {@link #destroy()}
     */
    public PacketProtector newPacketProtector(RekeyPolicy policy, long nowNanos) {
        checkAlive();
        return new PacketProtector(suite, sendSecret, receiveSecret, policy, nowNanos);
    }

    /** Overwrites every secret held here; idempotent. */
    public void destroy() {
        Arrays.fill(sendSecret, (byte) 0);
        Arrays.fill(receiveSecret, (byte) 0);
        Arrays.fill(exporterSecret, (byte) 0);
        destroyed = true;
    }

    /** @return true after {@link #destroy()} */
    public boolean isDestroyed() {
        return destroyed;
    }

    private void checkAlive() {
        if (destroyed) {
            throw new IllegalStateException("session keys were destroyed");
        }
    }
}
