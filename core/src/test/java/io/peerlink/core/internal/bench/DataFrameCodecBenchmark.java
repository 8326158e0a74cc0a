package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.channel.Frame;
import io.peerlink.core.internal.channel.FrameCodec;
import io.peerlink.core.internal.channel.FrameFormatException;
import io.peerlink.core.internal.channel.PacketCodec;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;
import java.util.zip.CRC32C;

/**
 * Encode + decode of one channel packet carrying one DATA frame that fills a 1,200-byte datagram
 * (the default {@code maxDatagramSize}), the way {@code ChannelEngine} builds and reads it: link
 * header and packet number, the DATA frame, the CRC32C integrity tag; then open (verify the tag,
 * reconstruct the packet number) and decode the frame. Heap buffers, as the engine uses.
 *
 * <p>Baseline: a plain {@code ByteBuffer} put + get of the same 1,200 bytes, the least any
 * encoder and decoder that copy the payload once each way could cost. The split benchmarks
 * (frame codec alone, packet encode, packet decode, CRC32C alone) say where the time goes.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class DataFrameCodecBenchmark {
    /** Datagram size the whole packet fills. */
    public static final int DATAGRAM_SIZE = 1200;

    private static final long CONNECTION_ID = 0x1122334455667788L;
    /** A fragment in the middle of a 1 MiB ordered message: realistic varint widths. */
    private static final long MESSAGE_NUMBER = 1000;
    private static final long MESSAGE_LENGTH = 1 << 20;
    private static final long FRAGMENT_OFFSET = 600_000;

    private final PacketCodec codec = new PacketCodec();
    private final Frame frame = new Frame();
    private final CRC32C crc = new CRC32C();
    private ByteBuffer payload;
    private ByteBuffer packet;
    private ByteBuffer sealed;
    private byte[] sink;
    private int fragmentLength;
    private long packetNumber;

    /** Builds the payload and one sealed packet for the decode-only benchmark. */
    @Setup
    public void setUp() {
        fragmentLength = fragmentFilling(DATAGRAM_SIZE);
        payload = ByteBuffer.allocate((int) MESSAGE_LENGTH);
        for (int i = 0; i < payload.capacity(); i++) {
            payload.put(i, (byte) (i * 31));
        }
        packet = ByteBuffer.allocate(DATAGRAM_SIZE);
        sealed = ByteBuffer.allocate(DATAGRAM_SIZE);
        encodePacket(sealed, 7);
        sealed.flip();
        if (sealed.remaining() != DATAGRAM_SIZE) {
            throw new IllegalStateException("packet is " + sealed.remaining() + " bytes, not " + DATAGRAM_SIZE);
        }
        sink = new byte[DATAGRAM_SIZE];
        packetNumber = 1;
    }

    /** @return the fragment length that makes header + DATA frame + tag exactly {@code datagram} bytes */
    static int fragmentFilling(int datagram) {
        int room = datagram - PacketCodec.OVERHEAD;
        int n = room;
        while (FrameCodec.dataHeaderSize(MESSAGE_NUMBER, MESSAGE_LENGTH, FRAGMENT_OFFSET, n) + n > room) {
            n--;
        }
        return n;
    }

    private void encodePacket(ByteBuffer dst, long pn) {
        dst.clear();
        codec.writeHeader(dst, CONNECTION_ID, pn);
        FrameCodec.encodeData(dst, false, MESSAGE_NUMBER, MESSAGE_LENGTH, FRAGMENT_OFFSET, payload,
                (int) FRAGMENT_OFFSET, fragmentLength);
        codec.seal(dst, 0);
    }

    /**
     * The target: seal a 1,200-byte packet with one DATA frame, then open and decode it.
     *
     * @return something derived from the decoded frame, so nothing is eliminated
     * @throws FrameFormatException never: the packet is well formed
     */
    @Benchmark
    public long packetEncodeDecode() throws FrameFormatException {
        long pn = packetNumber++;
        encodePacket(packet, pn);
        packet.flip();
        long received = codec.open(packet, CONNECTION_ID, pn - 1);
        FrameCodec.decode(packet, frame);
        return received + frame.dataLength() + frame.offset();
    }

    /**
     * Baseline: copy the same 1,200 bytes into the packet buffer and out again.
     *
     * @return a byte of the copy
     */
    @Benchmark
    public byte baselinePutGetCopy() {
        packet.clear();
        packet.put(0, payload, (int) FRAGMENT_OFFSET, DATAGRAM_SIZE);
        packet.get(0, sink, 0, DATAGRAM_SIZE);
        return sink[DATAGRAM_SIZE - 1];
    }

    /**
     * Split: the DATA frame encode + decode alone (no packet header, no integrity tag).
     *
     * @return decoded fragment length
     * @throws FrameFormatException never
     */
    @Benchmark
    public int frameOnlyEncodeDecode() throws FrameFormatException {
        packet.clear();
        FrameCodec.encodeData(packet, false, MESSAGE_NUMBER, MESSAGE_LENGTH, FRAGMENT_OFFSET, payload,
                (int) FRAGMENT_OFFSET, fragmentLength);
        packet.flip();
        FrameCodec.decode(packet, frame);
        return frame.dataLength();
    }

    /**
     * Split: header, DATA frame and seal only.
     *
     * @return the packet's size
     */
    @Benchmark
    public int packetEncodeOnly() {
        encodePacket(packet, packetNumber++);
        return packet.position();
    }

    /**
     * Split: open (tag check, packet number) and decode only, of a packet sealed in setup.
     *
     * @return something derived from the decoded frame
     * @throws FrameFormatException never
     */
    @Benchmark
    public long packetDecodeOnly() throws FrameFormatException {
        sealed.limit(DATAGRAM_SIZE).position(0);
        long pn = codec.open(sealed, CONNECTION_ID, 6);
        FrameCodec.decode(sealed, frame);
        return pn + frame.dataLength();
    }

    /**
     * Split: one CRC32C over the bytes a tag covers (what seal and open each compute).
     *
     * @return the checksum
     */
    @Benchmark
    public long crc32cOfOnePacket() {
        crc.reset();
        sealed.limit(DATAGRAM_SIZE - PacketCodec.TAG_LENGTH).position(0);
        crc.update(sealed);
        return crc.getValue();
    }
}
