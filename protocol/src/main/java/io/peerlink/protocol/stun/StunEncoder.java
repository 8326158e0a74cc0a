package io.peerlink.protocol.stun;

import java.net.Inet4Address;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.BufferOverflowException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.zip.CRC32;

/**
 * Writes RFC 8489 Binding messages into a caller-owned buffer, so a server can answer from one
 * reused buffer without allocating. Every message ends with a FINGERPRINT. Each method writes at
 * the buffer's position and advances it past the message.
 *
 * <p>Not thread-safe (it reuses a CRC-32): one instance per thread.
 */
public final class StunEncoder {
    private final CRC32 crc = new CRC32();

    /**
     * @param out where to write (needs 28 bytes)
     * @param transactionId 12 bytes
     * @throws BufferOverflowException if {@code out} is too small
     */
    public void writeBindingRequest(ByteBuffer out, byte[] transactionId) {
        int start = header(out, Stun.BINDING_REQUEST, transactionId);
        finish(out, start);
    }

    /**
     * @param out where to write (needs at most 56 + software bytes)
     * @param transactionId the request's 12-byte transaction ID
     * @param address the request's source address
     * @param port the request's source port
     * @param software UTF-8 SOFTWARE value, or {@code null} to omit it
     * @throws BufferOverflowException if {@code out} is too small
     */
    public void writeBindingSuccess(ByteBuffer out, byte[] transactionId, InetAddress address, int port, byte[] software) {
        Objects.requireNonNull(address, "address");
        int start = header(out, Stun.BINDING_SUCCESS, transactionId);
        byte[] addr = address.getAddress();
        boolean v4 = address instanceof Inet4Address;
        if (!v4 && !(address instanceof Inet6Address)) {
            throw new IllegalArgumentException("not an IP address: " + address);
        }
        out.putShort((short) Stun.ATTR_XOR_MAPPED_ADDRESS);
        out.putShort((short) (4 + addr.length));
        out.put((byte) 0);
        out.put((byte) (v4 ? Stun.FAMILY_IPV4 : Stun.FAMILY_IPV6));
        out.putShort((short) (port ^ (Stun.MAGIC_COOKIE >>> 16)));
        for (int i = 0; i < addr.length; i++) {
            int mask = i < 4 ? (Stun.MAGIC_COOKIE >>> (24 - 8 * i)) : transactionId[i - 4];
            out.put((byte) (addr[i] ^ mask));
        }
        if (software != null) {
            attribute(out, Stun.ATTR_SOFTWARE, software);
        }
        finish(out, start);
    }

    /**
     * Writes a Binding error response; for 420 it lists the unknown attributes of {@code request}.
     *
     * @param out where to write
     * @param transactionId the request's transaction ID
     * @param code 300..699
     * @param reason short UTF-8 reason phrase (at most 128 characters)
     * @param request the decoded request, used for UNKNOWN-ATTRIBUTES when code is 420; may be null otherwise
     * @throws BufferOverflowException if {@code out} is too small
     */
    public void writeBindingError(ByteBuffer out, byte[] transactionId, int code, byte[] reason, StunMessage request) {
        if (code < 300 || code > 699) {
            throw new IllegalArgumentException("STUN error code must be 300..699: " + code);
        }
        int start = header(out, Stun.BINDING_ERROR, transactionId);
        out.putShort((short) Stun.ATTR_ERROR_CODE);
        out.putShort((short) (4 + reason.length));
        out.putShort((short) 0);
        out.put((byte) (code / 100));
        out.put((byte) (code % 100));
        out.put(reason);
        pad(out, reason.length);
        if (code == Stun.ERROR_UNKNOWN_ATTRIBUTE && request != null && request.unknownRequiredCount() > 0) {
            int n = request.unknownRequiredCount();
            out.putShort((short) Stun.ATTR_UNKNOWN_ATTRIBUTES);
            out.putShort((short) (2 * n));
            for (int i = 0; i < n; i++) {
                out.putShort((short) request.unknownRequired(i));
            }
            pad(out, 2 * n);
        }
        finish(out, start);
    }

    private static int header(ByteBuffer out, int type, byte[] transactionId) {
        if (transactionId.length != Stun.TRANSACTION_ID_LENGTH) {
            throw new IllegalArgumentException("transaction ID must have 12 bytes, got " + transactionId.length);
        }
        int start = out.position();
        out.putShort((short) type);
        out.putShort((short) 0);
        out.putInt(Stun.MAGIC_COOKIE);
        out.put(transactionId);
        return start;
    }

    private static void attribute(ByteBuffer out, int type, byte[] value) {
        out.putShort((short) type);
        out.putShort((short) value.length);
        out.put(value);
        pad(out, value.length);
    }

    private static void pad(ByteBuffer out, int length) {
        for (int i = length; (i & 3) != 0; i++) {
            out.put((byte) 0);
        }
    }

    /** Sets the length to include the FINGERPRINT, then computes and appends it. */
    private void finish(ByteBuffer out, int start) {
        int attributes = out.position() - start - Stun.HEADER_LENGTH;
        out.putShort(start + 2, (short) (attributes + 8));
        crc.reset();
        ByteBuffer view = out.duplicate();
        view.limit(out.position()).position(start);
        crc.update(view);
        out.putShort((short) Stun.ATTR_FINGERPRINT);
        out.putShort((short) 4);
        out.putInt((int) crc.getValue() ^ Stun.FINGERPRINT_XOR);
    }
}
