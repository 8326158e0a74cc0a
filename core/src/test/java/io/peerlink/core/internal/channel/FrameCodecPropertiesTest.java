package io.peerlink.core.internal.channel;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.Endpoint;
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

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.ArrayList;
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
            case 11 -> FrameCodec.encodeCandidates(buf, a, (int) (b & Frame.CANDIDATES_OPENED), candidatesFrom(c, payload));
            default -> FrameCodec.encodeDatagram(buf, ByteBuffer.wrap(payload), 0, payload.length);
        }
        buf.flip();
        return buf;
    }

    /** 0..{@link Frame#MAX_CANDIDATES} candidates, IPv4 and IPv6, host and server-reflexive, made from the bytes. */
    static List<Candidate> candidatesFrom(long seed, byte[] bytes) {
        int n = Math.floorMod(seed, Frame.MAX_CANDIDATES + 1);
        List<Candidate> out = new ArrayList<>();
        for (int k = 0; k < n; k++) {
            boolean v6 = ((seed >>> k) & 1) != 0;
            byte[] address = new byte[v6 ? 16 : 4];
            for (int j = 0; j < address.length; j++) {
                address[j] = bytes.length == 0 ? (byte) (k + j) : bytes[(k * 7 + j) % bytes.length];
            }
            int port = 1 + Math.floorMod(seed * 31 + k, 65535);
            try {
                Endpoint e = Endpoint.udp(new InetSocketAddress(InetAddress.getByAddress(address), port));
                out.add(new Candidate(e, ((seed >>> (k + 8)) & 1) != 0 ? CandidateType.HOST : CandidateType.SERVER_REFLEXIVE,
                        Math.floorMod(seed * 7919 + k, 0x1_0000_0000L)));
            } catch (java.net.UnknownHostException impossible) {
                throw new AssertionError(impossible);
            }
        }
        return out;
    }

    @Property(tries = 2000)
    void decodeOfEncodeIsIdentityForEveryFrameType(@ForAll @IntRange(min = 0, max = 11) int kind,
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
    void everyTruncationOfAValidFrameIsRejectedWithoutMovingThePosition(@ForAll @IntRange(min = 2, max = 11) int kind,
                                                                        @ForAll @LongRange(min = 0, max = 1 << 40) long a,
                                                                        @ForAll @Size(min = 1, max = 300) byte[] payload,
                                                                        @ForAll @IntRange(min = 1, max = 400) int cut) {
        // A CANDIDATES frame with at least one candidate: an empty one (count 0) has no optional tail to cut.
        ByteBuffer full = encodeOne(kind, a, a / 3, kind == 11 ? 1 + a % Frame.MAX_CANDIDATES : a % 977, payload, List.of(5L, 3L, 7L));
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

    @Property(tries = 2000)
    void candidatesSurviveTheRoundTrip(@ForAll @LongRange(min = 0, max = Varint.MAX) long sequence,
                                       @ForAll boolean opened,
                                       @ForAll long seed,
                                       @ForAll @Size(max = 40) byte[] bytes) throws FrameFormatException {
        List<Candidate> candidates = candidatesFrom(seed, bytes);
        ByteBuffer buf = ByteBuffer.allocate(512);
        FrameCodec.encodeCandidates(buf, sequence, opened ? Frame.CANDIDATES_OPENED : 0, candidates);
        assertEquals(FrameCodec.candidatesSize(sequence, candidates), buf.position());
        buf.flip();
        Frame f = new Frame();
        FrameCodec.decode(buf, f);
        assertFalse(buf.hasRemaining());
        assertEquals(Frame.TYPE_CANDIDATES, f.type());
        assertEquals(sequence, f.value());
        assertEquals(opened ? Frame.CANDIDATES_OPENED : 0, f.value2());
        assertEquals(candidates, FrameCodec.candidates(f));
    }

    /** A CANDIDATES frame of sequence 1, flags 0 and the given count byte, then {@code entries}. */
    private static ByteBuffer candidatesFrame(int count, byte... entries) {
        ByteBuffer b = ByteBuffer.allocate(4 + entries.length);
        b.put((byte) Frame.TYPE_CANDIDATES).put((byte) 1).put((byte) 0).put((byte) count).put(entries);
        return b.flip();
    }

    private static String rejection(ByteBuffer frame) {
        FrameFormatException e = assertThrows(FrameFormatException.class, () -> FrameCodec.decode(frame, new Frame()));
        assertEquals(0, frame.position(), "a refused frame leaves the position where it was");
        return e.getMessage();
    }

    @Test
    void malformedAndOversizedCandidateListsAreRejectedPrecisely() {
        byte[] v4 = {1, 4, (byte) 203, 0, 113, 7, 0x1F, (byte) 0x90, 0, 0, 0, 1}; // host 203.0.113.7:8080, priority 1
        assertEquals(1, FrameCodec.candidates(decoded(candidatesFrame(1, v4))).size());
        // more than MAX_CANDIDATES: rejected on the count, before any entry is read
        assertEquals("CANDIDATES has 9 candidates, limit 8", rejection(candidatesFrame(9)));
        assertEquals("CANDIDATES has 255 candidates, limit 8", rejection(candidatesFrame(255)));
        // an entry of unknown candidate type (3 would be peer-reflexive, 0 and RELAY are never sent)
        byte[] relay = v4.clone();
        relay[0] = 3;
        assertEquals("CANDIDATES entry 0 has candidate type 3, not 1 (host) or 2 (server-reflexive)", rejection(candidatesFrame(1, relay)));
        byte[] family = v4.clone();
        family[1] = 5;
        assertEquals("CANDIDATES entry 0 has address family 5, not 4 or 6", rejection(candidatesFrame(1, family)));
        byte[] port0 = v4.clone();
        port0[6] = 0;
        port0[7] = 0;
        assertEquals("CANDIDATES entry 0 has port 0", rejection(candidatesFrame(1, port0)));
        // the count promises two entries, one is there
        assertEquals("truncated CANDIDATES entry 1 of 2", rejection(candidatesFrame(2, v4)));
        // an IPv6 family with only an IPv4 address's bytes
        byte[] short6 = v4.clone();
        short6[1] = 6;
        assertEquals("truncated CANDIDATES entry 0: 12 of 24 bytes", rejection(candidatesFrame(1, short6)));
        ByteBuffer flags = candidatesFrame(0);
        flags.put(2, (byte) 0x02);
        assertEquals("CANDIDATES has unknown flags 0x2", rejection(flags));
        assertEquals("truncated CANDIDATES: no flags and count", rejection(ByteBuffer.wrap(new byte[] {Frame.TYPE_CANDIDATES, 1, 0})));
        // the encoder refuses what the decoder would
        ByteBuffer dst = ByteBuffer.allocate(512);
        List<Candidate> nine = candidatesFrom(8, new byte[] {10, 0, 0, 1});
        List<Candidate> tooMany = new ArrayList<>(nine);
        tooMany.add(nine.get(0));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.encodeCandidates(dst, 1, 0, tooMany));
        Candidate turn = Candidate.of(Endpoint.of("turn", new InetSocketAddress("203.0.113.9", 3478)), CandidateType.RELAY, 1);
        assertFalse(FrameCodec.encodable(turn));
        assertThrows(IllegalArgumentException.class, () -> FrameCodec.encodeCandidates(dst, 1, 0, List.of(turn)));
        assertEquals(0, dst.position());
    }

    private static Frame decoded(ByteBuffer b) {
        Frame f = new Frame();
        try {
            FrameCodec.decode(b, f);
        } catch (FrameFormatException e) {
            throw new AssertionError(e);
        }
        return f;
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
        Arbitrary<byte[]> valid = Combinators.combine(Arbitraries.integers().between(0, 11),
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
