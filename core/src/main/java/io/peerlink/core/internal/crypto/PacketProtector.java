package io.peerlink.core.internal.crypto;

import javax.crypto.AEADBadTagException;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.IvParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.spec.AlgorithmParameterSpec;
import java.util.Arrays;
import java.util.Objects;

/**
 * AEAD protection of data-path packets after the handshake (see docs/protocol-security.md,
 * "Packet protection"). One instance per session, used from the session's event-loop thread only.
 *
 * <h2>Layout</h2>
 * A packet is {@code header | payload} before sealing and {@code header | ciphertext | tag}
 * after: the header bytes (everything from {@code headerStart} to {@code payloadStart}, including
 * the packet number and key-phase bit however the caller encodes them) are the AEAD associated
 * data and stay in clear; the payload is encrypted in place; a {@link #TAG_LENGTH}-byte tag is
 * appended. Expansion is exactly {@link #EXPANSION} bytes. The AEAD nonce is the full 62-bit
 * packet number, encoded as the suite's Noise nonce (32 zero bits, then 64 bits: big-endian for
 * AES-GCM, little-endian for ChaCha20-Poly1305) — Noise's explicit-nonce transport (spec section
 * 11.4), safe because each direction has its own key and packet numbers are never reused.
 *
 * <h2>Key update</h2>
 * Each direction has a chain of traffic secrets: generation 0 is the handshake's Split() output,
 * {@code secret[n+1] = HKDF-Expand(secret[n], "peerlink key update", 32)} and the AEAD key of a
 * generation is {@code HKDF-Expand(secret[n], "peerlink packet key", 32)}. The sender moves to the
 * next generation when its key is older than {@link RekeyPolicy#interval()} or sealed
 * {@link RekeyPolicy#packetLimit()} packets, but only once the peer acknowledged a packet sealed
 * with the current key ({@link #onAcknowledged(long)}), as QUIC requires (RFC 9001 section 6), so
 * the receiver is never two generations behind. The low bit of the generation is the key phase
 * the caller writes into the header ({@link #sendKeyPhase(long)}). The receiver keeps the current
 * key, the next one precomputed, and the previous one for {@link RekeyPolicy#previousKeyRetention()}
 * after an update; a packet whose phase differs from the current one uses the previous key if its
 * number precedes the first packet of the current generation, otherwise the next key, and a
 * successful open with the next key promotes it. If a key reaches twice the packet limit without
 * the peer acknowledging anything sealed with it, {@link #seal} fails rather than exceed the AEAD
 * limits.
 *
 * <h2>Replay</h2>
 * A {@link ReplayWindow} of 4,096 packet numbers spans all key generations (the packet-number
 * space is the session's): duplicates and numbers at or below {@code largest - 4096} are refused
 * before any decryption; a number is recorded only after it authenticated.
 *
 * <h2>Allocation and erasure</h2>
 * Ciphers and key objects are created once per key generation. Per packet, the JDK API forces one
 * parameter object ({@code GCMParameterSpec} / {@code IvParameterSpec}, immutable) plus whatever
 * {@code Cipher.init} allocates inside the provider; heap buffers are processed in place through
 * their backing arrays, direct buffers through three buffer views (docs/benchmarks.md gives the
 * measured bytes per packet). {@link #destroy()} overwrites every secret and key byte array this
 * class holds; the copies inside JDK {@code SecretKeySpec} and cipher objects cannot be erased
 * ({@code SecretKeySpec.destroy()} is not implemented in JDK 17) and become unreachable instead.
 */
public final class PacketProtector {
    /** Bytes of the AEAD tag appended to every packet. */
    public static final int TAG_LENGTH = 16;
    /** Bytes a sealed packet is longer than the plaintext one. */
    public static final int EXPANSION = TAG_LENGTH;
    /** Largest packet number: 2^62 - 1. */
    public static final long MAX_PACKET_NUMBER = (1L << 62) - 1;
    private static final byte[] PACKET_KEY_LABEL = "peerlink packet key".getBytes(StandardCharsets.US_ASCII);
    /** A nonce no packet number maps to (see {@link #resetAfterFailedOpen}). */
    private static final byte[] UNUSED_NONCE = {-1, -1, -1, -1, 0, 0, 0, 0, 0, 0, 0, 0};
    private static final byte[] KEY_UPDATE_LABEL = "peerlink key update".getBytes(StandardCharsets.US_ASCII);

    /** Outcome of {@link #open}; every value but {@link #OPENED} means: drop the packet silently. */
    public enum OpenResult {
        /** Authenticated and decrypted. */
        OPENED,
        /** The packet number was already received. */
        DUPLICATE,
        /** The packet number is older than the replay window. */
        TOO_OLD,
        /** The tag did not verify (forged, corrupted, truncated, or sealed with other keys). */
        AUTHENTICATION_FAILED,
        /** A packet of the previous key generation arrived after that key was discarded. */
        KEY_DISCARDED
    }

