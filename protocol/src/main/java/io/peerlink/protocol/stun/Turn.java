package io.peerlink.protocol.stun;

/**
 * RFC 8656 (TURN) constants: methods, attributes and the ChannelData channel range, plus the
 * STUN message-type arithmetic that interleaves method and class bits (RFC 8489 section 5).
 */
public final class Turn {
    /** Class bits of a request. */
    public static final int CLASS_REQUEST = 0b00;
    /** Class bits of an indication. */
    public static final int CLASS_INDICATION = 0b01;
    /** Class bits of a success response. */
    public static final int CLASS_SUCCESS = 0b10;
    /** Class bits of an error response. */
    public static final int CLASS_ERROR = 0b11;

    /** Allocate (RFC 8656 section 7). */
    public static final int METHOD_ALLOCATE = 0x003;
    /** Refresh (section 8). */
    public static final int METHOD_REFRESH = 0x004;
    /** Send indication (section 11). */
    public static final int METHOD_SEND = 0x006;
    /** Data indication (section 11). */
    public static final int METHOD_DATA = 0x007;
    /** CreatePermission (section 10). */
    public static final int METHOD_CREATE_PERMISSION = 0x008;
    /** ChannelBind (section 12). */
    public static final int METHOD_CHANNEL_BIND = 0x009;

    /** USERNAME (RFC 8489 14.3). */
    public static final int ATTR_USERNAME = 0x0006;
    /** CHANNEL-NUMBER (RFC 8656 18.1). */
    public static final int ATTR_CHANNEL_NUMBER = 0x000C;
    /** LIFETIME (18.2). */
    public static final int ATTR_LIFETIME = 0x000D;
    /** XOR-PEER-ADDRESS (18.3). */
    public static final int ATTR_XOR_PEER_ADDRESS = 0x0012;
    /** DATA (18.4). */
    public static final int ATTR_DATA = 0x0013;
    /** REALM (RFC 8489 14.9). */
    public static final int ATTR_REALM = 0x0014;
    /** NONCE (RFC 8489 14.10). */
    public static final int ATTR_NONCE = 0x0015;
    /** XOR-RELAYED-ADDRESS (18.5). */
    public static final int ATTR_XOR_RELAYED_ADDRESS = 0x0016;
    /** REQUESTED-TRANSPORT (18.7). */
    public static final int ATTR_REQUESTED_TRANSPORT = 0x0019;
    /** EVEN-PORT (18.6). */
    public static final int ATTR_EVEN_PORT = 0x0018;
    /** REQUESTED-ADDRESS-FAMILY (18.9). */
    public static final int ATTR_REQUESTED_ADDRESS_FAMILY = 0x0017;

    /** REQUESTED-TRANSPORT protocol number for UDP. */
    public static final int PROTOCOL_UDP = 17;

    /** 400 Bad Request. */
    public static final int ERROR_BAD_REQUEST = 400;
    /** 401 Unauthenticated. */
    public static final int ERROR_UNAUTHENTICATED = 401;
    /** 403 Forbidden. */
    public static final int ERROR_FORBIDDEN = 403;
    /** 437 Allocation Mismatch. */
    public static final int ERROR_ALLOCATION_MISMATCH = 437;
    /** 438 Stale Nonce. */
    public static final int ERROR_STALE_NONCE = 438;
    /** 440 Address Family not Supported. */
    public static final int ERROR_ADDRESS_FAMILY = 440;
    /** 442 Unsupported Transport Protocol. */
    public static final int ERROR_UNSUPPORTED_TRANSPORT = 442;
    /** 486 Allocation Quota Reached. */
    public static final int ERROR_QUOTA_REACHED = 486;
    /** 508 Insufficient Capacity. */
    public static final int ERROR_INSUFFICIENT_CAPACITY = 508;

    /** Lowest channel number (RFC 8656 section 12). */
    public static final int MIN_CHANNEL = 0x4000;
    /** Highest channel number a client binds (RFC 8656 narrowed the range to 0x4000-0x4FFF). */
    public static final int MAX_CHANNEL = 0x4FFF;
    /**
     * Highest channel number accepted from others: RFC 5766 allowed 0x4000-0x7FFF and deployed
     * clients (coturn's turnutils_uclient among them) still pick from that range.
     */
    public static final int MAX_CHANNEL_ACCEPTED = 0x7FFF;
    /** Bytes of the ChannelData header. */
    public static final int CHANNEL_DATA_HEADER = 4;

    /** Default allocation lifetime in seconds (section 3.2). */
    public static final int DEFAULT_LIFETIME_SECONDS = 600;
    /** Permission lifetime in seconds (section 9). */
    public static final int PERMISSION_LIFETIME_SECONDS = 300;
    /** Channel binding lifetime in seconds (section 12). */
    public static final int CHANNEL_LIFETIME_SECONDS = 600;

    private Turn() {
    }

    /**
     * @param method 12-bit method
     * @param cls one of the {@code CLASS_*} constants
     * @return the 14-bit message type
     */
    public static int type(int method, int cls) {
        if (method < 0 || method > 0xFFF || cls < 0 || cls > 3) {
            throw new IllegalArgumentException("method 0x" + Integer.toHexString(method) + " class " + cls);
        }
        return (method & 0x000F) | ((method & 0x0070) << 1) | ((method & 0x0F80) << 2)
                | ((cls & 1) << 4) | ((cls & 2) << 7);
    }

    /** @param type 14-bit message type @return its method */
    public static int method(int type) {
        return (type & 0x000F) | ((type & 0x00E0) >> 1) | ((type & 0x3E00) >> 2);
    }

    /** @param type 14-bit message type @return its class */
    public static int messageClass(int type) {
        return ((type >> 4) & 1) | ((type >> 7) & 2);
    }
}
