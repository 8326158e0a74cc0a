package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.core.internal.loop.EventLoop;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Codec round trips, and rejection of every malformed input with {@link FrameFormatException} only. */
class FrameCodecPropertiesTest {

    /** Encodes a frame described by (type selector, numbers, payload) into a fresh buffer. */
    private static ByteBuffer encodeOne(int kind, long a, long b, long c, byte[] payload, List<Long> gaps) {
        ByteBuffer buf = ByteBuffer.allocate(4096);
        switch (kind) {
            case 0 -> {
                if (a % 2 == 0) {
                    FrameCodec.encodePing(buf);
                } else {
                    FrameCodec.encodeImmediateAck(buf);
                }
            }
            case 1 -> FrameCodec.encodePadding(buf, 1 + (int) (a % 50));
            case 2 -> {
                // ACK ranges built downward from a large "largest" using gaps/lengths.
                long[] low = new long[Frame.MAX_ACK_RANGES];
                long[] high = new long[Frame.MAX_ACK_RANGES];
                long cursor = a + 10_000_000L;
                int n = 0;
                for (int i = 0; i < gaps.size() && n < Frame.MAX_ACK_RANGES; i += 2) {
                    long len = gaps.get(i) % 1000;
                    long gap = i + 1 < gaps.size() ? gaps.get(i + 1) % 1000 : 0;
                    if (cursor - len < 0) {
                        break;
                    }
                    high[n] = cursor;
                    low[n] = cursor - len;
                    n++;
                    cursor = low[n - 1] - gap - 2;
                    if (cursor < 0) {
                        break;
                    }
                }
                if (n == 0) {
                    low[0] = high[0] = a;
                    n = 1;
                }
                FrameCodec.encodeAck(buf, low, high, n, b);
            }
            case 3 -> FrameCodec.encodeMaxData(buf, a);
            case 4 -> FrameCodec.encodeClose(buf, b, payload);
            case 5 -> FrameCodec.encodeAckFrequency(buf, a, 1 + c % 255);
            case 6 -> FrameCodec.encodePath(buf, false, a);
            case 7 -> FrameCodec.encodePath(buf, true, b);
            case 8, 9 -> FrameCodec.encodeData(buf, kind == 9, a, payload.length + c % 1000, c % 1000 <= 0 ? 0 : (c % 1000),
                    ByteBuffer.wrap(payload), 0, Math.min(payload.length, (int) (payload.length + c % 1000 - (c % 1000))));
            default -> FrameCodec.encodeDatagram(buf, ByteBuffer.wrap(payload), 0, payload.length);
        }
        buf.flip();
        return buf;
    }

    @Property(tries = 2000)
    void decodeOfEncodeIsIdentityForEveryFrameType(@ForAll @IntRange(min = 0, max = 10) int kind,
                                                    @ForAll @LongRange(min = 0, max = Varint.MAX - 20_000_000L) long a,
                                                    @ForAll @LongRange(min = 0, max = Varint.MAX) long b,
                                                    @ForAll @LongRange(min = 0, max = 1 << 30) long c,
                                                    @ForAll @Size(max = 1500) byte[] payload,
                                                    @ForAll @Size(max = 130) List<@LongRange(min = 0, max = 100_000) Long> gaps)
            throws FrameFormatException {
        ByteBuffer encoded = encodeOne(kind, a, b, c, payload.length > Frame.MAX_REASON_BYTES && kind == 4
                ? java.util.Arrays.copyOf(payload, Frame.MAX_REASON_BYTES) : payload, gaps);
        Frame first = new Frame();
        FrameCodec.decode(encoded, first);
        assertFalse(encoded.hasRemaining(), "one frame consumes the whole encoding");
        ByteBuffer again = ByteBuffer.allocate(4096);
        FrameCodec.encode(again, first);
        again.flip();
        encoded.rewind();
        assertEquals(encoded, again, "re-encoding the decoded frame gives the same bytes");
        Frame second = new Frame();
        FrameCodec.decode(again, second);
        assertTrue(first.sameAs(second), () -> first + " vs " + second);
    }