    private final NoiseSuite suite;
    private final RekeyPolicy policy;
    private final long intervalNanos;
    private final long retentionNanos;
    private final Cipher sealCipher;
    private final Cipher openCipher;
    private final byte[] nonce = new byte[12];
    private final ReplayWindow replayWindow = new ReplayWindow();

    private byte[] sendSecret;
    private SecretKeySpec sendKey;
    private long sendGeneration;
    private long sendKeyInstalledAt;
    private long sealedWithSendKey;
    private long firstPacketOfSendKey = -1;
    private boolean sendKeyConfirmed = true;
    private long lastSealed = -1;

    private byte[] receiveSecret;
    private SecretKeySpec receiveKey;
    private byte[] nextReceiveSecret;
    private SecretKeySpec nextReceiveKey;
    private SecretKeySpec previousReceiveKey;
    private long previousDiscardAt;
    private long receiveGeneration;
    private long firstPacketOfReceiveKey;
    private boolean destroyed;

    PacketProtector(NoiseSuite suite, byte[] sendSecret, byte[] receiveSecret, RekeyPolicy policy, long nowNanos) {
        this.suite = Objects.requireNonNull(suite, "suite");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.intervalNanos = policy.interval().toNanos();
        this.retentionNanos = policy.previousKeyRetention().toNanos();
        try {
            this.sealCipher = Cipher.getInstance(suite.transformation());
            this.openCipher = Cipher.getInstance(suite.transformation());
        } catch (GeneralSecurityException e) {
            throw new CryptoUnavailableException(suite.transformation() + " is not available in this JVM", e);
        }
        this.sendSecret = sendSecret.clone();
        this.sendKey = packetKey(this.sendSecret);
        this.sendKeyInstalledAt = nowNanos;
        this.receiveSecret = receiveSecret.clone();
        this.receiveKey = packetKey(this.receiveSecret);
        this.nextReceiveSecret = nextSecret(this.receiveSecret);
        this.nextReceiveKey = packetKey(nextReceiveSecret);
    }

    private SecretKeySpec packetKey(byte[] secret) {
        byte[] keyBytes = Hkdf.expand(secret, PACKET_KEY_LABEL, 32);
        SecretKeySpec key = new SecretKeySpec(keyBytes, suite.keyAlgorithm());
        Arrays.fill(keyBytes, (byte) 0);
        return key;
    }

    private static byte[] nextSecret(byte[] secret) {
        return Hkdf.expand(secret, KEY_UPDATE_LABEL, 32);
    }

    /** @return the suite */
    public NoiseSuite suite() {
        return suite;
    }

    /**
     * Call before writing each packet's header: updates the sending key if the policy says so and
     * the peer confirmed the current one, and returns the key phase (0 or 1) to put in the header.
     * {@link #seal} then uses the key this phase names.
     *
     * @param nowNanos the caller's monotonic clock
     * @return the key phase bit
     */
    public int sendKeyPhase(long nowNanos) {
        checkAlive();
        boolean due = sealedWithSendKey >= policy.packetLimit() || nowNanos - sendKeyInstalledAt >= intervalNanos;
        if (due && sendKeyConfirmed) {
            byte[] next = nextSecret(sendSecret);
            Arrays.fill(sendSecret, (byte) 0);
            sendSecret = next;
            sendKey = packetKey(next);
            sendGeneration++;
            sendKeyInstalledAt = nowNanos;
            sealedWithSendKey = 0;
            firstPacketOfSendKey = -1;
            sendKeyConfirmed = false;
        }
        return (int) (sendGeneration & 1);
    }

    /**
     * Tells the protector the peer acknowledged {@code packetNumber}; an acknowledgement of a packet
     * sealed with the current key allows the next key update. Call it from ACK processing.
     *
     * @param packetNumber an acknowledged packet number
     */
    public void onAcknowledged(long packetNumber) {
        if (firstPacketOfSendKey >= 0 && packetNumber >= firstPacketOfSendKey && packetNumber <= lastSealed) {
            sendKeyConfirmed = true;
        }
    }

