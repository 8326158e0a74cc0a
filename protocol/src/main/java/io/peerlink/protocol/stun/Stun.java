package io.peerlink.protocol.stun;

/** RFC 8489 constants shared by the codec, the client helper and the server. */
public final class Stun {
    /** The fixed magic cookie in every RFC 5389/8489 message. */
    public static final int MAGIC_COOKIE = 0x2112A442;
    /** Bytes of the message header. */
    public static final int HEADER_LENGTH = 20;
    /** Bytes of the transaction ID. */
    public static final int TRANSACTION_ID_LENGTH = 12;
    /**
     * Largest message this implementation accepts or produces. Binding messages are small; the
     * IPv6 minimum MTU minus IP/UDP headers keeps every message in one unfragmented datagram.
     */
    public static final int MAX_MESSAGE_LENGTH = 1232;

    /** Binding request (method 0x001, class request). */
    public static final int BINDING_REQUEST = 0x0001;
    /** Binding indication. */
    public static final int BINDING_INDICATION = 0x0011;
    /** Binding success response. */
    public static final int BINDING_SUCCESS = 0x0101;
    /** Binding error response. */
    public static final int BINDING_ERROR = 0x0111;

    /** MAPPED-ADDRESS (RFC 8489 14.1). */
    public static final int ATTR_MAPPED_ADDRESS = 0x0001;
    /** MESSAGE-INTEGRITY (RFC 8489 14.5). */
    public static final int ATTR_MESSAGE_INTEGRITY = 0x0008;
    /** ERROR-CODE (RFC 8489 14.8). */
    public static final int ATTR_ERROR_CODE = 0x0009;
    /** UNKNOWN-ATTRIBUTES (RFC 8489 14.9). */
    public static final int ATTR_UNKNOWN_ATTRIBUTES = 0x000A;
    /** MESSAGE-INTEGRITY-SHA256 (RFC 8489 14.6). */
    public static final int ATTR_MESSAGE_INTEGRITY_SHA256 = 0x001C;
    /** XOR-MAPPED-ADDRESS (RFC 8489 14.2). */
    public static final int ATTR_XOR_MAPPED_ADDRESS = 0x0020;
    /** SOFTWARE (RFC 8489 14.14). */
    public static final int ATTR_SOFTWARE = 0x8022;
    /** FINGERPRINT (RFC 8489 14.7). */
    public static final int ATTR_FINGERPRINT = 0x8028;

    /** XORed into the CRC-32 of a FINGERPRINT attribute. */
    public static final int FINGERPRINT_XOR = 0x5354554e;

    /** Address family IPv4 in (XOR-)MAPPED-ADDRESS. */
    public static final int FAMILY_IPV4 = 0x01;
    /** Address family IPv6 in (XOR-)MAPPED-ADDRESS. */
    public static final int FAMILY_IPV6 = 0x02;

    /** ERROR-CODE 420 Unknown Attribute. */
    public static final int ERROR_UNKNOWN_ATTRIBUTE = 420;
    /** Most comprehension-required attribute types listed in one 420 response. */
    public static final int MAX_UNKNOWN_LISTED = 16;

    private Stun() {
    }

    /**
     * @param firstByte first byte of a datagram
     * @return true if the top two bits are {@code 00}, as in every STUN message (RFC 8489 section 5);
     *         this is how a socket shared with PeerLink traffic routes datagrams
     */
    public static boolean looksLikeStun(int firstByte) {
        return (firstByte & 0xC0) == 0;
    }
}
