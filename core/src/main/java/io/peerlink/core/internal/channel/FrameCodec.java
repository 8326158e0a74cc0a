package io.peerlink.core.internal.channel;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * Encodes and decodes channel frames (docs/protocol-channel.md, "Frames") on caller-provided
 * ByteBuffers, without allocating. Each frame is one type byte followed by type-specific fields,
 * integers as RFC 9000 varints. Encoders write at the buffer's position and advance it; they
 * throw {@link java.nio.BufferOverflowException} if there is no room (callers size with the
 * {@code *Size} methods). The decoder reads one frame and advances the position only when the
 * whole frame is valid.
 */
public final class FrameCodec {
    /** Largest message length any peer may claim; options cap maxMessageSize at 64 MiB. */
    public static final long MAX_MESSAGE_LENGTH = 64L << 20;

    private FrameCodec() {
    }

    /** @param dst destination */
    public static void encodePing(ByteBuffer dst) {
        dst.put((byte) Frame.TYPE_PING);
    }

    /** @param dst destination */
    public static void encodeImmediateAck(ByteBuffer dst) {
        dst.put((byte) Frame.TYPE_IMMEDIATE_ACK);
    }

    /**
     * @param dst destination
     * @param count number of zero bytes, at least 1
     */
    public static void encodePadding(ByteBuffer dst, int count) {
        for (int i = 0; i < count; i++) {
            dst.put((byte) 0);
        }
    }

    /**
     * @param dst destination
     * @param maxData cumulative credit limit
     */
    public static void encodeMaxData(ByteBuffer dst, long maxData) {
        dst.put((byte) Frame.TYPE_MAX_DATA);
        Varint.write(dst, maxData);
    }

    /** @param maxData the limit @return encoded size of a MAX_DATA frame */
    public static int maxDataSize(long maxData) {
        return 1 + Varint.size(maxData);
    }

    /**
     * @param dst destination
     * @param sequence increases with every new request; the receiver ignores older ones
     * @param threshold acknowledge at least every this many ack-eliciting packets, 1..255
     */
    public static void encodeAckFrequency(ByteBuffer dst, long sequence, long threshold) {
        dst.put((byte) Frame.TYPE_ACK_FREQUENCY);
        Varint.write(dst, sequence);
        Varint.write(dst, threshold);
    }

    /** @param sequence sequence @param threshold threshold @return encoded size */
    public static int ackFrequencySize(long sequence, long threshold) {
        return 1 + Varint.size(sequence) + Varint.size(threshold);
    }

    /**
     * @param dst destination
     * @param response true for PATH_RESPONSE, false for PATH_CHALLENGE
     * @param data the 8 bytes
     */
    public static void encodePath(ByteBuffer dst, boolean response, long data) {
        dst.put((byte) (response ? Frame.TYPE_PATH_RESPONSE : Frame.TYPE_PATH_CHALLENGE));
        dst.putLong(data);
    }

    /**
     * @param dst destination
     * @param code close code (see {@link io.peerlink.CloseReason})
     * @param reason UTF-8 reason, at most {@link Frame#MAX_REASON_BYTES} bytes (longer is cut)
     */
    public static void encodeClose(ByteBuffer dst, long code, byte[] reason) {
        int n = Math.min(reason.length, Frame.MAX_REASON_BYTES);
        dst.put((byte) Frame.TYPE_CLOSE);
        Varint.write(dst, code);
        Varint.write(dst, n);
        dst.put(reason, 0, n);
    }

    /** @param code code @param reason reason @return encoded size */
    public static int closeSize(long code, byte[] reason) {
        int n = Math.min(reason.length, Frame.MAX_REASON_BYTES);
        return 1 + Varint.size(code) + Varint.size(n) + n;
    }