    @Property(tries = 2000)
    void dataFrameFieldsSurviveRoundTrip(@ForAll @LongRange(min = 0, max = Varint.MAX) long number,
                                         @ForAll @IntRange(min = 0, max = 1 << 20) int offset,
                                         @ForAll @Size(max = 1200) byte[] payload,
                                         @ForAll boolean unordered) throws FrameFormatException {
        long length = offset + payload.length + 7L;
        ByteBuffer buf = ByteBuffer.allocate(1400);
        FrameCodec.encodeData(buf, unordered, number, length, offset, ByteBuffer.wrap(payload), 0, payload.length);
        assertEquals(FrameCodec.dataHeaderSize(number, length, offset, payload.length) + payload.length, buf.position());
        buf.flip();
        Frame f = new Frame();
        FrameCodec.decode(buf, f);
        assertEquals(unordered ? Frame.TYPE_DATA_UNORDERED : Frame.TYPE_DATA_ORDERED, f.type());
        assertEquals(number, f.messageNumber());
        assertEquals(length, f.messageLength());
        assertEquals(offset, f.offset());
        assertTrue(java.util.Arrays.equals(payload, f.payload()));
    }

    @Property(tries = 3000)
    void randomBytesDecodeOrFailWithFrameFormatExceptionOnly(@ForAll @Size(max = 64) byte[] bytes) {
        ByteBuffer buf = ByteBuffer.wrap(bytes);
        Frame f = new Frame();
        try {
            while (buf.hasRemaining()) {
                int before = buf.position();
                FrameCodec.decode(buf, f);
                assertTrue(buf.position() > before, "decode always makes progress");
            }
        } catch (FrameFormatException expected) {
            // the documented rejection
        }
    }

