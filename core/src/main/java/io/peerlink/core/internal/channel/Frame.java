package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * A reusable, mutable holder that {@link FrameCodec#decode(ByteBuffer, Frame)} fills with one
 * frame, so that decoding allocates nothing. Byte payloads (DATA, DATAGRAM, CLOSE reason) are not
 * copied: {@link #source()}, {@link #dataOffset()} and {@link #dataLength()} point into the buffer
 * that was decoded, valid only while that buffer is. Frame type codes are the {@code TYPE_*}
 * constants (documented in docs/protocol-channel.md).
 */
public final class Frame {
    /** A run of zero bytes; decoded as one frame covering the whole run. */
    public static final int TYPE_PADDING = 0x00;
    /** Elicits an acknowledgement; keepalive and RTT probe. */
    public static final int TYPE_PING = 0x01;
    /** Selective acknowledgement with up to {@link #MAX_ACK_RANGES} ranges. */
    public static final int TYPE_ACK = 0x02;
    /** Receiver flow-control credit: the cumulative limit of message credit. */
    public static final int TYPE_MAX_DATA = 0x04;
    /** Closes the channel with a code and a UTF-8 reason. */
    public static final int TYPE_CLOSE = 0x06;
    /** Asks the receiver to acknowledge at least every N ack-eliciting packets (QUIC ACK_FREQUENCY). */
    public static final int TYPE_ACK_FREQUENCY = 0x07;
    /** Asks the receiver to acknowledge this packet at once (QUIC ack-frequency IMMEDIATE_ACK). */
    public static final int TYPE_IMMEDIATE_ACK = 0x1F;
    /** 8 bytes the peer must echo in a PATH_RESPONSE. */
    public static final int TYPE_PATH_CHALLENGE = 0x08;
    /** Echo of a PATH_CHALLENGE. */
    public static final int TYPE_PATH_RESPONSE = 0x09;
    /**
     * The sender's current direct candidates and its re-punch signal (docs/protocol-punching.md,
     * "Fresh candidates"): sequence, flags, count, then the candidates.
     */
    public static final int TYPE_CANDIDATES = 0x0A;
    /** A fragment of a reliable message delivered in order. */
    public static final int TYPE_DATA_ORDERED = 0x10;
    /** A fragment of a reliable message delivered as soon as complete. */
    public static final int TYPE_DATA_UNORDERED = 0x11;
    /** An unreliable message, never retransmitted. */
    public static final int TYPE_DATAGRAM = 0x20;

    /** Most ACK ranges one ACK frame may carry; more is a format error. */
    public static final int MAX_ACK_RANGES = 64;
    /** Most candidates one CANDIDATES frame may carry; more is a format error. */
    public static final int MAX_CANDIDATES = 8;
    /** CANDIDATES flag: the sender's re-punch openers are out. */
    public static final int CANDIDATES_OPENED = 0x01;
    /** CANDIDATES candidate type codes. */
    public static final int CANDIDATE_HOST = 1;
    /** A server-reflexive candidate (the address a STUN server saw). */
    public static final int CANDIDATE_SERVER_REFLEXIVE = 2;
    /** Longest CLOSE reason in bytes. */
    public static final int MAX_REASON_BYTES = 512;

    int type = -1;
    // ACK
    long ackDelay;
    int ackRangeCount;
    final long[] ackLow = new long[MAX_ACK_RANGES];
    final long[] ackHigh = new long[MAX_ACK_RANGES];
    // MAX_DATA, ACK_FREQUENCY sequence, PATH_* data, CLOSE code
    long value;
    long value2;
    // DATA
    long messageNumber;
    long messageLength;
    long offset;
    // byte payloads: DATA, DATAGRAM, CLOSE reason, PADDING length
    ByteBuffer source;
    int dataOffset;
    int dataLength;

    /** @return the frame type, one of the {@code TYPE_*} constants, or -1 before the first decode */
    public int type() { return type; }
    /** @return ACK: ack delay in microseconds */
    public long ackDelayMicros() { return ackDelay; }
    /** @return ACK: number of ranges, highest first */
    public int ackRangeCount() { return ackRangeCount; }
    /** @param i range index, 0 = highest @return ACK: lowest packet number of range i */
    public long ackLow(int i) { return ackLow[i]; }
    /** @param i range index, 0 = highest @return ACK: highest packet number of range i */
    public long ackHigh(int i) { return ackHigh[i]; }
    /** @return ACK: largest acknowledged packet number */
    public long largestAcknowledged() { return ackHigh[0]; }
    /** @return MAX_DATA limit, CLOSE code, ACK_FREQUENCY and CANDIDATES sequence, PATH_CHALLENGE/RESPONSE data */
    public long value() { return value; }
    /** @return ACK_FREQUENCY packet threshold, CANDIDATES flags */
    public long value2() { return value2; }
    /** @return DATA: message number within its delivery mode */
    public long messageNumber() { return messageNumber; }
    /** @return DATA: total message length */
    public long messageLength() { return messageLength; }
    /** @return DATA: offset of this fragment within the message */
    public long offset() { return offset; }
    /** @return the buffer the byte payload lives in (DATA, DATAGRAM, CLOSE, CANDIDATES: count and entries) */
    public ByteBuffer source() { return source; }
    /** @return absolute index of the payload in {@link #source()} */
    public int dataOffset() { return dataOffset; }
    /** @return payload length (for PADDING: the number of padding bytes) */
    public int dataLength() { return dataLength; }

    /** @return CLOSE: the reason, decoded from UTF-8 (allocates; not for the hot path) */
    public String reason() {
        byte[] b = new byte[dataLength];
        source.get(dataOffset, b);
        return new String(b, StandardCharsets.UTF_8);
    }

    /** @return a copy of the payload bytes (allocates; for tests and slow paths) */
    public byte[] payload() {
        byte[] b = new byte[dataLength];
        if (dataLength > 0) {
            source.get(dataOffset, b);
        }
        return b;
    }

    /**
     * Compares the decoded content of two frames, payload bytes included.
     *
     * @param o another frame
     * @return true if both hold the same frame
     */
    public boolean sameAs(Frame o) {
        if (type != o.type) {
            return false;
        }
        switch (type) {
            case TYPE_PADDING:
                return dataLength == o.dataLength;
            case TYPE_PING:
            case TYPE_IMMEDIATE_ACK:
                return true;
            case TYPE_ACK:
                return ackDelay == o.ackDelay && ackRangeCount == o.ackRangeCount
                        && Arrays.equals(ackLow, 0, ackRangeCount, o.ackLow, 0, ackRangeCount)
                        && Arrays.equals(ackHigh, 0, ackRangeCount, o.ackHigh, 0, ackRangeCount);
            case TYPE_MAX_DATA:
            case TYPE_PATH_CHALLENGE:
            case TYPE_PATH_RESPONSE:
                return value == o.value;
            case TYPE_ACK_FREQUENCY:
                return value == o.value && value2 == o.value2;
            case TYPE_CLOSE:
                return value == o.value && Arrays.equals(payload(), o.payload());
            case TYPE_CANDIDATES:
                return value == o.value && value2 == o.value2 && Arrays.equals(payload(), o.payload());
            case TYPE_DATA_ORDERED:
            case TYPE_DATA_UNORDERED:
                return messageNumber == o.messageNumber && messageLength == o.messageLength
                        && offset == o.offset && Arrays.equals(payload(), o.payload());
            case TYPE_DATAGRAM:
                return Arrays.equals(payload(), o.payload());
            default:
                return false;
        }
    }

    @Override
    public String toString() {
        switch (type) {
            case TYPE_ACK: {
                StringBuilder sb = new StringBuilder("ACK[delay=").append(ackDelay);
                for (int i = 0; i < ackRangeCount; i++) {
                    sb.append(' ').append(ackLow[i]).append('-').append(ackHigh[i]);
                }
                return sb.append(']').toString();
            }
            case TYPE_DATA_ORDERED:
            case TYPE_DATA_UNORDERED:
                return (type == TYPE_DATA_ORDERED ? "DATA[" : "DATA_UNORDERED[") + "msg=" + messageNumber
                        + " len=" + messageLength + " off=" + offset + " frag=" + dataLength + "]";
            default:
                return "Frame[type=0x" + Integer.toHexString(type) + " value=" + value + " len=" + dataLength + "]";
        }
    }
}
