package io.peerlink.protocol.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Arrays;
import java.util.zip.CRC32;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * A strict decoder for any STUN message, sized for TURN (RFC 8656): unlike {@link StunMessage},
 * which only needs Binding and caps messages at {@link Stun#MAX_MESSAGE_LENGTH}, a TURN Send or
 * Data indication carries a whole datagram, and over TCP a message may be up to 64 KiB.
 *
 * <p>Rules enforced (each violation is a {@link StunFormatException} naming the offset): header
 * present; at most {@code maxLength} bytes; top two bits {@code 00}; magic cookie; length field a
 * multiple of 4 and equal to the bytes given; every attribute's padded value inside the message;
 * at most {@link #MAX_ATTRIBUTES} attributes; FINGERPRINT, if present, last and correct; known
 * attributes (addresses, LIFETIME, REQUESTED-TRANSPORT, CHANNEL-NUMBER, USERNAME, REALM, NONCE,
 * ERROR-CODE, MESSAGE-INTEGRITY(-SHA256)) of valid length and content. Attributes after
 * MESSAGE-INTEGRITY other than MESSAGE-INTEGRITY-SHA256 and FINGERPRINT are ignored (RFC 8489
 * section 14.5); only the first instance of a repeated attribute counts.
 *
 * <p>The decoder copies the message, so the source buffer may be reused at once. Not thread-safe.
 */
public final class TurnMessage {
    /** Most attributes accepted in one message: a legitimate TURN message has fewer than 12. */
    public static final int MAX_ATTRIBUTES = 32;
    /** Largest message over a stream: the 16-bit length field's largest multiple of 4, plus the header. */
    public static final int MAX_STREAM_MESSAGE = Stun.HEADER_LENGTH + 0xFFFC;

    private final int maxLength;
    private final CRC32 crc = new CRC32();
    private final int[] attrTypes = new int[MAX_ATTRIBUTES];
    private final int[] attrOffsets = new int[MAX_ATTRIBUTES];
    private final int[] attrLengths = new int[MAX_ATTRIBUTES];
    private byte[] bytes = new byte[0];
    private int total;
    private int attrCount;
    private int type;
    private int integrityOffset;
    private int integritySha256Offset;
    private boolean hasFingerprint;

    /** @param maxLength largest whole message accepted, 20..{@link #MAX_STREAM_MESSAGE} */
    public TurnMessage(int maxLength) {
        if (maxLength < Stun.HEADER_LENGTH || maxLength > MAX_STREAM_MESSAGE) {
            throw new IllegalArgumentException("maxLength must be 20.." + MAX_STREAM_MESSAGE + ": " + maxLength);
        }
        this.maxLength = maxLength;
    }

    /** A decoder for datagrams and stream messages of any legal size. */
    public TurnMessage() {
        this(MAX_STREAM_MESSAGE);
    }

    /**
     * Decodes one whole message, {@code src.position()} to {@code src.limit()}; the position is not moved.
     *
     * @param src the message
     * @throws StunFormatException if it is not a well-formed STUN message
     */
    public void decode(ByteBuffer src) throws StunFormatException {
        attrCount = 0;
        type = -1;
        integrityOffset = -1;
        integritySha256Offset = -1;
        hasFingerprint = false;
        int n = src.remaining();
        if (n < Stun.HEADER_LENGTH) {
            throw new StunFormatException("truncated: " + n + " bytes, a STUN header needs " + Stun.HEADER_LENGTH);
        }
        if (n > maxLength) {
            throw new StunFormatException("oversized: " + n + " bytes, the limit is " + maxLength);
        }
        if (bytes.length < n) {
            bytes = new byte[Math.max(n, Math.min(maxLength, 2048))];
        }
        src.get(src.position(), bytes, 0, n);
        total = n;
        ByteBuffer b = ByteBuffer.wrap(bytes, 0, n);
        int msgType = b.getShort(0) & 0xffff;
        if ((msgType & 0xC000) != 0) {
            throw new StunFormatException("not STUN: top two bits of the message type are not 00 (type 0x" + Integer.toHexString(msgType) + ")");
        }
        int msgLength = b.getShort(2) & 0xffff;
        if ((msgLength & 3) != 0) {
            throw new StunFormatException("message length " + msgLength + " is not a multiple of 4");
        }
        if (msgLength != n - Stun.HEADER_LENGTH) {
            throw new StunFormatException("message length field says " + msgLength + " bytes of attributes, the message has " + (n - Stun.HEADER_LENGTH));
        }
        int cookie = b.getInt(4);
        if (cookie != Stun.MAGIC_COOKIE) {
            throw new StunFormatException("bad magic cookie 0x" + Integer.toHexString(cookie));
        }
        int offset = Stun.HEADER_LENGTH;
        boolean afterIntegrity = false;
        int seen = 0;
        while (offset < n) {
            if (hasFingerprint) {
                throw new StunFormatException("attribute at offset " + offset + " follows FINGERPRINT, which must be last");
            }
            if (++seen > MAX_ATTRIBUTES) {
                throw new StunFormatException("more than " + MAX_ATTRIBUTES + " attributes");
            }
            int attrType = b.getShort(offset) & 0xffff;
            int attrLength = b.getShort(offset + 2) & 0xffff;
            int valueAt = offset + 4;
            int padded = (attrLength + 3) & ~3;
            if (padded > n - valueAt) {
                throw new StunFormatException("attribute 0x" + Integer.toHexString(attrType) + " at offset " + offset
                        + " declares " + attrLength + " bytes but only " + (n - valueAt) + " remain");
            }
            if (attrType == Stun.ATTR_FINGERPRINT) {
                if (attrLength != 4) {
                    throw new StunFormatException("FINGERPRINT at offset " + offset + " has length " + attrLength + ", expected 4");
                }
                crc.reset();
                crc.update(bytes, 0, offset);
                int expected = (int) crc.getValue() ^ Stun.FINGERPRINT_XOR;
                if (expected != b.getInt(valueAt)) {
                    throw new StunFormatException("FINGERPRINT mismatch at offset " + offset);
                }
                hasFingerprint = true;
            } else if (attrType == Stun.ATTR_MESSAGE_INTEGRITY_SHA256) {
                if (attrLength < 16 || attrLength > 32 || (attrLength & 3) != 0) {
                    throw new StunFormatException("MESSAGE-INTEGRITY-SHA256 at offset " + offset + " has invalid length " + attrLength);
                }
                if (integritySha256Offset < 0) {
                    integritySha256Offset = offset;
                }
                afterIntegrity = true;
            } else if (!afterIntegrity) {
                validate(b, attrType, attrLength, valueAt, offset);
                if (attrType == Stun.ATTR_MESSAGE_INTEGRITY) {
                    integrityOffset = offset;
                    afterIntegrity = true;
                } else if (find(attrType) < 0) {
                    attrTypes[attrCount] = attrType;
                    attrOffsets[attrCount] = valueAt;
                    attrLengths[attrCount] = attrLength;
                    attrCount++;
                }
            }
            offset = valueAt + padded;
        }
        type = msgType;
    }

    private static void validate(ByteBuffer b, int attrType, int len, int valueAt, int offset) throws StunFormatException {
        switch (attrType) {
            case Stun.ATTR_XOR_MAPPED_ADDRESS, Turn.ATTR_XOR_PEER_ADDRESS, Turn.ATTR_XOR_RELAYED_ADDRESS, Stun.ATTR_MAPPED_ADDRESS -> {
                if (len < 4) {
                    throw new StunFormatException("address attribute 0x" + Integer.toHexString(attrType) + " at offset " + offset + " has length " + len);
                }
                int family = b.get(valueAt + 1) & 0xff;
                int expected = family == Stun.FAMILY_IPV4 ? 8 : family == Stun.FAMILY_IPV6 ? 20 : -1;
                if (expected < 0) {
                    throw new StunFormatException("address attribute at offset " + offset + " has unknown family 0x" + Integer.toHexString(family));
                }
                if (len != expected) {
                    throw new StunFormatException("address attribute at offset " + offset + " has length " + len + ", expected " + expected);
                }
            }
            case Turn.ATTR_LIFETIME, Turn.ATTR_REQUESTED_TRANSPORT -> {
                if (len != 4) {
                    throw new StunFormatException("attribute 0x" + Integer.toHexString(attrType) + " at offset " + offset + " has length " + len + ", expected 4");
                }
            }
            case Turn.ATTR_CHANNEL_NUMBER -> {
                if (len != 4) {
                    throw new StunFormatException("CHANNEL-NUMBER at offset " + offset + " has length " + len + ", expected 4");
                }
            }
            case Turn.ATTR_USERNAME -> {
                if (len > 513) {
                    throw new StunFormatException("USERNAME at offset " + offset + " is " + len + " bytes, at most 513 allowed");
                }
            }
            case Turn.ATTR_REALM, Turn.ATTR_NONCE, Stun.ATTR_SOFTWARE -> {
                if (len > 763) {
                    throw new StunFormatException("attribute 0x" + Integer.toHexString(attrType) + " at offset " + offset + " is " + len + " bytes, at most 763 allowed");
                }
            }
            case Stun.ATTR_ERROR_CODE -> {
                if (len < 4 || len > 4 + 763) {
                    throw new StunFormatException("ERROR-CODE at offset " + offset + " has length " + len);
                }
                int cls = b.get(valueAt + 2) & 0x07;
                int number = b.get(valueAt + 3) & 0xff;
                if (cls < 3 || cls > 6 || number > 99) {
                    throw new StunFormatException("ERROR-CODE at offset " + offset + " has invalid class " + cls + " / number " + number);
                }
            }
            case Stun.ATTR_MESSAGE_INTEGRITY -> {
                if (len != 20) {
                    throw new StunFormatException("MESSAGE-INTEGRITY at offset " + offset + " has length " + len + ", expected 20");
                }
            }
            default -> {
                // Unknown attributes are kept; the server decides whether a comprehension-required one is fatal.
            }
        }
    }

    private int find(int attrType) {
        for (int i = 0; i < attrCount; i++) {
            if (attrTypes[i] == attrType) {
                return i;
            }
        }
        return -1;
    }

    /** @return the 14-bit message type */
    public int type() {
        return type;
    }

    /** @return the method of the message type */
    public int method() {
        return Turn.method(type);
    }

    /** @return the class of the message type ({@code Turn.CLASS_*}) */
    public int messageClass() {
        return Turn.messageClass(type);
    }

    /** @return whole message bytes decoded */
    public int size() {
        return total;
    }

    /** @return a copy of the transaction ID */
    public byte[] transactionId() {
        return Arrays.copyOfRange(bytes, 8, 20);
    }

    /** @param expected 12 bytes @return true if this message carries that transaction ID */
    public boolean hasTransactionId(byte[] expected) {
        return Arrays.equals(bytes, 8, 20, expected, 0, expected.length);
    }

    /** @param attrType attribute type @return true if the message carries it (before MESSAGE-INTEGRITY) */
    public boolean has(int attrType) {
        return find(attrType) >= 0;
    }

    /** @return true if MESSAGE-INTEGRITY or MESSAGE-INTEGRITY-SHA256 is present */
    public boolean hasIntegrity() {
        return integrityOffset >= 0 || integritySha256Offset >= 0;
    }

    /** @return true if the message ended with a valid FINGERPRINT */
    public boolean hasFingerprint() {
        return hasFingerprint;
    }

    /**
     * @return the first unknown comprehension-required attribute type (0x0000-0x7FFF) that a
     *         TURN server does not understand, or -1 (RESERVATION-TOKEN counts as unknown: a
     *         server that does not reserve port pairs must answer it with 420)
     */
    public int firstUnknownRequired() {
        for (int i = 0; i < attrCount; i++) {
            int t = attrTypes[i];
            if (t < 0x8000 && !known(t)) {
                return t;
            }
        }
        return -1;
    }

    private static boolean known(int t) {
        return switch (t) {
            case Stun.ATTR_MAPPED_ADDRESS, Stun.ATTR_XOR_MAPPED_ADDRESS, Stun.ATTR_ERROR_CODE, Stun.ATTR_UNKNOWN_ATTRIBUTES,
                 Turn.ATTR_USERNAME, Turn.ATTR_CHANNEL_NUMBER, Turn.ATTR_LIFETIME, Turn.ATTR_XOR_PEER_ADDRESS, Turn.ATTR_DATA,
                 Turn.ATTR_REALM, Turn.ATTR_NONCE, Turn.ATTR_XOR_RELAYED_ADDRESS, Turn.ATTR_REQUESTED_TRANSPORT,
                 Turn.ATTR_REQUESTED_ADDRESS_FAMILY, Turn.ATTR_EVEN_PORT, 0x001A /* DONT-FRAGMENT: a hint a relay may ignore */ -> true;
            default -> false;
        };
    }

    /** @param attrType attribute type @return a copy of its value, or {@code null} if absent */
    public byte[] bytes(int attrType) {
        int i = find(attrType);
        return i < 0 ? null : Arrays.copyOfRange(bytes, attrOffsets[i], attrOffsets[i] + attrLengths[i]);
    }

    /** @param attrType attribute type @return a read-only view of its value, or {@code null} if absent */
    public ByteBuffer slice(int attrType) {
        int i = find(attrType);
        return i < 0 ? null : ByteBuffer.wrap(bytes, attrOffsets[i], attrLengths[i]).slice().asReadOnlyBuffer();
    }

    /** @param attrType USERNAME, REALM, NONCE or SOFTWARE @return its UTF-8 value, or {@code null} */
    public String string(int attrType) {
        byte[] v = bytes(attrType);
        return v == null ? null : new String(v, StandardCharsets.UTF_8);
    }

    /** @param attrType a 4-byte attribute such as LIFETIME @return its 32-bit value, or -1 if absent */
    public long u32(int attrType) {
        int i = find(attrType);
        return i < 0 ? -1 : ByteBuffer.wrap(bytes).getInt(attrOffsets[i]) & 0xffffffffL;
    }

    /** @return CHANNEL-NUMBER's channel, or -1 if absent */
    public int channelNumber() {
        int i = find(Turn.ATTR_CHANNEL_NUMBER);
        return i < 0 ? -1 : ByteBuffer.wrap(bytes).getShort(attrOffsets[i]) & 0xffff;
    }

    /** @return REQUESTED-TRANSPORT's protocol number, or -1 if absent */
    public int requestedTransport() {
        int i = find(Turn.ATTR_REQUESTED_TRANSPORT);
        return i < 0 ? -1 : bytes[attrOffsets[i]] & 0xff;
    }

    /** @return ERROR-CODE's number, or 0 if absent */
    public int errorCode() {
        int i = find(Stun.ATTR_ERROR_CODE);
        return i < 0 ? 0 : (bytes[attrOffsets[i] + 2] & 0x07) * 100 + (bytes[attrOffsets[i] + 3] & 0xff);
    }

    /** @return ERROR-CODE's reason phrase, or {@code null} */
    public String errorReason() {
        int i = find(Stun.ATTR_ERROR_CODE);
        return i < 0 ? null : new String(bytes, attrOffsets[i] + 4, attrLengths[i] - 4, StandardCharsets.UTF_8);
    }

    /**
     * @param attrType an XOR address attribute (XOR-MAPPED/PEER/RELAYED-ADDRESS)
     * @return the decoded address, or {@code null} if absent
     */
    public InetSocketAddress xorAddress(int attrType) {
        int i = find(attrType);
        if (i < 0) {
            return null;
        }
        int at = attrOffsets[i];
        int addrLen = attrLengths[i] - 4;
        int port = (((bytes[at + 2] & 0xff) << 8) | (bytes[at + 3] & 0xff)) ^ (Stun.MAGIC_COOKIE >>> 16);
        byte[] addr = new byte[addrLen];
        for (int k = 0; k < addrLen; k++) {
            int mask = k < 4 ? (Stun.MAGIC_COOKIE >>> (24 - 8 * k)) : bytes[8 + k - 4];
            addr[k] = (byte) (bytes[at + 4 + k] ^ mask);
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(addr), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 address bytes are always valid", e);
        }
    }

    /**
     * Checks MESSAGE-INTEGRITY (HMAC-SHA1) or, if only that is present, MESSAGE-INTEGRITY-SHA256,
     * computed as RFC 8489 section 14.5 prescribes (length field adjusted to end at the attribute).
     *
     * @param key the long-term key ({@link StunWriter#longTermKey(String, String, String)})
     * @return true if an integrity attribute is present and matches, in constant time
     */
    public boolean verifyIntegrity(byte[] key) {
        int at = integrityOffset >= 0 ? integrityOffset : integritySha256Offset;
        if (at < 0) {
            return false;
        }
        boolean sha1 = integrityOffset >= 0;
        int macLength = sha1 ? 20 : ByteBuffer.wrap(bytes).getShort(at + 2) & 0xffff;
        byte[] covered = Arrays.copyOf(bytes, at);
        int adjusted = at + 4 + macLength - Stun.HEADER_LENGTH;
        covered[2] = (byte) (adjusted >>> 8);
        covered[3] = (byte) adjusted;
        byte[] expected = hmac(sha1 ? "HmacSHA1" : "HmacSHA256", key, covered);
        return MessageDigest.isEqual(Arrays.copyOf(expected, macLength), Arrays.copyOfRange(bytes, at + 4, at + 4 + macLength));
    }

    static byte[] hmac(String algorithm, byte[] key, byte[] data) {
        try {
            Mac mac = Mac.getInstance(algorithm);
            mac.init(new SecretKeySpec(key, algorithm));
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(algorithm + " is mandatory in every JDK", e);
        }
    }
}
