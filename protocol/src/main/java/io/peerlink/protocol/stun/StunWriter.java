package io.peerlink.protocol.stun;

import java.io.ByteArrayOutputStream;
import java.net.Inet4Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Builds one STUN/TURN message of any method: attributes in the order added, then optionally
 * MESSAGE-INTEGRITY (long-term credentials) and FINGERPRINT. TURN control messages are rare next
 * to data, so this favours clarity over reuse; ChannelData ({@link ChannelData}) is the hot path.
 */
public final class StunWriter {
    private final ByteArrayOutputStream attributes = new ByteArrayOutputStream(128);
    private final int type;
    private final byte[] transactionId;

    /**
     * @param type 14-bit message type ({@link Turn#type(int, int)})
     * @param transactionId 12 bytes
     */
    public StunWriter(int type, byte[] transactionId) {
        if ((type & 0xC000) != 0) {
            throw new IllegalArgumentException("message type must fit 14 bits: 0x" + Integer.toHexString(type));
        }
        if (transactionId.length != Stun.TRANSACTION_ID_LENGTH) {
            throw new IllegalArgumentException("transaction ID must have 12 bytes, got " + transactionId.length);
        }
        this.type = type;
        this.transactionId = transactionId.clone();
    }

    /**
     * Long-term credential key (RFC 8489 section 9.2.2): MD5(username ":" realm ":" password).
     * Usernames and realms here are ASCII, for which OpaqueString processing is the identity.
     */
    public static byte[] longTermKey(String username, String realm, String password) {
        try {
            return MessageDigest.getInstance("MD5").digest((username + ":" + realm + ":" + password).getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is mandatory in every JDK", e);
        }
    }

    /** Adds an attribute with a raw value (padded to 4 bytes). */
    public StunWriter attribute(int attrType, byte[] value) {
        return attribute(attrType, value, 0, value.length);
    }

    /** Adds an attribute with {@code value[offset, offset+length)}. */
    public StunWriter attribute(int attrType, byte[] value, int offset, int length) {
        if (length > 0xFFFF) {
            throw new IllegalArgumentException("attribute value too long: " + length);
        }
        attributes.write(attrType >>> 8);
        attributes.write(attrType);
        attributes.write(length >>> 8);
        attributes.write(length);
        attributes.write(value, offset, length);
        for (int i = length; (i & 3) != 0; i++) {
            attributes.write(0);
        }
        return this;
    }

    /** Adds a UTF-8 string attribute (USERNAME, REALM, NONCE, SOFTWARE). */
    public StunWriter string(int attrType, String value) {
        return attribute(attrType, value.getBytes(StandardCharsets.UTF_8));
    }

    /** Adds a 32-bit attribute such as LIFETIME. */
    public StunWriter u32(int attrType, long value) {
        return attribute(attrType, ByteBuffer.allocate(4).putInt((int) value).array());
    }

    /** Adds REQUESTED-TRANSPORT. */
    public StunWriter requestedTransport(int protocol) {
        return attribute(Turn.ATTR_REQUESTED_TRANSPORT, new byte[] {(byte) protocol, 0, 0, 0});
    }

    /** Adds CHANNEL-NUMBER. */
    public StunWriter channelNumber(int channel) {
        return attribute(Turn.ATTR_CHANNEL_NUMBER, new byte[] {(byte) (channel >>> 8), (byte) channel, 0, 0});
    }

    /** Adds ERROR-CODE. */
    public StunWriter errorCode(int code, String reason) {
        if (code < 300 || code > 699) {
            throw new IllegalArgumentException("STUN error code must be 300..699: " + code);
        }
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        byte[] v = new byte[4 + r.length];
        v[2] = (byte) (code / 100);
        v[3] = (byte) (code % 100);
        System.arraycopy(r, 0, v, 4, r.length);
        return attribute(Stun.ATTR_ERROR_CODE, v);
    }

    /** Adds an XOR address attribute (XOR-MAPPED/PEER/RELAYED-ADDRESS). */
    public StunWriter xorAddress(int attrType, InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("unresolved address: " + address);
        }
        byte[] addr = address.getAddress().getAddress();
        byte[] v = new byte[4 + addr.length];
        v[1] = (byte) (address.getAddress() instanceof Inet4Address ? Stun.FAMILY_IPV4 : Stun.FAMILY_IPV6);
        int port = address.getPort() ^ (Stun.MAGIC_COOKIE >>> 16);
        v[2] = (byte) (port >>> 8);
        v[3] = (byte) port;
        for (int i = 0; i < addr.length; i++) {
            int mask = i < 4 ? (Stun.MAGIC_COOKIE >>> (24 - 8 * i)) : transactionId[i - 4];
            v[4 + i] = (byte) (addr[i] ^ mask);
        }
        return attribute(attrType, v);
    }

    /**
     * @param integrityKey long-term key for MESSAGE-INTEGRITY, or {@code null} for none
     * @param fingerprint whether to end with FINGERPRINT
     * @return the encoded message
     */
    public byte[] build(byte[] integrityKey, boolean fingerprint) {
        int attrs = attributes.size() + (integrityKey != null ? 24 : 0) + (fingerprint ? 8 : 0);
        if (attrs > 0xFFFC) {
            throw new IllegalArgumentException("message too long: " + attrs + " bytes of attributes");
        }
        ByteBuffer out = ByteBuffer.allocate(Stun.HEADER_LENGTH + attrs);
        out.putShort((short) type).putShort((short) 0).putInt(Stun.MAGIC_COOKIE).put(transactionId);
        out.put(attributes.toByteArray());
        if (integrityKey != null) {
            out.putShort(2, (short) (out.position() + 24 - Stun.HEADER_LENGTH));
            byte[] mac = TurnMessage.hmac("HmacSHA1", integrityKey, java.util.Arrays.copyOf(out.array(), out.position()));
            out.putShort((short) Stun.ATTR_MESSAGE_INTEGRITY).putShort((short) 20).put(mac);
        }
        if (fingerprint) {
            out.putShort(2, (short) (out.position() + 8 - Stun.HEADER_LENGTH));
            CRC32 crc = new CRC32();
            crc.update(out.array(), 0, out.position());
            out.putShort((short) Stun.ATTR_FINGERPRINT).putShort((short) 4).putInt((int) crc.getValue() ^ Stun.FINGERPRINT_XOR);
        }
        out.putShort(2, (short) (out.position() - Stun.HEADER_LENGTH));
        return out.array();
    }
}
