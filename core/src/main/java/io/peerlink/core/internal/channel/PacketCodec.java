package io.peerlink.core.internal.channel;

import io.peerlink.core.internal.link.LinkHeader;

import java.nio.ByteBuffer;
import java.util.zip.CRC32C;

/**
 * Packet layout (docs/protocol-channel.md, "Packet"):
 * <pre>
 * LinkHeader (type 0x40, 8-byte destination connection ID) | packet number (32 bits, truncated)
 * | frames ... | integrity tag (4 bytes)
 * </pre>
 * Sealing is kept apart from frame encoding so that end-to-end encryption can replace it: the
 * header and packet number become AEAD associated data, the frames the plaintext, and the tag
 * grows to the AEAD's. Until then the tag is a CRC32C over everything before it; it protects
 * against corruption on paths without a checksum (relays, in-process tests), not against an
 * attacker. A datagram whose tag does not verify is dropped silently, as QUIC drops packets that
 * fail authentication; only packets that verify and then turn out malformed are protocol
 * violations.
 */
public final class PacketCodec {
    /** Link type byte of a normal channel packet. */
    public static final int TYPE_PACKET = LinkHeader.CHANNEL_FIRST;
    /** Bytes of the truncated packet number on the wire. */
    public static final int PACKET_NUMBER_LENGTH = 4;
    /** Bytes before the first frame. */
    public static final int HEADER_LENGTH = LinkHeader.LENGTH + PACKET_NUMBER_LENGTH;
    /** Bytes of the integrity tag after the last frame. */
    public static final int TAG_LENGTH = 4;
    /** Header plus tag: what a packet costs besides its frames. */
    public static final int OVERHEAD = HEADER_LENGTH + TAG_LENGTH;
    /** Result of {@link #open} for a datagram that is dropped silently (failed integrity check). */
    public static final long DROPPED = -1;
    /** Result of {@link #open} for a datagram addressed to another connection ID. */
    public static final long NOT_FOR_US = -2;

    private final CRC32C crc = new CRC32C();

    /**
     * Writes the header at the buffer's position.
     *
     * @param dst destination
     * @param destinationConnectionId the peer's connection ID
     * @param packetNumber full packet number; the low 32 bits go on the wire
     */
    public void writeHeader(ByteBuffer dst, long destinationConnectionId, long packetNumber) {
        dst.put((byte) TYPE_PACKET);
        dst.putLong(destinationConnectionId);
        dst.putInt((int) packetNumber);
    }

    /**
     * Appends the integrity tag over {@code [start, position)}.
     *
     * @param packet the packet being built; needs {@link #TAG_LENGTH} bytes of room
     * @param start index of the header's first byte
     */
    public void seal(ByteBuffer packet, int start) {
        int end = packet.position();
        int limit = packet.limit();
        crc.reset();
        // Moves the packet's own position/limit rather than taking a duplicate: no allocation per packet.
        packet.position(start).limit(end);
        crc.update(packet);
        packet.limit(limit).position(end);
        packet.putInt((int) crc.getValue());
    }

    /**
     * Verifies a received datagram and reconstructs its packet number. On success the buffer's
     * position is at the first frame and its limit just before the tag.
     *
     * @param datagram the whole datagram between position and limit
     * @param localConnectionId our connection ID
     * @param largestReceived largest packet number received so far, -1 if none
     * @return the full packet number, {@link #DROPPED} or {@link #NOT_FOR_US}
     * @throws FrameFormatException if the datagram is too short for a packet or has a type this
     *         version does not know
     */
    public long open(ByteBuffer datagram, long localConnectionId, long largestReceived) throws FrameFormatException {
        int start = datagram.position();
        int end = datagram.limit();
        if (end - start < OVERHEAD + 1) {
            throw new FrameFormatException("datagram of " + (end - start) + " bytes is shorter than the smallest packet ("
                    + (OVERHEAD + 1) + ")");
        }
        crc.reset();
        int tagAt = end - TAG_LENGTH;
        datagram.limit(tagAt);
        crc.update(datagram);
        datagram.limit(end).position(start);
        if ((int) crc.getValue() != datagram.getInt(tagAt)) {
            return DROPPED;
        }
        int type = datagram.get(start) & 0xFF;
        if (type != TYPE_PACKET) {
            throw new FrameFormatException("unknown channel packet type 0x" + Integer.toHexString(type));
        }
        if (datagram.getLong(start + 1) != localConnectionId) {
            return NOT_FOR_US;
        }
        long truncated = datagram.getInt(start + LinkHeader.LENGTH) & 0xFFFFFFFFL;
        datagram.position(start + HEADER_LENGTH).limit(tagAt);
        return decodePacketNumber(largestReceived, truncated);
    }

    /**
     * RFC 9000 appendix A.3 with a 32-bit truncated packet number.
     *
     * @param largest largest packet number received, -1 if none
     * @param truncated the 32 bits on the wire
     * @return the packet number closest to largest + 1
     */
    public static long decodePacketNumber(long largest, long truncated) {
        long expected = largest + 1;
        long window = 1L << 32;
        long half = window >>> 1;
        long mask = window - 1;
        long candidate = (expected & ~mask) | truncated;
        if (candidate <= expected - half && candidate < (1L << 62) - window) {
            return candidate + window;
        }
        if (candidate > expected + half && candidate >= window) {
            return candidate - window;
        }
        return candidate;
    }
}
