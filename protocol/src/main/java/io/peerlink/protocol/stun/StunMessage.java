package io.peerlink.protocol.stun;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.zip.CRC32;

/**
 * A strict, reusable RFC 8489 decoder. {@link #decode(ByteBuffer)} fills this object from one
 * datagram; the same instance is reused for the next one, so a server decodes without allocating
 * (the mapped address is only materialised on demand by {@link #mappedAddress()}).
 *
 * <p>Rules enforced (each violation is a {@link StunFormatException} naming the offset): header
 * present and at most {@link Stun#MAX_MESSAGE_LENGTH}; top two bits {@code 00}; magic cookie;
 * length field a multiple of 4 and equal to the datagram's remaining bytes; every attribute's
 * header and padded value inside the message; FINGERPRINT, if present, last and correct;
 * known attributes of the right length and family. Unknown comprehension-optional attributes
 * (0x8000-0xFFFF) are skipped; unknown comprehension-required ones (0x0000-0x7FFF) are recorded
 * for a 420 response ({@link #unknownRequiredCount()}). Only the first instance of a repeated
 * attribute counts (RFC 8489 section 14). Attributes after MESSAGE-INTEGRITY other than
 * FINGERPRINT are ignored (section 14.5).
 *
 * <p>Not thread-safe: one instance per thread.
 */
public final class StunMessage {
    private final CRC32 crc = new CRC32();
    private final byte[] transactionId = new byte[Stun.TRANSACTION_ID_LENGTH];
    private final byte[] addressBytes = new byte[16];
    private final int[] unknownRequired = new int[Stun.MAX_UNKNOWN_LISTED];
    private int unknownCount;
    private int type;
    private int length;
    private boolean hasFingerprint;
    private boolean hasAddress;
    private boolean addressFromXor;
    private int addressLength;
    private int port;
    private int errorCode;
    private String errorReason;
    private String software;

