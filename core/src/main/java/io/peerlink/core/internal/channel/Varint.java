package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;

/**
 * RFC 9000 section 16 variable-length integers: the two top bits of the first byte give the
 * length (1, 2, 4 or 8 bytes), the rest is a big-endian value of up to 62 bits. All methods use
 * absolute or relative ByteBuffer access without allocating.
 */
public final class Varint {
    /** Largest encodable value, 2^62 - 1. */
    public static final long MAX = (1L << 62) - 1;

    private Varint() {
    }

    /**
     * @param value 0..{@link #MAX}
     * @return bytes needed to encode it
     * @throws IllegalArgumentException if out of range
     */
    public static int size(long value) {
        if (value < 0) {
            throw new IllegalArgumentException("varint out of range: " + value);
        }
        if (value < 64) {
            return 1;
        }
        if (value < 16384) {
            return 2;
        }
        if (value < 1073741824) {
            return 4;
        }
        if (value <= MAX) {
            return 8;
        }
        throw new IllegalArgumentException("varint out of range: " + value);
    }

    /**
     * Writes a varint at the buffer's position, advancing it.
     *
     * @param dst destination with room for {@link #size(long)} bytes
     * @param value 0..{@link #MAX}
     * @throws IllegalArgumentException if out of range
     * @throws java.nio.BufferOverflowException if there is no room
     */
    public static void write(ByteBuffer dst, long value) {
        switch (size(value)) {
            case 1:
                dst.put((byte) value);
                break;
            case 2:
                dst.putShort((short) (0x4000 | value));
                break;
            case 4:
                dst.putInt((int) (0x80000000L | value));
                break;
            default:
                dst.putLong(0xC000000000000000L | value);
                break;
        }
    }

    /**
     * Reads a varint at absolute index {@code index} without moving the position.
     *
     * @param src source
     * @param index where it starts
     * @param limit first index not to read
     * @return the value, or -1 if it does not fit before limit (truncated)
     */
    static long readAt(ByteBuffer src, int index, int limit) {
        if (index >= limit) {
            return -1;
        }
        int first = src.get(index) & 0xFF;
        int len = 1 << (first >>> 6);
        if (index + len > limit) {
            return -1;
        }
        switch (len) {
            case 1:
                return first;
            case 2:
                return src.getShort(index) & 0x3FFF;
            case 4:
                return src.getInt(index) & 0x3FFFFFFFL;
            default:
                return src.getLong(index) & 0x3FFFFFFFFFFFFFFFL;
        }
    }

    /**
     * @param firstByte the first byte of a varint
     * @return its encoded length
     */
    static int lengthOf(int firstByte) {
        return 1 << ((firstByte & 0xFF) >>> 6);
    }
}
