package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;

/**
 * Seals and opens channel packets in place: the packet header (link header and truncated packet
 * number) is associated data, the frames are the plaintext, and the tag follows them.
 * {@link PacketCodec} calls it for every packet; an AEAD (the security layer's packet protector)
 * plugs in here with a 16-byte tag, {@link Crc32cSealer} is the unsealed stand-in for tests and
 * benchmarks. One instance per channel, called on the channel's loop thread only.
 */
public interface PacketSealer {
    /** Tag length of an AEAD (AES-GCM, ChaCha20-Poly1305). */
    int AEAD_TAG_LENGTH = 16;

    /** @return bytes the tag adds after the frames */
    int tagLength();

    /**
     * Seals {@code [start + headerLength, packet.position())} with {@code [start, start + headerLength)}
     * as associated data and writes the tag after it.
     *
     * @param packet the packet being built; {@link #tagLength()} bytes of room after its position;
     *        on return its position is just after the tag
     * @param start index of the header's first byte
     * @param headerLength bytes of header (associated data)
     * @param packetNumber the full packet number (the nonce of an AEAD); never repeats
     */
    void seal(ByteBuffer packet, int start, int headerLength, long packetNumber);

    /**
     * Authenticates and opens {@code [start, datagram.limit())} in place.
     *
     * @param datagram a received datagram
     * @param start index of the header's first byte
     * @param headerLength bytes of header (associated data)
     * @param packetNumber the full packet number reconstructed from the header
     * @param keyPhase the key-phase bit from the header's type byte, 0 or 1
     * @param nowNanos the loop clock
     * @return true if authentic (and not a replay): the plaintext frames are then at
     *         {@code [start + headerLength, limit - tagLength())}; false to drop the datagram
     *         silently. Must not throw for hostile input.
     */
    boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber, int keyPhase, long nowNanos);

    /**
     * @param nowNanos the loop clock
     * @return the key-phase bit (0 or 1) of the key the next {@link #seal} uses; {@link PacketCodec}
     *         writes it into the low bit of the header's type byte. Sealers without key update: 0.
     */
    default int keyPhase(long nowNanos) {
        return 0;
    }

    /**
     * The peer acknowledged this packet: a sealer with key update may move to the next key once
     * a packet sealed with the current one was acknowledged (RFC 9001 section 6).
     *
     * @param packetNumber an acknowledged packet number
     */
    default void onAcknowledged(long packetNumber) {
    }
}