    /**
     * Seals a packet in place: encrypts {@code [payloadStart, position)} with
     * {@code [headerStart, payloadStart)} as associated data and appends the tag; on return the
     * position is {@link #EXPANSION} bytes further. The header must already hold the phase from
     * {@link #sendKeyPhase(long)}.
     *
     * @param packet the packet being built
     * @param headerStart index of the header's first byte
     * @param payloadStart index of the first payload byte (end of the header)
     * @param packetNumber this packet's number; greater than every number sealed before, at most 2^62-1
     * @throws IllegalArgumentException if the indices are out of order, the packet number is out of
     *         range or not increasing, or fewer than {@link #TAG_LENGTH} bytes remain
     * @throws IllegalStateException if the key is exhausted (twice the packet limit without an
     *         acknowledged packet under it) or after {@link #destroy()}
     */
    public void seal(ByteBuffer packet, int headerStart, int payloadStart, long packetNumber) {
        checkAlive();
        int end = packet.position();
        if (headerStart < 0 || headerStart > payloadStart || payloadStart > end) {
            throw new IllegalArgumentException("need 0 <= headerStart <= payloadStart <= position, got " + headerStart
                    + ", " + payloadStart + ", " + end);
        }
        if (packet.limit() - end < TAG_LENGTH) {
            throw new IllegalArgumentException("no room for the " + TAG_LENGTH + "-byte tag: " + (packet.limit() - end)
                    + " bytes remain");
        }
        if (packetNumber <= lastSealed || packetNumber > MAX_PACKET_NUMBER) {
            throw new IllegalArgumentException("packet number " + packetNumber + " must exceed the last sealed ("
                    + lastSealed + ") and be at most 2^62-1: a nonce is never reused");
        }
        if (sealedWithSendKey >= 2 * policy.packetLimit()) {
            throw new IllegalStateException("sending key generation " + sendGeneration + " sealed " + sealedWithSendKey
                    + " packets and the peer acknowledged none of them: refusing to exceed the AEAD limit");
        }
        try {
            sealCipher.init(Cipher.ENCRYPT_MODE, sendKey, parameters(packetNumber));
            int written;
            if (packet.hasArray()) {
                byte[] array = packet.array();
                int offset = packet.arrayOffset();
                sealCipher.updateAAD(array, offset + headerStart, payloadStart - headerStart);
                written = sealCipher.doFinal(array, offset + payloadStart, end - payloadStart, array, offset + payloadStart);
            } else {
                sealCipher.updateAAD(packet.duplicate().limit(payloadStart).position(headerStart));
                ByteBuffer in = packet.duplicate().limit(end).position(payloadStart);
                ByteBuffer out = packet.duplicate().position(payloadStart);
                written = sealCipher.doFinal(in, out);
            }
            packet.position(payloadStart + written);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.transformation() + " sealing failed", e);
        }
        lastSealed = packetNumber;
        sealedWithSendKey++;
        if (firstPacketOfSendKey < 0) {
            firstPacketOfSendKey = packetNumber;
        }
    }

    /**
     * Opens a received packet in place. The ciphertext and tag are {@code [payloadStart, limit)}.
     * On {@link OpenResult#OPENED} the plaintext is {@code [payloadStart, limit)} with the limit
     * moved {@link #TAG_LENGTH} bytes down and the position at {@code payloadStart}; on any other
     * result position and limit are unchanged and the payload bytes are unspecified.
     *
     * @param packet the received datagram
     * @param headerStart index of the header's first byte
     * @param payloadStart index of the first ciphertext byte
     * @param packetNumber the full packet number reconstructed from the header (see {@link #largestReceived()})
     * @param keyPhase the key phase bit from the header, 0 or 1
     * @param nowNanos the caller's monotonic clock
     * @return the outcome; never throws for hostile input
     * @throws IllegalArgumentException if the indices are out of order, the packet number is
     *         negative or above 2^62-1, or the phase is not 0 or 1 (caller bugs, not input)
     * @throws IllegalStateException after {@link #destroy()}
     */
    public OpenResult open(ByteBuffer packet, int headerStart, int payloadStart, long packetNumber, int keyPhase,
                           long nowNanos) {
        checkAlive();
        int end = packet.limit();
        if (headerStart < 0 || headerStart > payloadStart || payloadStart > end) {
            throw new IllegalArgumentException("need 0 <= headerStart <= payloadStart <= limit, got " + headerStart
                    + ", " + payloadStart + ", " + end);
        }
        if (packetNumber < 0 || packetNumber > MAX_PACKET_NUMBER || (keyPhase & ~1) != 0) {
            throw new IllegalArgumentException("packet number " + packetNumber + " or key phase " + keyPhase + " out of range");
        }
        switch (replayWindow.check(packetNumber)) {
            case DUPLICATE -> {
                return OpenResult.DUPLICATE;
            }
            case TOO_OLD -> {
                return OpenResult.TOO_OLD;
            }
            default -> {
                // fresh: go on
            }
        }
        if (previousReceiveKey != null && nowNanos - previousDiscardAt >= 0) {
            previousReceiveKey = null;
        }
        if (end - payloadStart < TAG_LENGTH) {
            return OpenResult.AUTHENTICATION_FAILED;
        }
        SecretKeySpec key;
        boolean next = false;
        if (keyPhase == (int) (receiveGeneration & 1)) {
            key = receiveKey;
        } else if (packetNumber < firstPacketOfReceiveKey) {
            key = previousReceiveKey;
            if (key == null) {
                return OpenResult.KEY_DISCARDED;
            }
        } else {
            key = nextReceiveKey;
            next = true;
        }
        if (!decrypt(key, packet, headerStart, payloadStart, end, packetNumber)) {
            return OpenResult.AUTHENTICATION_FAILED;
        }
        replayWindow.mark(packetNumber);
        if (next) {
            promoteNextReceiveKey(packetNumber, nowNanos);
        }
        packet.limit(end - TAG_LENGTH).position(payloadStart);
        return OpenResult.OPENED;
    }

    private boolean decrypt(SecretKeySpec key, ByteBuffer packet, int headerStart, int payloadStart, int end,
                            long packetNumber) {
        int position = packet.position();
        try {
            openCipher.init(Cipher.DECRYPT_MODE, key, parameters(packetNumber));
            if (packet.hasArray()) {
                byte[] array = packet.array();
                int offset = packet.arrayOffset();
                openCipher.updateAAD(array, offset + headerStart, payloadStart - headerStart);
                openCipher.doFinal(array, offset + payloadStart, end - payloadStart, array, offset + payloadStart);
            } else {
                openCipher.updateAAD(packet.duplicate().limit(payloadStart).position(headerStart));
                ByteBuffer in = packet.duplicate().limit(end).position(payloadStart);
                ByteBuffer out = packet.duplicate().limit(end).position(payloadStart);
                openCipher.doFinal(in, out);
            }
            return true;
        } catch (AEADBadTagException e) {
            packet.limit(end).position(position);
            resetAfterFailedOpen(key);
            return false;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(suite.transformation() + " opening failed", e);
        }
    }

    /**
     * The JDK's ChaCha20-Poly1305 refuses to be initialised twice in a row with the same key and
     * nonce, even to decrypt; after a forged packet the genuine one with the same packet number
     * must still open, so the cipher is moved to a nonce no packet number can produce (the top 32
     * bits of a packet nonce are always zero).
     */
    private void resetAfterFailedOpen(SecretKeySpec key) {
        if (suite != NoiseSuite.CHACHAPOLY) {
            return;
        }
        try {
            openCipher.init(Cipher.DECRYPT_MODE, key, new IvParameterSpec(UNUSED_NONCE));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot reset " + suite.transformation() + " after a failed open", e);
        }
    }

    private void promoteNextReceiveKey(long packetNumber, long nowNanos) {
        previousReceiveKey = receiveKey;
        previousDiscardAt = nowNanos + retentionNanos;
        receiveKey = nextReceiveKey;
        Arrays.fill(receiveSecret, (byte) 0);
        receiveSecret = nextReceiveSecret;
        nextReceiveSecret = nextSecret(receiveSecret);
        nextReceiveKey = packetKey(nextReceiveSecret);
        receiveGeneration++;
        firstPacketOfReceiveKey = packetNumber;
    }

    private AlgorithmParameterSpec parameters(long packetNumber) {
        suite.encodeNonce(packetNumber, nonce);
        // Both spec classes copy the nonce; the JDK offers no way to reuse one across packets.
        return suite == NoiseSuite.AESGCM ? new GCMParameterSpec(TAG_LENGTH * 8, nonce) : new IvParameterSpec(nonce);
    }

    /** @return the largest packet number opened so far, -1 if none; feed it to packet-number decoding */
    public long largestReceived() {
        return replayWindow.largest();
    }

    /** @return the sending key generation (0 after the handshake) */
    public long sendGeneration() {
        return sendGeneration;
    }

    /** @return the receiving key generation (0 after the handshake) */
    public long receiveGeneration() {
        return receiveGeneration;
    }

    /**
     * Overwrites every secret held in this object's own arrays and drops the key objects.
     * Idempotent; afterwards {@link #seal} and {@link #open} throw {@link IllegalStateException}.
     */
    public void destroy() {
        if (destroyed) {
            return;
        }
        destroyed = true;
        Arrays.fill(sendSecret, (byte) 0);
        Arrays.fill(receiveSecret, (byte) 0);
        Arrays.fill(nextReceiveSecret, (byte) 0);
        Arrays.fill(nonce, (byte) 0);
        sendKey = null;
        receiveKey = null;
        nextReceiveKey = null;
        previousReceiveKey = null;
    }

    /** @return true after {@link #destroy()} */
    public boolean isDestroyed() {
        return destroyed;
    }

    private void checkAlive() {
        if (destroyed) {
            throw new IllegalStateException("packet protector was destroyed");
        }
    }
}