    /**
     * Encodes a CANDIDATES frame (docs/protocol-punching.md, "Fresh candidates"): type, sequence
     * (varint), flags (1 byte), count (1 byte), then per candidate its type (1 byte: 1 host, 2
     * server-reflexive), address family (1 byte: 4 or 6), the address (4 or 16 bytes), the port
     * (2 bytes, 1..65535) and the ICE priority (4 bytes), all big-endian.
     *
     * @param dst destination
     * @param sequence grows with every new candidate set of the sender
     * @param flags {@link Frame#CANDIDATES_OPENED} or 0
     * @param candidates at most {@link Frame#MAX_CANDIDATES} UDP candidates of type HOST or
     *        SERVER_REFLEXIVE whose host is an IP literal
     * @throws IllegalArgumentException if a candidate cannot be encoded or there are too many
     */
    public static void encodeCandidates(ByteBuffer dst, long sequence, int flags, List<Candidate> candidates) {
        if (candidates.size() > Frame.MAX_CANDIDATES) {
            throw new IllegalArgumentException(candidates.size() + " candidates, limit " + Frame.MAX_CANDIDATES);
        }
        if ((flags & ~Frame.CANDIDATES_OPENED) != 0) {
            throw new IllegalArgumentException("unknown CANDIDATES flags 0x" + Integer.toHexString(flags));
        }
        byte[][] addresses = new byte[candidates.size()][];
        for (int k = 0; k < addresses.length; k++) {
            addresses[k] = candidateAddress(candidates.get(k)); // all refused before anything is written
        }
        dst.put((byte) Frame.TYPE_CANDIDATES);
        Varint.write(dst, sequence);
        dst.put((byte) flags);
        dst.put((byte) candidates.size());
        for (int k = 0; k < addresses.length; k++) {
            Candidate c = candidates.get(k);
            byte[] address = addresses[k];
            dst.put((byte) (c.type() == CandidateType.HOST ? Frame.CANDIDATE_HOST : Frame.CANDIDATE_SERVER_REFLEXIVE));
            dst.put((byte) (address.length == 4 ? 4 : 6));
            dst.put(address);
            dst.putShort((short) c.endpoint().port());
            dst.putInt((int) c.priority());
        }
    }

    /**
     * @param sequence sequence @param candidates candidates, as for {@link #encodeCandidates}
     * @return encoded size of that CANDIDATES frame
     */
    public static int candidatesSize(long sequence, List<Candidate> candidates) {
        int n = 1 + Varint.size(sequence) + 2;
        for (Candidate c : candidates) {
            n += 2 + candidateAddress(c).length + 2 + 4;
        }
        return n;
    }

