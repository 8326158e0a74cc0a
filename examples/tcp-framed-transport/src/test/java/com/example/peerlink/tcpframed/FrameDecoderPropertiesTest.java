package com.example.peerlink.tcpframed;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The frame decoder under arbitrary read boundaries and hostile input. */
class FrameDecoderPropertiesTest {

    private static final int MAX = 512;

    @Provide
    Arbitrary<List<byte[]>> frames() {
        return Arbitraries.bytes().array(byte[].class).ofMaxSize(MAX).list().ofMaxSize(20);
    }

    /** Feeds {@code stream} to a decoder in reads of the given sizes; returns the frames it produced. */
    private static List<byte[]> decodeInReads(byte[] stream, List<Integer> readSizes) throws FrameDecoder.FramingException {
        FrameDecoder decoder = new FrameDecoder(MAX);
        List<byte[]> out = new ArrayList<>();
        int offset = 0;
        int i = 0;
        while (offset < stream.length) {
            ByteBuffer into = decoder.readBuffer();
            int n = Math.min(Math.min(readSizes.get(i++ % readSizes.size()), into.remaining()), stream.length - offset);
            into.put(stream, offset, n);
            offset += n;
            decoder.decode(frame -> {
                byte[] copy = new byte[frame.remaining()];
                frame.get(copy);
                out.add(copy);
            });
        }
        return out;
    }

    @Property
    void framesSurviveAnyReadBoundaries(@ForAll("frames") List<byte[]> frames,
                                        @ForAll @Size(min = 1, max = 8) List<@IntRange(min = 1, max = 700) Integer> readSizes) throws Exception {
        ByteBuffer stream = ByteBuffer.allocate(frames.stream().mapToInt(f -> 4 + f.length).sum());
        for (byte[] f : frames) {
            stream.putInt(f.length).put(f);
        }
        List<byte[]> decoded = decodeInReads(stream.array(), readSizes);
        assertEquals(frames.size(), decoded.size());
        for (int i = 0; i < frames.size(); i++) {
            assertArrayEquals(frames.get(i), decoded.get(i));
        }
    }

    @Provide
    Arbitrary<Integer> outOfBounds() {
        return Arbitraries.oneOf(Arbitraries.integers().between(Integer.MIN_VALUE, -1), Arbitraries.integers().between(MAX + 1, Integer.MAX_VALUE));
    }

    @Property
    void lengthOutsideBoundsIsAFramingException(@ForAll("outOfBounds") int length, @ForAll @IntRange(min = 1, max = 8) int readSize) {
        byte[] stream = ByteBuffer.allocate(8).putInt(length).array();
        FrameDecoder.FramingException e = assertThrows(FrameDecoder.FramingException.class, () -> decodeInReads(stream, List.of(readSize)));
        assertTrue(e.getMessage().contains("frame length " + length), e.getMessage());
    }

    @Property
    void arbitraryBytesGiveBoundedFramesOrAFramingException(@ForAll @Size(max = 2000) byte[] stream,
                                                            @ForAll @IntRange(min = 1, max = 700) int readSize) {
        try {
            for (byte[] frame : decodeInReads(stream, List.of(readSize))) {
                assertTrue(frame.length <= MAX);
            }
        } catch (FrameDecoder.FramingException expected) {
            // rejected precisely; anything else (IndexOutOfBounds, NegativeArraySize) fails the property
        }
    }
}
