package io.peerlink.core.internal.link;

/**
 * The first bytes of every PeerLink datagram, shared by every layer that demultiplexes them
 * (see docs/protocol.md, "Link header"):
 *
 * <pre>
 *  0                   1
 *  0 1 2 3 4 5 6 7 8 ...
 * +-+-+-+-+-+-+-+-+-------------------------------+
 * |0 1| type (6)  | destination connection ID (64) | type-specific ...
 * +-+-+-+-+-+-+-+-+-------------------------------+
 * </pre>
 *
 * The top two bits are {@code 01}, which keeps PeerLink datagrams apart from STUN (top bits
 * {@code 00}, RFC 8489) on a shared socket. Types 0x40..0x4F belong to the reliable channel
 * (protected packets), 0x50..0x5F to link set-up (hello, connectivity checks).
 */
public final class LinkHeader {
    /** Bytes of type plus connection ID. */
    public static final int LENGTH = 9;
    /** Mask selecting the marker bits. */
    public static final int MARKER_MASK = 0xC0;
    /** Marker bits of every PeerLink datagram. */
    public static final int MARKER = 0x40;

    /** First type of the reliable channel's range. */
    public static final int CHANNEL_FIRST = 0x40;
    /** Last type of the reliable channel's range. */
    public static final int CHANNEL_LAST = 0x4F;
    /** First type of the link set-up range. */
    public static final int SETUP_FIRST = 0x50;
    /** Last type of the link set-up range. */
    public static final int SETUP_LAST = 0x5F;

    private LinkHeader() {
    }

    /**
     * @param firstByte the first byte of a datagram
     * @return true if it is a PeerLink datagram
     */
    public static boolean isPeerLink(int firstByte) {
        return (firstByte & MARKER_MASK) == MARKER;
    }
}
