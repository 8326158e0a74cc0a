package io.peerlink.core.internal.link;


import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Arrays;

import javax.crypto.Mac;

/**
 * Link set-up datagrams (types 0x50..0x5F; docs/protocol-punching.md). All share the
 * {@link LinkHeader} and are fixed-layout, so decoding is a bounds check plus reads.
 *
 * <pre>
 * PROBE      0x50 | dstCID(8) | txid(8) | flags(1) | srcCID(8) | mac(16)
 * PROBE_ACK  0x51 | dstCID(8) | txid(8) | flags(1) | family(1) | port(2) | addr(4|16) | mac(16)
 * HELLO_REJ  0x56 | clientCID(8) | nonce(8) | reasonLength(1) | reason(UTF-8) | mac(16)
 * HS_INIT    0x57 | dstCID(8) | srcCID(8) | Noise XX message 1 (32)
 * HS_RESP    0x58 | dstCID(8) | srcCID(8) | Noise XX message 2 (..MAX_MESSAGE)
 * HS_FIN     0x59 | dstCID(8) | srcCID(8) | Noise XX message 3 (..MAX_MESSAGE)
 * HS_COOKIE  0x5A | clientCID(8) | cookie(24)
 * HS_INIT_C  0x5B | dstCID(8) = 0 | srcCID(8) | cookie(24) | Noise XX message 1
 * </pre>
 *
 * Handshake packets carry the secure handshake (docs/protocol-punching.md, "Secure handshake"):
 * dstCID is 0 in a direct HS_INIT (the listener has no connection ID for the dialer yet), the
 * responder's connection ID in a rendezvous HS_INIT and in HS_FIN, the initiator's in HS_RESP.
 *
 * PROBE flags: bit 0 = NOMINATE (the initiator's choice of path, as ICE's USE-CANDIDATE),
 * bit 1 = OPENER (sent with a low TTL; never expected to arrive), bit 2 = OPENED (a re-punch
 * signal over the relayed path: the sender's openers are out).
 *
 * <p>The {@code mac} of PROBE and PROBE_ACK is HMAC-SHA256, truncated to 16 bytes, over every
 * byte before it, keyed by the sender's direction key (derived from the rendezvous session
 * secret; see {@code punch.ProbeKeys}). Decoding only checks the layout: the receiver that knows
 * the key calls {@link Probe#verify(Mac)} before believing anything in it.
 */
public final class SetupPacket {
    /** Connectivity check. */
    public static final int PROBE = 0x50;
    /** Answer to a connectivity check, reporting the source address it came from. */
    public static final int PROBE_ACK = 0x51;
    /** Direct link refused (after the handshake proved the dialer; nonce 0). */
    public static final int HELLO_REJECT = 0x56;

    /** Secure handshake, message 1 (initiator to responder). */
    public static final int HS_INIT = 0x57;
    /** Secure handshake, message 2 (responder to initiator). */
    public static final int HS_RESP = 0x58;
    /** Secure handshake, message 3 (initiator to responder). */
    public static final int HS_FIN = 0x59;
    /** Bytes before the Noise message in a handshake packet: type, destination and source connection IDs. */
    public static final int HANDSHAKE_HEADER_LENGTH = LinkHeader.LENGTH + 8;
    /**
     * HS_COOKIE: a responder under load answers a direct HS_INIT with a stateless cookie instead of
     * message 2 (docs/protocol-punching.md, "Handshake cookies").
     */
    public static final int HS_COOKIE = 0x5A;
    /** HS_INIT that echoes a cookie: HS_INIT's header, the cookie, then Noise message 1. */
    public static final int HS_INIT_COOKIE = 0x5B;
    /** Length of a handshake cookie: a 4-byte timestamp and a 20-byte truncated HMAC-SHA256. */
    public static final int COOKIE_LENGTH = 24;
    /** Length of an HS_COOKIE datagram. */
    public static final int HS_COOKIE_LENGTH = LinkHeader.LENGTH + COOKIE_LENGTH;
    /** Largest Noise message a handshake packet carries (message 2 and 3 with the identity payload). */
    public static final int MAX_HANDSHAKE_MESSAGE = 1024;