    /**
     * Decodes one whole datagram: from {@code src.position()} to {@code src.limit()}. The
     * buffer's position is not moved.
     *
     * @param src the datagram
     * @throws StunFormatException if it is not a well-formed STUN message
     */
    public void decode(ByteBuffer src) throws StunFormatException {
        reset();
        int base = src.position();
        int total = src.remaining();
        if (total < Stun.HEADER_LENGTH) {
            throw new StunFormatException("truncated: " + total + " bytes, a STUN header needs " + Stun.HEADER_LENGTH);
        }
        if (total > Stun.MAX_MESSAGE_LENGTH) {
            throw new StunFormatException("oversized: " + total + " bytes, the limit is " + Stun.MAX_MESSAGE_LENGTH);
        }
        int msgType = src.getShort(base) & 0xffff;
        if ((msgType & 0xC000) != 0) {
            throw new StunFormatException("not STUN: top two bits of the message type are not 00 (type 0x"
                    + Integer.toHexString(msgType) + ")");
        }
        int msgLength = src.getShort(base + 2) & 0xffff;
        if ((msgLength & 3) != 0) {
            throw new StunFormatException("message length " + msgLength + " is not a multiple of 4");
        }
        if (msgLength != total - Stun.HEADER_LENGTH) {
            throw new StunFormatException("message length field says " + msgLength + " bytes of attributes, the datagram has "
                    + (total - Stun.HEADER_LENGTH));
        }
        int cookie = src.getInt(base + 4);
        if (cookie != Stun.MAGIC_COOKIE) {
            throw new StunFormatException("bad magic cookie 0x" + Integer.toHexString(cookie) + " (RFC 3489 messages are not supported)");
        }
        type = msgType;
        length = msgLength;
        src.get(base + 8, transactionId);
        int offset = Stun.HEADER_LENGTH;
        boolean afterIntegrity = false;
        boolean seenSoftware = false;
        boolean seenError = false;
        while (offset < total) {
            if (hasFingerprint) {
                throw new StunFormatException("attribute at offset " + offset + " follows FINGERPRINT, which must be last");
            }
            if (total - offset < 4) {
                throw new StunFormatException("truncated attribute header at offset " + offset);
            }
            int attrType = src.getShort(base + offset) & 0xffff;
            int attrLength = src.getShort(base + offset + 2) & 0xffff;
            int valueAt = offset + 4;
            int padded = (attrLength + 3) & ~3;
            if (padded > total - valueAt) {
                throw new StunFormatException("attribute 0x" + Integer.toHexString(attrType) + " at offset " + offset
                        + " declares " + attrLength + " bytes but only " + (total - valueAt) + " remain");
            }
            if (attrType == Stun.ATTR_FINGERPRINT) {
                if (attrLength != 4) {
                    throw new StunFormatException("FINGERPRINT at offset " + offset + " has length " + attrLength + ", expected 4");
                }
                int expected = fingerprint(src, base, offset);
                int actual = src.getInt(base + valueAt);
                if (expected != actual) {
                    throw new StunFormatException("FINGERPRINT mismatch: got 0x" + Integer.toHexString(actual)
                            + ", computed 0x" + Integer.toHexString(expected));
                }
                hasFingerprint = true;
            } else if (!afterIntegrity) {
                switch (attrType) {
                    case Stun.ATTR_XOR_MAPPED_ADDRESS:
                        if (!hasAddress || !addressFromXor) {
                            readAddress(src, base, valueAt, attrLength, true, offset);
                        }
                        break;
                    case Stun.ATTR_MAPPED_ADDRESS:
                        if (!hasAddress) {
                            readAddress(src, base, valueAt, attrLength, false, offset);
                        }
                        break;
                    case Stun.ATTR_SOFTWARE:
                        if (attrLength > 763) {
                            throw new StunFormatException("SOFTWARE at offset " + offset + " is " + attrLength + " bytes, at most 763 allowed");
                        }
                        if (!seenSoftware && isResponse()) {
                            // Only responses are surfaced to the client; a server never allocates for it.
                            byte[] bytes = new byte[attrLength];
                            src.get(base + valueAt, bytes);
                            software = new String(bytes, StandardCharsets.UTF_8);
                        }
                        seenSoftware = true;
                        break;
                    case Stun.ATTR_ERROR_CODE:
                        if (attrLength < 4) {
                            throw new StunFormatException("ERROR-CODE at offset " + offset + " has length " + attrLength + ", at least 4 needed");
                        }
                        if (!seenError) {
                            int cls = src.get(base + valueAt + 2) & 0x07;
                            int number = src.get(base + valueAt + 3) & 0xff;
                            if (cls < 3 || cls > 6 || number > 99) {
                                throw new StunFormatException("ERROR-CODE at offset " + offset + " has invalid class " + cls + " / number " + number);
                            }
                            errorCode = cls * 100 + number;
                            byte[] reason = new byte[attrLength - 4];
                            src.get(base + valueAt + 4, reason);
                            errorReason = new String(reason, StandardCharsets.UTF_8);
                        }
                        seenError = true;
                        break;
                    case Stun.ATTR_MESSAGE_INTEGRITY:
                        if (attrLength != 20) {
                            throw new StunFormatException("MESSAGE-INTEGRITY at offset " + offset + " has length " + attrLength + ", expected 20");
                        }
                        afterIntegrity = true;
                        break;
                    case Stun.ATTR_MESSAGE_INTEGRITY_SHA256:
                        if (attrLength < 16 || attrLength > 32 || (attrLength & 3) != 0) {
                            throw new StunFormatException("MESSAGE-INTEGRITY-SHA256 at offset " + offset + " has invalid length " + attrLength);
                        }
                        afterIntegrity = true;
                        break;
                    case Stun.ATTR_UNKNOWN_ATTRIBUTES:
                        if ((attrLength & 1) != 0) {
                            throw new StunFormatException("UNKNOWN-ATTRIBUTES at offset " + offset + " has odd length " + attrLength);
                        }
                        break;
                    default:
                        if (attrType < 0x8000) {
                            noteUnknownRequired(attrType);
                        }
                        break;
                }
            }
            offset = valueAt + padded;
        }
    }

    private void noteUnknownRequired(int attrType) {
        for (int i = 0; i < unknownCount; i++) {
            if (unknownRequired[i] == attrType) {
                return;
            }
        }
        if (unknownCount < unknownRequired.length) {
            unknownRequired[unknownCount++] = attrType;
        }
    }

