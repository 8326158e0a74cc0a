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
     * @param datagram a received datagram; position and limit are not changed
     * @param start index of the header's first byte
     * @param headerLength bytes of header (associated data)
     * @param packetNumber the full packet number reconstructed from the header
     * @return true if authentic: the plaintext frames are then at
     *         {@code [start + headerLength, limit - tagLength())}; false to drop the datagram silently
     */
    boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber);

    /**
     * The peer acknowledged a packet sealed by this sealer (an AEAD sealer may then move to its next
     * key, RFC 9001 section 6). The sealer may also set the low bit of the type byte at
     * {@code start} in {@link #seal} (its key phase); the header is associated data. Default: nothing.
     *
     * @param packetNumber the acknowledged packet number
     */
    default void onAcknowledged(long packetNumber) {
    }
}