    /** PROBE flag: the initiator nominates this pair. */
    public static final int FLAG_NOMINATE = 1;
    /** PROBE flag: a low-TTL opener. */
    public static final int FLAG_OPENER = 2;
    /**
     * PROBE flag: "my openers are out" — a re-punch signal sent over the link's relayed path, not
     * a check (docs/protocol-punching.md, "Re-punch").
     */
    public static final int FLAG_OPENED = 4;

    /** Length of the truncated HMAC-SHA256 that ends PROBE and PROBE_ACK. */
    public static final int MAC_LENGTH = 16;
    static final int PROBE_LENGTH = LinkHeader.LENGTH + 8 + 1 + 8 + MAC_LENGTH;
    /** PROBE_ACK without address bytes. */
    static final int PROBE_ACK_FIXED_LENGTH = LinkHeader.LENGTH + 8 + 1 + 1 + 2 + MAC_LENGTH;

    private SetupPacket() {
    }

    /**
     * A decoded PROBE or PROBE_ACK, not yet authenticated.
     *
     * @param type PROBE or PROBE_ACK
     * @param destinationCid the receiver's connection ID
     * @param txid transaction ID
     * @param flags PROBE flags (echoed in the ACK)
     * @param sourceCid the sender's connection ID (PROBE only, else 0)
     * @param observed the address the ACKed probe came from (PROBE_ACK only, else null)
     * @param authenticated the bytes the MAC covers
     * @param mac the MAC the datagram carries
     */
    public record Probe(int type, long destinationCid, long txid, int flags, long sourceCid,
                        InetSocketAddress observed, byte[] authenticated, byte[] mac) {
        /** @return true for a PROBE with the NOMINATE flag */
        public boolean nominate() {
            return (flags & FLAG_NOMINATE) != 0;
        }

        /**
         * @param key HMAC-SHA256 initialised with the sender's direction key; loop-confined
         * @return true if the MAC is right (compared in constant time)
         */
        public boolean verify(Mac key) {
            byte[] expected = key.doFinal(authenticated);
            return MessageDigest.isEqual(Arrays.copyOf(expected, MAC_LENGTH), mac);
        }
    }

    /**
     * A decoded handshake packet.
     *
     * @param type HS_INIT, HS_RESP or HS_FIN
     * @param destinationCid the receiver's connection ID (0 in a direct HS_INIT)
     * @param sourceCid the sender's connection ID
     * @param message the Noise message
     */
    public record Handshake(int type, long destinationCid, long sourceCid, byte[] message, byte[] cookie) {
        /** A handshake packet without a cookie. */
        public Handshake(int type, long destinationCid, long sourceCid, byte[] message) {
            this(type, destinationCid, sourceCid, message, null);
        }
    }

    /**
     * A decoded HS_COOKIE.
     *
     * @param clientCid the initiator's connection ID (the source CID of the HS_INIT it answers)
     * @param cookie {@value #COOKIE_LENGTH} bytes to echo in HS_INIT_COOKIE
     */
    public record Cookie(long clientCid, byte[] cookie) {
    }

    /**
     * @param clientCid the initiator's connection ID
     * @param cookie {@value #COOKIE_LENGTH} bytes
     * @return the HS_COOKIE datagram, flipped
     * @throws IllegalArgumentException if the cookie has the wrong length
     */
    public static ByteBuffer cookie(long clientCid, byte[] cookie) {
        if (cookie.length != COOKIE_LENGTH) {
            throw new IllegalArgumentException("cookie of " + cookie.length + " bytes, must be " + COOKIE_LENGTH);
        }
        return ByteBuffer.allocate(HS_COOKIE_LENGTH).put((byte) HS_COOKIE).putLong(clientCid).put(cookie).flip();
    }

