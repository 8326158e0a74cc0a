package io.peerlink.protocol.stun;

import java.nio.ByteBuffer;

/**
 * TURN ChannelData framing (RFC 8656 section 12.4): a 2-byte channel number in
 * 0x4000-0x4FFF (0x4000-0x7FFF accepted, as RFC 5766 clients use it), a 2-byte length, then the application data. Over UDP the frame is the whole
 * datagram (trailing padding allowed); over TCP/TLS it is padded to a multiple of 4 bytes.
 * The first two bits {@code 01} tell it apart from a STUN message ({@code 00}).
 */
public final class ChannelData {
    private ChannelData() {
    }

    /** @param firstByte first byte of a datagram or stream frame @return true if it starts ChannelData */
    public static boolean looksLikeChannelData(int firstByte) {
        return (firstByte & 0xC0) == 0x40;
    }

    /**
     * Writes a frame at {@code out.position()}.
     *
     * @param out destination
     * @param channel 0x4000..0x7FFF
     * @param data application data (position..limit; not moved)
     * @param padForStream pad to 4 bytes, as TCP/TLS require
     */
    public static void write(ByteBuffer out, int channel, ByteBuffer data, boolean padForStream) {
        checkChannel(channel);
        int n = data.remaining();
        if (n > 0xFFFF) {
            throw new IllegalArgumentException("ChannelData carries at most 65535 bytes: " + n);
        }
        out.putShort((short) channel).putShort((short) n).put(data.duplicate());
        if (padForStream) {
            for (int i = n; (i & 3) != 0; i++) {
                out.put((byte) 0);
            }
        }
    }

    /** @param channel a channel number @throws IllegalArgumentException outside 0x4000..0x7FFF */
    public static void checkChannel(int channel) {
        if (channel < Turn.MIN_CHANNEL || channel > Turn.MAX_CHANNEL_ACCEPTED) {
            throw new IllegalArgumentException("channel number must be 0x4000..0x7FFF: 0x" + Integer.toHexString(channel));
        }
    }

    /**
     * @param src a received frame (position..limit; not moved)
     * @return its channel number
     * @throws StunFormatException if the frame is shorter than its header or declared length,
     *         or the channel is outside 0x4000..0x7FFF
     */
    public static int channel(ByteBuffer src) throws StunFormatException {
        if (src.remaining() < Turn.CHANNEL_DATA_HEADER) {
            throw new StunFormatException("truncated ChannelData: " + src.remaining() + " bytes, the header needs 4");
        }
        int channel = src.getShort(src.position()) & 0xffff;
        if (channel < Turn.MIN_CHANNEL || channel > Turn.MAX_CHANNEL_ACCEPTED) {
            throw new StunFormatException("ChannelData channel 0x" + Integer.toHexString(channel) + " is outside 0x4000..0x7FFF");
        }
        int length = src.getShort(src.position() + 2) & 0xffff;
        if (length > src.remaining() - Turn.CHANNEL_DATA_HEADER) {
            throw new StunFormatException("ChannelData declares " + length + " bytes but only "
                    + (src.remaining() - Turn.CHANNEL_DATA_HEADER) + " follow");
        }
        return channel;
    }

    /**
     * @param src a frame that {@link #channel(ByteBuffer)} accepted
     * @return a view of its application data (shares {@code src}'s content)
     */
    public static ByteBuffer data(ByteBuffer src) {
        int length = src.getShort(src.position() + 2) & 0xffff;
        return src.duplicate().position(src.position() + 4).limit(src.position() + 4 + length).slice();
    }

    /**
     * Bytes a stream frame starting at {@code src.position()} occupies, once its 4-byte header is there.
     *
     * @param src at least 4 bytes of a stream
     * @return the frame length including header and padding (STUN: 20 + length; ChannelData: 4 + length padded)
     * @throws StunFormatException if the first two bits are neither STUN ({@code 00}) nor ChannelData ({@code 01})
     */
    public static int streamFrameLength(ByteBuffer src) throws StunFormatException {
        int first = src.get(src.position()) & 0xff;
        int length = src.getShort(src.position() + 2) & 0xffff;
        if (Stun.looksLikeStun(first)) {
            return Stun.HEADER_LENGTH + length;
        }
        if (looksLikeChannelData(first)) {
            return Turn.CHANNEL_DATA_HEADER + ((length + 3) & ~3);
        }
        throw new StunFormatException("stream frame starts with 0x" + Integer.toHexString(first) + ": neither STUN nor ChannelData");
    }
}