    @Property(tries = 2000)
    void everyTruncationOfAValidFrameIsRejectedWithoutMovingThePosition(@ForAll @IntRange(min = 2, max = 10) int kind,
                                                                        @ForAll @LongRange(min = 0, max = 1 << 40) long a,
                                                                        @ForAll @Size(min = 1, max = 300) byte[] payload,
                                                                        @ForAll @IntRange(min = 1, max = 400) int cut) {
        ByteBuffer full = encodeOne(kind, a, a / 3, a % 977, payload, List.of(5L, 3L, 7L));
        int len = Math.max(0, full.remaining() - cut);
        ByteBuffer truncated = ByteBuffer.wrap(java.util.Arrays.copyOf(full.array(), len));
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(truncated, new Frame()));
        assertEquals(0, truncated.position());
    }

    @Test
    void rejectsUnknownTypesOversizedLengthsAndImpossibleRanges() {
        Frame f = new Frame();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(ByteBuffer.wrap(new byte[] {0x3f}), f));
        // DATA claiming a 1 GiB message
        ByteBuffer big = ByteBuffer.allocate(64);
        FrameCodec.encodeData(big, false, 0, 1L << 30, 0, ByteBuffer.allocate(1), 0, 1);
        big.flip();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(big, f));
        // fragment beyond the message end
        ByteBuffer beyond = ByteBuffer.allocate(64);
        FrameCodec.encodeData(beyond, false, 0, 10, 8, ByteBuffer.allocate(5), 0, 5);
        beyond.flip();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(beyond, f));
        // ACK first range larger than largest
        ByteBuffer ack = ByteBuffer.allocate(16);
        ack.put((byte) Frame.TYPE_ACK);
        Varint.write(ack, 5);
        Varint.write(ack, 0);
        Varint.write(ack, 0);
        Varint.write(ack, 6);
        ack.flip();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(ack, f));
        // ACK with too many ranges
        ByteBuffer many = ByteBuffer.allocate(16);
        many.put((byte) Frame.TYPE_ACK);
        Varint.write(many, 1000);
        Varint.write(many, 0);
        Varint.write(many, Frame.MAX_ACK_RANGES);
        many.flip();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(many, f));
        // CLOSE reason too long
        ByteBuffer close = ByteBuffer.allocate(16);
        close.put((byte) Frame.TYPE_CLOSE);
        Varint.write(close, 0);
        Varint.write(close, Frame.MAX_REASON_BYTES + 1);
        close.flip();
        assertThrows(FrameFormatException.class, () -> FrameCodec.decode(close, f));
    }

    @Property(tries = 3000)
    void packetNumberReconstructionRecoversNearbyNumbers(@ForAll @LongRange(min = -1, max = 1L << 50) long largest,
                                                         @ForAll @LongRange(min = -(1L << 30), max = 1L << 30) long distance) {
        long pn = largest + 1 + distance;
        if (pn < 0) {
            return;
        }
        assertEquals(pn, PacketCodec.decodePacketNumber(largest, pn & 0xFFFFFFFFL));
    }

    @Test
    void packetIntegrityFailureIsDroppedNotRejected() throws FrameFormatException {
        PacketCodec codec = new PacketCodec();
        ByteBuffer p = ByteBuffer.allocate(100);
        codec.writeHeader(p, 7, 5);
        FrameCodec.encodePing(p);
        codec.seal(p, 0);
        p.flip();
        ByteBuffer good = p.duplicate();
        assertEquals(5, codec.open(good, 7, 4));
        assertEquals(Frame.TYPE_PING, good.get(good.position()));
        assertEquals(PacketCodec.NOT_FOR_US, codec.open(p.duplicate(), 8, 4));
        ByteBuffer flipped = ByteBuffer.wrap(p.array().clone(), 0, p.limit());
        flipped.put(12, (byte) (flipped.get(12) ^ 1));
        assertEquals(PacketCodec.DROPPED, codec.open(flipped, 7, 4));
        // Too short to be a packet, or of an unknown type: unauthenticated, so dropped, never a violation.
        assertEquals(PacketCodec.DROPPED, codec.open(ByteBuffer.wrap(new byte[10]), 7, 4));
        ByteBuffer otherType = ByteBuffer.wrap(p.array().clone(), 0, p.limit());
        otherType.put(0, (byte) 0x42);
        assertEquals(PacketCodec.DROPPED, codec.open(otherType, 7, 4));
    }

    // ---- hostile packets against a live engine: only PROTOCOL_VIOLATION, never an escaping exception

    @Provide
    Arbitrary<byte[]> framesBytes() {
        Arbitrary<byte[]> valid = Combinators.combine(Arbitraries.integers().between(0, 10),
                Arbitraries.longs().between(0, 1 << 20), Arbitraries.bytes().array(byte[].class).ofMaxSize(200))
                .as((k, a, p) -> {
                    ByteBuffer b = encodeOne(k, a, a, a, p, List.of(1L, 1L));
                    byte[] out = new byte[b.remaining()];
                    b.get(out);
                    return out;
                });
        Arbitrary<byte[]> mutated = Combinators.combine(valid, Arbitraries.integers().between(0, 1000),
                Arbitraries.integers().between(0, 255)).as((bytes, at, v) -> {
                    byte[] copy = bytes.clone();
                    if (copy.length > 0) {
                        copy[at % copy.length] = (byte) (int) v;
                    }
                    return copy;
                });
        return Arbitraries.oneOf(valid, mutated, Arbitraries.bytes().array(byte[].class).ofMinSize(1).ofMaxSize(100));
    }

    @Property(tries = 400)
    void hostilePacketsOnlyEverCloseTheChannelWithProtocolViolation(@ForAll("framesBytes") byte[] frames,
                                                                    @ForAll @LongRange(min = 0, max = 1000) long packetNumber)
            throws Exception {
        try (EventLoop loop = new EventLoop("hostile")) {
            ChannelEngine engine = new ChannelEngine(loop, 2, 1, new DiscardPath(), ChannelOptions.defaults());
            engine.start();
            PacketCodec codec = new PacketCodec();
            ByteBuffer p = ByteBuffer.allocate(frames.length + PacketCodec.OVERHEAD);
            codec.writeHeader(p, 2, packetNumber);
            p.put(frames);
            codec.seal(p, 0);
            p.flip();
            Throwable escaped = ChannelPair.onLoop(loop, () -> {
                try {
                    engine.onDatagram(p);
                    return null;
                } catch (Throwable t) {
                    return t;
                }
            });
            assertEquals(null, escaped);
            if (!engine.isOpen() && engine.closed().toCompletableFuture().isDone()) {
                CloseReason r = engine.closed().toCompletableFuture().get(1, TimeUnit.SECONDS);
                // A well-formed CLOSE may end the channel with any code; everything else the
                // engine closes itself with PROTOCOL_VIOLATION.
                assertTrue(r.byPeer() || r.code() == CloseReason.PROTOCOL_VIOLATION, r.toString());
            }
        }
    }

    /** A path that drops everything; the engine under test only receives. */
    static class DiscardPath implements DatagramPath {
        @Override
        public boolean send(ByteBuffer datagram) {
            datagram.position(datagram.limit());
            return true;
        }

        @Override
        public int maxDatagramSize() {
            return 1200;
        }
    }
}