    /**
     * @param in a whole datagram starting with HS_COOKIE
     * @return the cookie
     * @throws SetupFormatException if the type or length is wrong
     */
    public static Cookie readCookie(ByteBuffer in) throws SetupFormatException {
        int start = in.position();
        if (in.remaining() != HS_COOKIE_LENGTH || (in.get(start) & 0xff) != HS_COOKIE) {
            throw new SetupFormatException("HS_COOKIE must have " + HS_COOKIE_LENGTH + " bytes, got " + in.remaining());
        }
        byte[] cookie = new byte[COOKIE_LENGTH];
        in.get(start + LinkHeader.LENGTH, cookie);
        return new Cookie(in.getLong(start + 1), cookie);
    }

    /**
     * @param sourceCid the initiator's connection ID
     * @param cookie the cookie the responder sent, {@value #COOKIE_LENGTH} bytes
     * @param message Noise message 1
     * @return the HS_INIT_COOKIE datagram (destination CID 0, as a direct HS_INIT), flipped
     * @throws IllegalArgumentException if the cookie has the wrong length or the message is too long
     */
    public static ByteBuffer handshakeWithCookie(long sourceCid, byte[] cookie, byte[] message) {
        if (cookie.length != COOKIE_LENGTH) {
            throw new IllegalArgumentException("cookie of " + cookie.length + " bytes, must be " + COOKIE_LENGTH);
        }
        if (message.length > MAX_HANDSHAKE_MESSAGE) {
            throw new IllegalArgumentException("handshake message of " + message.length + " bytes exceeds " + MAX_HANDSHAKE_MESSAGE);
        }
        ByteBuffer b = ByteBuffer.allocate(HANDSHAKE_HEADER_LENGTH + COOKIE_LENGTH + message.length);
        b.put((byte) HS_INIT_COOKIE).putLong(0).putLong(sourceCid).put(cookie).put(message);
        return b.flip();
    }

    /**
     * @param type HS_INIT, HS_RESP or HS_FIN
     * @param destinationCid the receiver's connection ID (0 in a direct HS_INIT)
     * @param sourceCid the sender's connection ID
     * @param message the Noise message
     * @return the datagram, flipped
     * @throws IllegalArgumentException if the type is not a handshake type or the message is too long
     */
    public static ByteBuffer handshake(int type, long destinationCid, long sourceCid, byte[] message) {
        if (type != HS_INIT && type != HS_RESP && type != HS_FIN) {
            throw new IllegalArgumentException("not a handshake type: 0x" + Integer.toHexString(type));
        }
        if (message.length > MAX_HANDSHAKE_MESSAGE) {
            throw new IllegalArgumentException("handshake message of " + message.length + " bytes exceeds " + MAX_HANDSHAKE_MESSAGE);
        }
        ByteBuffer b = ByteBuffer.allocate(HANDSHAKE_HEADER_LENGTH + message.length);
        b.put((byte) type).putLong(destinationCid).putLong(sourceCid).put(message);
        return b.flip();
    }

