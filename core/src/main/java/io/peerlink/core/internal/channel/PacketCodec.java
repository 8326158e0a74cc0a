package io.peerlink.core.internal.channel;

import io.peerlink.core.internal.link.LinkHeader;

import java.nio.ByteBuffer;
import java.util.Objects;

/**
 * Packet layout (docs/protocol-channel.md, "Packet"):
 * <pre>
 * LinkHeader (type 0x40, 8-byte destination connection ID) | packet number (32 bits, truncated)
 * | frames ... | tag ({@link PacketSealer#tagLength()} bytes)
 * </pre>
 * Sealing is kept apart from frame encoding: the header and packet number are associated data,
 * the frames the plaintext, and a {@link PacketSealer} appends and checks the tag. The default
 * sealer is {@link Crc32cSealer} (4 bytes, corruption only, not security); an AEAD sealer makes the
 * tag 16 bytes. A datagram that does not open is dropped silently, as QUIC drops packets that fail
 * authentication — so is one too short to be a packet, or of an unknown type, since nothing
 * unauthenticated may end a channel. Only packets that open and then turn out malformed are
 * protocol violations.
 */
public final class PacketCodec {
    /** Link type byte of a normal channel packet; the low bit is the key phase (0x40 or 0x41). */
    public static final int TYPE_PACKET = LinkHeader.CHANNEL_FIRST;
    /** Bytes of the truncated packet number on the wire. */
    public static final int PACKET_NUMBER_LENGTH = 4;
    /** Bytes before the first frame. */
    public static final int HEADER_LENGTH = LinkHeader.LENGTH + PACKET_NUMBER_LENGTH;
    /** Bytes of the unsealed (CRC32C) tag; a sealed codec's is {@link #tagLength()}. */
    public static final int TAG_LENGTH = Crc32cSealer.TAG_LENGTH;
    /** Header plus CRC32C tag: what an unsealed packet costs besides its frames; see {@link #overhead()}. */
    public static final int OVERHEAD = HEADER_LENGTH + TAG_LENGTH;
    /** Result of {@link #open} for a datagram that is dropped silently (not authentic, too short, unknown type). */
    public static final long DROPPED = -1;
    /** Result of {@link #open} for a datagram addressed to another connection ID. */
    public static final long NOT_FOR_US = -2;

    private final PacketSealer sealer;
    private final int tagLength;
    private long headerPacketNumber = -1;

    /** A codec with the unsealed {@link Crc32cSealer} (tests, benchmarks). */
    public PacketCodec() {
        this(new Crc32cSealer());
    }

    /**
     * @param sealer seals and opens every packet
     * @throws NullPointerException if sealer is null
     */
    public PacketCodec(PacketSealer sealer) {
        this.sealer = Objects.requireNonNull(sealer, "sealer");
        this.tagLength = sealer.tagLength();
    }

    /** @return bytes of this codec's tag */
    public int tagLength() {
        return tagLength;
    }

    /** @return header plus tag: what a packet costs besides its frames */
    public int overhead() {
        return HEADER_LENGTH + tagLength;
    }

    /**
     * Writes the header at the buffer's position; the next {@link #seal} seals this packet.
     *
     * @param dst destination
     * @param destinationConnectionId the peer's connection ID
     * @param packetNumber full packet number; the low 32 bits go on the wire
     */
    public void writeHeader(ByteBuffer dst, long destinationConnectionId, long packetNumber) {
        writeHeader(dst, destinationConnectionId, packetNumber, System.nanoTime());
    }

    /**
     * Writes the header at the buffer's position; the next {@link #seal} seals this packet. The
     * type byte carries the sealer's key phase in its low bit ({@code 0x40} or {@code 0x41}).
     *
     * @param dst destination
     * @param destinationConnectionId the peer's connection ID
     * @param packetNumber full packet number; the low 32 bits go on the wire
     * @param nowNanos the loop clock (the sealer's key update is time-based)
     */
    public void writeHeader(ByteBuffer dst, long destinationConnectionId, long packetNumber, long nowNanos) {
        dst.put((byte) (TYPE_PACKET | (sealer.keyPhase(nowNanos) & 1)));
        dst.putLong(destinationConnectionId);
        dst.putInt((int) packetNumber);
        headerPacketNumber = packetNumber;
    }

    /** @param packetNumber acknowledged by the peer (the sealer's key update waits for one) */
    public void onAcknowledged(long packetNumber) {
        sealer.onAcknowledged(packetNumber);
    }

    /**
     * Seals the packet whose header {@link #writeHeader} wrote last: {@code [start, start +
     * HEADER_LENGTH)} is associated data, the frames up to the position the plaintext, and the
     * tag is appended.
     *
     * @param packet the packet being built; needs {@link #tagLength()} bytes of room
     * @param start index of the header's first byte
     */
    public void seal(ByteBuffer packet, int start) {
        sealer.seal(packet, start, HEADER_LENGTH, headerPacketNumber);
    }

    /**
     * Opens a received datagram and reconstructs its packet number. On success the buffer's
     * position is at the first frame and its limit just before the tag.
     *
     * @param datagram the whole datagram between position and limit
     * @param localConnectionId our connection ID
     * @param largestReceived largest packet number received so far, -1 if none
     * @return the full packet number, {@link #DROPPED} or {@link #NOT_FOR_US}
     */
    public long open(ByteBuffer datagram, long localConnectionId, long largestReceived) {
        return open(datagram, localConnectionId, largestReceived, System.nanoTime());
    }

    /**
     * As {@link #open(ByteBuffer, long, long)} with the loop clock (the sealer's key update and
     * replay window may use it).
     *
     * @param datagram the whole datagram between position and limit
     * @param localConnectionId our connection ID
     * @param largestReceived largest packet number received so far, -1 if none
     * @param nowNanos the loop clock
     * @return the full packet number, {@link #DROPPED} or {@link #NOT_FOR_US}
     */
    public long open(ByteBuffer datagram, long localConnectionId, long largestReceived, long nowNanos) {
        int start = datagram.position();
        int end = datagram.limit();
        if (end - start < HEADER_LENGTH + tagLength + 1) {
            return DROPPED;
        }
        int type = datagram.get(start) & 0xFF;
        if ((type & ~1) != TYPE_PACKET) {
            return DROPPED;
        }
        if (datagram.getLong(start + 1) != localConnectionId) {
            return NOT_FOR_US;
        }
        long truncated = datagram.getInt(start + LinkHeader.LENGTH) & 0xFFFFFFFFL;
        long pn = decodePacketNumber(largestReceived, truncated);
        if (!sealer.open(datagram, start, HEADER_LENGTH, pn, type & 1, nowNanos)) {
            return DROPPED;
        }
        datagram.position(start + HEADER_LENGTH).limit(end - tagLength);
        return pn;
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