    /**
     * @param c a candidate
     * @return true if a CANDIDATES frame can carry it: UDP, HOST or SERVER_REFLEXIVE, an IP literal
     */
    public static boolean encodable(Candidate c) {
        try {
            candidateAddress(c);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static byte[] candidateAddress(Candidate c) {
        Endpoint e = c.endpoint();
        if (!"udp".equals(e.scheme()) || (c.type() != CandidateType.HOST && c.type() != CandidateType.SERVER_REFLEXIVE)) {
            throw new IllegalArgumentException("only udp HOST and SERVER_REFLEXIVE candidates travel in CANDIDATES: " + c);
        }
        String host = e.host();
        boolean literal = host.indexOf(':') >= 0 || (!host.isEmpty() && host.chars().allMatch(ch -> ch == '.' || (ch >= '0' && ch <= '9')));
        if (!literal || e.port() < 1 || e.port() > 65535) {
            throw new IllegalArgumentException("a CANDIDATES entry needs an IP literal and a port 1..65535: " + e);
        }
        return e.toSocketAddress().getAddress().getAddress();
    }

    /**
     * The candidates of a decoded CANDIDATES frame (allocates; the frame's slow path). The decoder
     * already validated every entry.
     *
     * @param f a frame {@link #decode} filled with a CANDIDATES frame
     * @return its candidates, in frame order
     */
    public static List<Candidate> candidates(Frame f) {
        if (f.type != Frame.TYPE_CANDIDATES) {
            throw new IllegalArgumentException("not a CANDIDATES frame: type " + f.type);
        }
        ByteBuffer src = f.source;
        int i = f.dataOffset;
        int count = src.get(i++) & 0xFF;
        List<Candidate> out = new ArrayList<>(count);
        for (int k = 0; k < count; k++) {
            int type = src.get(i) & 0xFF;
            int len = (src.get(i + 1) & 0xFF) == 4 ? 4 : 16;
            i += 2;
            byte[] address = new byte[len];
            src.get(i, address);
            i += len;
            int port = src.getShort(i) & 0xFFFF;
            long priority = src.getInt(i + 2) & 0xFFFF_FFFFL;
            i += 6;
            try {
                Endpoint e = Endpoint.udp(new InetSocketAddress(InetAddress.getByAddress(address), port));
                out.add(new Candidate(e, type == Frame.CANDIDATE_HOST ? CandidateType.HOST : CandidateType.SERVER_REFLEXIVE, priority));
            } catch (UnknownHostException impossible) {
                throw new IllegalStateException("address of " + len + " bytes", impossible);
            }
        }
        return out;
    }

    /**
     * Encodes an ACK frame from ranges ordered highest first, QUIC style: largest, delay, range
     * count - 1, first range length, then (gap, length) pairs.
     *
     * @param dst destination
     * @param low lowest packet number of each range
     * @param high highest packet number of each range
     * @param count ranges to encode, 1..{@link Frame#MAX_ACK_RANGES}
     * @param ackDelayMicros time the largest was held before this ACK
     */
    public static void encodeAck(ByteBuffer dst, long[] low, long[] high, int count, long ackDelayMicros) {
        dst.put((byte) Frame.TYPE_ACK);
        Varint.write(dst, high[0]);
        Varint.write(dst, ackDelayMicros);
        Varint.write(dst, count - 1);
        Varint.write(dst, high[0] - low[0]);
        for (int i = 1; i < count; i++) {
            Varint.write(dst, low[i - 1] - high[i] - 2);
            Varint.write(dst, high[i] - low[i]);
        }
    }

    /**
     * @param low lows @param high highs @param count ranges @param ackDelayMicros delay
     * @return encoded size of that ACK frame
     */
    public static int ackSize(long[] low, long[] high, int count, long ackDelayMicros) {
        int n = 1 + Varint.size(high[0]) + Varint.size(ackDelayMicros) + Varint.size(count - 1L)
                + Varint.size(high[0] - low[0]);
        for (int i = 1; i < count; i++) {
            n += Varint.size(low[i - 1] - high[i] - 2) + Varint.size(high[i] - low[i]);
        }
        return n;
    }

    /**
     * Encodes a DATA frame carrying {@code length} bytes of {@code src} from absolute index
     * {@code srcIndex} (the source position is not changed).
     *
     * @param dst destination
     * @param unordered delivery mode
     * @param messageNumber number of the message in its mode
     * @param messageLength whole message length
     * @param offset fragment offset in the message
     * @param src message bytes
     * @param srcIndex absolute index of the fragment in src
     * @param length fragment length
     */
    public static void encodeData(ByteBuffer dst, boolean unordered, long messageNumber, long messageLength,
                                  long offset, ByteBuffer src, int srcIndex, int length) {
        dst.put((byte) (unordered ? Frame.TYPE_DATA_UNORDERED : Frame.TYPE_DATA_ORDERED));
        Varint.write(dst, messageNumber);
        Varint.write(dst, messageLength);
        Varint.write(dst, offset);
        Varint.write(dst, length);
        int p = dst.position();
        dst.put(p, src, srcIndex, length);
        dst.position(p + length);
    }

    /**
     * @param messageNumber number @param messageLength length @param offset offset @param length fragment length
     * @return bytes of a DATA frame header (everything but the fragment bytes)
     */
    public static int dataHeaderSize(long messageNumber, long messageLength, long offset, int length) {
        return 1 + Varint.size(messageNumber) + Varint.size(messageLength) + Varint.size(offset) + Varint.size(length);
    }

    /**
     * @param dst destination
     * @param src message bytes
     * @param srcIndex absolute index in src
     * @param length bytes
     */
    public static void encodeDatagram(ByteBuffer dst, ByteBuffer src, int srcIndex, int length) {
        dst.put((byte) Frame.TYPE_DATAGRAM);
        Varint.write(dst, length);
        int p = dst.position();
        dst.put(p, src, srcIndex, length);
        dst.position(p + length);
    }

    /**
     * Encodes any decoded frame again (tests, tools); not the hot path.
     *
     * @param dst destination
     * @param f a frame filled by {@link #decode}
     */
    public static void encode(ByteBuffer dst, Frame f) {
        switch (f.type) {
            case Frame.TYPE_PADDING -> encodePadding(dst, f.dataLength);
            case Frame.TYPE_PING -> encodePing(dst);
            case Frame.TYPE_IMMEDIATE_ACK -> encodeImmediateAck(dst);
            case Frame.TYPE_ACK -> encodeAck(dst, f.ackLow, f.ackHigh, f.ackRangeCount, f.ackDelay);
            case Frame.TYPE_MAX_DATA -> encodeMaxData(dst, f.value);
            case Frame.TYPE_ACK_FREQUENCY -> encodeAckFrequency(dst, f.value, f.value2);
            case Frame.TYPE_PATH_CHALLENGE, Frame.TYPE_PATH_RESPONSE ->
                    encodePath(dst, f.type == Frame.TYPE_PATH_RESPONSE, f.value);
            case Frame.TYPE_CLOSE -> encodeClose(dst, f.value, f.payload());
            case Frame.TYPE_CANDIDATES -> {
                dst.put((byte) Frame.TYPE_CANDIDATES);
                Varint.write(dst, f.value);
                dst.put((byte) f.value2);
                dst.put(f.payload());
            }
            case Frame.TYPE_DATA_ORDERED, Frame.TYPE_DATA_UNORDERED -> encodeData(dst, f.type == Frame.TYPE_DATA_UNORDERED,
                    f.messageNumber, f.messageLength, f.offset, f.source, f.dataOffset, f.dataLength);
            case Frame.TYPE_DATAGRAM -> encodeDatagram(dst, f.source, f.dataOffset, f.dataLength);
            default -> throw new IllegalArgumentException("frame holds nothing to encode: type " + f.type);
        }
    }

    /**
     * Decodes one frame at the buffer's position into {@code out}. On success the position moves
     * past the frame; on failure it does not move and {@code out} holds garbage.
     *
     * @param src bytes between position and limit
     * @param out reusable holder
     * @throws FrameFormatException if the bytes at the position are not one valid frame
     */
    public static void decode(ByteBuffer src, Frame out) throws FrameFormatException {
        final int start = src.position();
        final int lim = src.limit();
        if (start >= lim) {
            throw new FrameFormatException("no frame: empty input");
        }
        int type = src.get(start) & 0xFF;
        int i = start + 1;
        out.type = type;
        switch (type) {
            case Frame.TYPE_PADDING: {
                while (i < lim && src.get(i) == 0) {
                    i++;
                }
                out.dataLength = i - start;
                break;
            }
            case Frame.TYPE_PING:
            case Frame.TYPE_IMMEDIATE_ACK:
                break;
            case Frame.TYPE_ACK: {
                long largest = varint(src, i, lim, "ACK largest");
                i += Varint.lengthOf(src.get(i));
                out.ackDelay = varint(src, i, lim, "ACK delay");
                i += Varint.lengthOf(src.get(i));
                long extra = varint(src, i, lim, "ACK range count");
                i += Varint.lengthOf(src.get(i));
                if (extra >= Frame.MAX_ACK_RANGES) {
                    throw new FrameFormatException("ACK has " + (extra + 1) + " ranges, limit " + Frame.MAX_ACK_RANGES);
                }
                long first = varint(src, i, lim, "ACK first range");
                i += Varint.lengthOf(src.get(i));
                if (first > largest) {
                    throw new FrameFormatException("ACK first range " + first + " exceeds largest " + largest);
                }
                out.ackHigh[0] = largest;
                out.ackLow[0] = largest - first;
                int n = (int) extra + 1;
                for (int r = 1; r < n; r++) {
                    long gap = varint(src, i, lim, "ACK gap");
                    i += Varint.lengthOf(src.get(i));
                    long len = varint(src, i, lim, "ACK range");
                    i += Varint.lengthOf(src.get(i));
                    long high = out.ackLow[r - 1] - gap - 2;
                    long low = high - len;
                    if (high < 0 || low < 0) {
                        throw new FrameFormatException("ACK range " + r + " below packet number 0");
                    }
                    out.ackHigh[r] = high;
                    out.ackLow[r] = low;
                }
                out.ackRangeCount = n;
                break;
            }
            case Frame.TYPE_MAX_DATA:
                out.value = varint(src, i, lim, "MAX_DATA");
                i += Varint.lengthOf(src.get(i));
                break;
            case Frame.TYPE_ACK_FREQUENCY: {
                out.value = varint(src, i, lim, "ACK_FREQUENCY sequence");
                i += Varint.lengthOf(src.get(i));
                long threshold = varint(src, i, lim, "ACK_FREQUENCY threshold");
                i += Varint.lengthOf(src.get(i));
                if (threshold < 1 || threshold > 255) {
                    throw new FrameFormatException("ACK_FREQUENCY threshold out of 1..255: " + threshold);
                }
                out.value2 = threshold;
                break;
            }
            case Frame.TYPE_PATH_CHALLENGE:
            case Frame.TYPE_PATH_RESPONSE:
                if (lim - i < 8) {
                    throw new FrameFormatException("truncated PATH frame: " + (lim - i) + " of 8 bytes");
                }
                out.value = src.getLong(i);
                i += 8;
                break;
            case Frame.TYPE_CLOSE: {
                out.value = varint(src, i, lim, "CLOSE code");
                i += Varint.lengthOf(src.get(i));
                long n = varint(src, i, lim, "CLOSE reason length");
                i += Varint.lengthOf(src.get(i));
                if (n > Frame.MAX_REASON_BYTES) {
                    throw new FrameFormatException("CLOSE reason of " + n + " bytes exceeds " + Frame.MAX_REASON_BYTES);
                }
                if (n > lim - i) {
                    throw new FrameFormatException("truncated CLOSE reason: " + (lim - i) + " of " + n + " bytes");
                }
                out.source = src;
                out.dataOffset = i;
                out.dataLength = (int) n;
                i += (int) n;
                break;
            }
            case Frame.TYPE_CANDIDATES:
                i = decodeCandidates(src, i, lim, out);
                break;
            case Frame.TYPE_DATA_ORDERED:
            case Frame.TYPE_DATA_UNORDERED: {
                out.messageNumber = varint(src, i, lim, "DATA message number");
                i += Varint.lengthOf(src.get(i));
                long length = varint(src, i, lim, "DATA message length");
                i += Varint.lengthOf(src.get(i));
                long offset = varint(src, i, lim, "DATA offset");
                i += Varint.lengthOf(src.get(i));
                long n = varint(src, i, lim, "DATA fragment length");
                i += Varint.lengthOf(src.get(i));
                if (length > MAX_MESSAGE_LENGTH) {
                    throw new FrameFormatException("DATA message length " + length + " exceeds " + MAX_MESSAGE_LENGTH);
                }
                if (n > lim - i) {
                    throw new FrameFormatException("truncated DATA: " + (lim - i) + " of " + n + " bytes");
                }
                if (offset + n > length) {
                    throw new FrameFormatException("DATA fragment " + offset + "+" + n + " beyond message length " + length);
                }
                out.messageLength = length;
                out.offset = offset;
                out.source = src;
                out.dataOffset = i;
                out.dataLength = (int) n;
                i += (int) n;
                break;
            }
            case Frame.TYPE_DATAGRAM: {
                long n = varint(src, i, lim, "DATAGRAM length");
                i += Varint.lengthOf(src.get(i));
                if (n > lim - i) {
                    throw new FrameFormatException("truncated DATAGRAM: " + (lim - i) + " of " + n + " bytes");
                }
                out.source = src;
                out.dataOffset = i;
                out.dataLength = (int) n;
                i += (int) n;
                break;
            }
            default:
                out.type = -1;
                throw new FrameFormatException("unknown frame type 0x" + Integer.toHexString(type) + " at " + start);
        }
        src.position(i);
    }

    /** Validates a CANDIDATES frame after its type byte; @return the index after it. */
    private static int decodeCandidates(ByteBuffer src, int i, int lim, Frame out) throws FrameFormatException {
        out.value = varint(src, i, lim, "CANDIDATES sequence");
        i += Varint.lengthOf(src.get(i));
        if (lim - i < 2) {
            throw new FrameFormatException("truncated CANDIDATES: no flags and count");
        }
        int flags = src.get(i) & 0xFF;
        if ((flags & ~Frame.CANDIDATES_OPENED) != 0) {
            throw new FrameFormatException("CANDIDATES has unknown flags 0x" + Integer.toHexString(flags));
        }
        out.value2 = flags;
        int countAt = i + 1;
        int count = src.get(countAt) & 0xFF;
        if (count > Frame.MAX_CANDIDATES) {
            throw new FrameFormatException("CANDIDATES has " + count + " candidates, limit " + Frame.MAX_CANDIDATES);
        }
        i = countAt + 1;
        for (int k = 0; k < count; k++) {
            if (lim - i < 2) {
                throw new FrameFormatException("truncated CANDIDATES entry " + k + " of " + count);
            }
            int type = src.get(i) & 0xFF;
            if (type != Frame.CANDIDATE_HOST && type != Frame.CANDIDATE_SERVER_REFLEXIVE) {
                throw new FrameFormatException("CANDIDATES entry " + k + " has candidate type " + type + ", not 1 (host) or 2 (server-reflexive)");
            }
            int family = src.get(i + 1) & 0xFF;
            if (family != 4 && family != 6) {
                throw new FrameFormatException("CANDIDATES entry " + k + " has address family " + family + ", not 4 or 6");
            }
            int need = 2 + (family == 4 ? 4 : 16) + 2 + 4;
            if (lim - i < need) {
                throw new FrameFormatException("truncated CANDIDATES entry " + k + ": " + (lim - i) + " of " + need + " bytes");
            }
            int port = src.getShort(i + need - 6) & 0xFFFF;
            if (port == 0) {
                throw new FrameFormatException("CANDIDATES entry " + k + " has port 0");
            }
            i += need;
        }
        out.source = src;
        out.dataOffset = countAt;
        out.dataLength = i - countAt;
        return i;
    }

    private static long varint(ByteBuffer src, int i, int lim, String field) throws FrameFormatException {
        long v = Varint.readAt(src, i, lim);
        if (v < 0) {
            throw new FrameFormatException("truncated " + field);
        }
        return v;
    }
}