    /**
     * @param in a whole datagram starting with a handshake type byte (HS_INIT_COOKIE included: it is
     *        returned as an HS_INIT whose {@link Handshake#cookie()} is set)
     * @return the packet
     * @throws SetupFormatException if it is too short or too long, or its message is empty
     */
    public static Handshake readHandshake(ByteBuffer in) throws SetupFormatException {
        int start = in.position();
        int len = in.remaining();
        if (len == 0) {
            throw new SetupFormatException("empty datagram");
        }
        int type = in.get(start) & 0xff;
        if (type != HS_INIT && type != HS_RESP && type != HS_FIN && type != HS_INIT_COOKIE) {
            throw new SetupFormatException("not a handshake type: 0x" + Integer.toHexString(type));
        }
        if (type == HS_INIT_COOKIE) {
            int header = HANDSHAKE_HEADER_LENGTH + COOKIE_LENGTH;
            if (len <= header) {
                throw new SetupFormatException("HS_INIT_COOKIE of " + len + " bytes carries no message");
            }
            if (len > header + MAX_HANDSHAKE_MESSAGE) {
                throw new SetupFormatException("HS_INIT_COOKIE of " + len + " bytes exceeds " + (header + MAX_HANDSHAKE_MESSAGE));
            }
            long destination = in.getLong(start + 1);
            if (destination != 0) {
                throw new SetupFormatException("HS_INIT_COOKIE with destination connection ID " + Long.toHexString(destination) + ", must be 0");
            }
            byte[] cookie = new byte[COOKIE_LENGTH];
            in.get(start + HANDSHAKE_HEADER_LENGTH, cookie);
            byte[] message = new byte[len - header];
            in.get(start + header, message);
            return new Handshake(HS_INIT, 0, in.getLong(start + 9), message, cookie);
        }
        int header = HANDSHAKE_HEADER_LENGTH;
        if (len <= header) {
            throw new SetupFormatException("handshake packet of " + len + " bytes carries no message");
        }
        if (len > header + MAX_HANDSHAKE_MESSAGE) {
            throw new SetupFormatException("handshake packet of " + len + " bytes exceeds " + (header + MAX_HANDSHAKE_MESSAGE));
        }
        byte[] message = new byte[len - header];
        in.get(start + header, message);
        return new Handshake(type, in.getLong(start + 1), in.getLong(start + 9), message);
    }

    /**
     * A decoded HELLO_REJECT. Its MAC is keyed with a secret both sides export from the completed
     * handshake (docs/protocol-punching.md, "Secure handshake"), so only the peer that ran the
     * handshake can reject it; check {@link #verify(Mac)} before believing it.
     *
     * @param clientCid the dialer's connection ID
     * @param nonce reserved, 0
     * @param reason why, as sent
     * @param authenticated the bytes the MAC covers (everything before it)
     * @param mac the truncated HMAC-SHA256
     */
    public record HelloReject(long clientCid, long nonce, String reason, byte[] authenticated, byte[] mac) {
        /**
         * @param key HMAC-SHA256 initialised with the handshake's reject key
         * @return true if the MAC is right
         */
        public boolean verify(Mac key) {
            byte[] expected = key.doFinal(authenticated);
            return MessageDigest.isEqual(Arrays.copyOf(expected, MAC_LENGTH), mac);
        }
    }

    /**
     * @param out destination, at least {@value #PROBE_LENGTH} bytes remaining
     * @param destinationCid receiver's connection ID
     * @param txid transaction ID
     * @param flags PROBE flags
     * @param sourceCid sender's connection ID
     * @param key HMAC-SHA256 initialised with this side's direction key
     */
    public static void writeProbe(ByteBuffer out, long destinationCid, long txid, int flags, long sourceCid, Mac key) {
        int start = out.position();
        out.put((byte) PROBE).putLong(destinationCid).putLong(txid).put((byte) flags).putLong(sourceCid);
        appendMac(out, start, key);
    }

    /**
     * @param out destination
     * @param destinationCid the prober's connection ID
     * @param txid the probe's transaction ID
     * @param flags the flags to echo
     * @param observed the source address the probe came from
     * @param key HMAC-SHA256 initialised with this side's direction key
     */
    public static void writeProbeAck(ByteBuffer out, long destinationCid, long txid, int flags, InetSocketAddress observed, Mac key) {
        int start = out.position();
        byte[] addr = observed.getAddress().getAddress();
        out.put((byte) PROBE_ACK).putLong(destinationCid).putLong(txid).put((byte) flags)
                .put((byte) (addr.length == 4 ? 4 : 6)).putShort((short) observed.getPort()).put(addr);
        appendMac(out, start, key);
    }

    private static void appendMac(ByteBuffer out, int start, Mac key) {
        ByteBuffer covered = out.duplicate();
        covered.limit(out.position()).position(start);
        key.update(covered);
        out.put(key.doFinal(), 0, MAC_LENGTH);
    }