    private void readAddress(ByteBuffer src, int base, int valueAt, int attrLength, boolean xor, int offset)
            throws StunFormatException {
        String name = xor ? "XOR-MAPPED-ADDRESS" : "MAPPED-ADDRESS";
        if (attrLength < 4) {
            throw new StunFormatException(name + " at offset " + offset + " has length " + attrLength + ", too short");
        }
        int family = src.get(base + valueAt + 1) & 0xff;
        int addrLen;
        if (family == Stun.FAMILY_IPV4) {
            addrLen = 4;
        } else if (family == Stun.FAMILY_IPV6) {
            addrLen = 16;
        } else {
            throw new StunFormatException(name + " at offset " + offset + " has unknown address family 0x" + Integer.toHexString(family));
        }
        if (attrLength != 4 + addrLen) {
            throw new StunFormatException(name + " at offset " + offset + " has length " + attrLength + ", expected " + (4 + addrLen)
                    + " for " + (addrLen == 4 ? "IPv4" : "IPv6"));
        }
        int rawPort = src.getShort(base + valueAt + 2) & 0xffff;
        port = xor ? rawPort ^ (Stun.MAGIC_COOKIE >>> 16) : rawPort;
        for (int i = 0; i < addrLen; i++) {
            int b = src.get(base + valueAt + 4 + i);
            if (xor) {
                // The address is XORed with the magic cookie followed by the transaction ID.
                b ^= i < 4 ? (Stun.MAGIC_COOKIE >>> (24 - 8 * i)) : transactionId[i - 4];
            }
            addressBytes[i] = (byte) b;
        }
        addressLength = addrLen;
        hasAddress = true;
        addressFromXor = xor;
    }

    private int fingerprint(ByteBuffer src, int base, int fingerprintOffset) {
        crc.reset();
        ByteBuffer view = src.duplicate();
        view.limit(base + fingerprintOffset).position(base);
        crc.update(view);
        return (int) crc.getValue() ^ Stun.FINGERPRINT_XOR;
    }

    private void reset() {
        unknownCount = 0;
        type = 0;
        length = 0;
        hasFingerprint = false;
        hasAddress = false;
        addressFromXor = false;
        addressLength = 0;
        port = 0;
        errorCode = 0;
        errorReason = null;
        software = null;
    }

    /** @return the 14-bit message type (method and class) */
    public int type() {
        return type;
    }

    /** @return the message length field: bytes of attributes */
    public int length() {
        return length;
    }

    /** @return true for a Binding request */
    public boolean isBindingRequest() {
        return type == Stun.BINDING_REQUEST;
    }

    /** @return true for a success or error response of any method */
    public boolean isResponse() {
        return (type & 0x0100) != 0;
    }

    /**
     * @param expected a 12-byte transaction ID
     * @return true if this message carries it
     */
    public boolean hasTransactionId(byte[] expected) {
        return Arrays.equals(transactionId, expected);
    }

    /** @return a copy of the transaction ID */
    public byte[] transactionId() {
        return transactionId.clone();
    }

    /**
     * Copies the transaction ID into {@code dst} without allocating.
     *
     * @param dst at least 12 bytes
     */
    public void copyTransactionId(byte[] dst) {
        System.arraycopy(transactionId, 0, dst, 0, Stun.TRANSACTION_ID_LENGTH);
    }

    /** @return true if the message ended with a valid FINGERPRINT */
    public boolean hasFingerprint() {
        return hasFingerprint;
    }

    /** @return number of distinct unknown comprehension-required attribute types seen (at most 16 recorded) */
    public int unknownRequiredCount() {
        return unknownCount;
    }

    /**
     * @param i index below {@link #unknownRequiredCount()}
     * @return the attribute type
     */
    public int unknownRequired(int i) {
        if (i < 0 || i >= unknownCount) {
            throw new IndexOutOfBoundsException("unknown attribute index " + i + " of " + unknownCount);
        }
        return unknownRequired[i];
    }

    /**
     * @return the address of XOR-MAPPED-ADDRESS (preferred) or MAPPED-ADDRESS, or {@code null} if neither was present
     */
    public InetSocketAddress mappedAddress() {
        if (!hasAddress) {
            return null;
        }
        try {
            return new InetSocketAddress(InetAddress.getByAddress(Arrays.copyOf(addressBytes, addressLength)), port);
        } catch (UnknownHostException e) {
            throw new IllegalStateException("4 or 16 address bytes are always valid", e);
        }
    }

    /** @return true if {@link #mappedAddress()} came from XOR-MAPPED-ADDRESS */
    public boolean mappedAddressIsXor() {
        return addressFromXor;
    }

    /** @return the ERROR-CODE number (300..699), or 0 if absent */
    public int errorCode() {
        return errorCode;
    }

    /** @return the ERROR-CODE reason phrase, or {@code null} */
    public String errorReason() {
        return errorReason;
    }

    /** @return SOFTWARE of a response, or {@code null} */
    public String software() {
        return software;
    }
}