    /**
     * @param out destination
     * @param clientCid dialer's connection ID
     * @param nonce dialer's nonce
     * @param reason why, truncated to 200 bytes
     * @param key HMAC-SHA256 initialised with the handshake's reject key
     */
    public static void writeHelloReject(ByteBuffer out, long clientCid, long nonce, String reason, Mac key) {
        int start = out.position();
        byte[] r = reason.getBytes(StandardCharsets.UTF_8);
        int n = Math.min(r.length, 200);
        out.put((byte) HELLO_REJECT).putLong(clientCid).putLong(nonce).put((byte) n).put(r, 0, n);
        appendMac(out, start, key);
    }

    /**
     * Decodes the layout; authenticity is checked by {@link Probe#verify(Mac)}.
     *
     * @param in a whole datagram starting with a PROBE or PROBE_ACK type byte
     * @return the probe
     * @throws SetupFormatException if the type, length or an address family is wrong
     */
    public static Probe readProbe(ByteBuffer in) throws SetupFormatException {
        int start = in.position();
        int len = in.remaining();
        if (len < LinkHeader.LENGTH + 8 + 1 + MAC_LENGTH) {
            throw new SetupFormatException("probe too short: " + len + " bytes");
        }
        int type = in.get(start) & 0xff;
        long dst = in.getLong(start + 1);
        long txid = in.getLong(start + 9);
        int flags = in.get(start + 17) & 0xff;
        long sourceCid = 0;
        InetSocketAddress observed = null;
        if (type == PROBE) {
            if (len != PROBE_LENGTH) {
                throw new SetupFormatException("PROBE must have " + PROBE_LENGTH + " bytes, got " + len);
            }
            sourceCid = in.getLong(start + 18);
        } else if (type == PROBE_ACK) {
            if (len < PROBE_ACK_FIXED_LENGTH) {
                throw new SetupFormatException("PROBE_ACK too short: " + len + " bytes");
            }
            int family = in.get(start + 18) & 0xff;
            int addrLen = family == 4 ? 4 : family == 6 ? 16 : -1;
            if (addrLen < 0) {
                throw new SetupFormatException("PROBE_ACK has unknown address family " + family);
            }
            if (len != PROBE_ACK_FIXED_LENGTH + addrLen) {
                throw new SetupFormatException("PROBE_ACK for family " + family + " must have "
                        + (PROBE_ACK_FIXED_LENGTH + addrLen) + " bytes, got " + len);
            }
            int port = in.getShort(start + 19) & 0xffff;
            byte[] addr = new byte[addrLen];
            in.get(start + 21, addr);
            try {
                observed = new InetSocketAddress(InetAddress.getByAddress(addr), port);
            } catch (UnknownHostException e) {
                throw new SetupFormatException("bad address in PROBE_ACK");
            }
        } else {
            throw new SetupFormatException("not a probe type: 0x" + Integer.toHexString(type));
        }
        byte[] authenticated = new byte[len - MAC_LENGTH];
        in.get(start, authenticated);
        byte[] mac = new byte[MAC_LENGTH];
        in.get(start + len - MAC_LENGTH, mac);
        return new Probe(type, dst, txid, flags, sourceCid, observed, authenticated, mac);
    }

    /**
     * @param in a whole datagram starting with HELLO_REJECT
     * @return the rejection
     * @throws SetupFormatException if the lengths disagree
     */
    public static HelloReject readHelloReject(ByteBuffer in) throws SetupFormatException {
        int start = in.position();
        if (in.remaining() < 18 + MAC_LENGTH) {
            throw new SetupFormatException("HELLO_REJECT too short: " + in.remaining());
        }
        int n = in.get(start + 17) & 0xff;
        if (in.remaining() != 18 + n + MAC_LENGTH) {
            throw new SetupFormatException("HELLO_REJECT reason length " + n + " disagrees with datagram length " + in.remaining());
        }
        byte[] r = new byte[n];
        in.get(start + 18, r);
        byte[] authenticated = new byte[18 + n];
        in.get(start, authenticated);
        byte[] mac = new byte[MAC_LENGTH];
        in.get(start + 18 + n, mac);
        return new HelloReject(in.getLong(start + 1), in.getLong(start + 9), new String(r, StandardCharsets.UTF_8), authenticated, mac);
    }
}
