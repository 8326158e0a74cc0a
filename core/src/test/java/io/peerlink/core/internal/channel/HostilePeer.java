package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * A peer written by hand: the engine under test sends into a queue the test reads, and the test
 * crafts whatever packets it likes (valid framing and tags, hostile content) and hands them to the
 * engine on its loop. What an attacker holding the session keys can do.
 */
final class HostilePeer {
    /** Connection ID of the engine under test. */
    static final long TARGET_CID = 2;
    /** Connection ID the engine under test addresses. */
    static final long PEER_CID = 1;

    final EventLoop loop;
    final ChannelEngine engine;
    final LinkedBlockingQueue<byte[]> sent = new LinkedBlockingQueue<>();
    private final PacketCodec codec = new PacketCodec();
    private final Frame frame = new Frame();
    private long nextPacketNumber;

    HostilePeer(EventLoop loop, ChannelOptions options, ReceiveBudget budget) {
        this(loop, options, budget, new Crc32cSealer());
    }

    /** @param sealer the engine's packet protection (the peer seals with CRC32C: use a compatible one) */
    HostilePeer(EventLoop loop, ChannelOptions options, ReceiveBudget budget, PacketSealer sealer) {
        this.loop = loop;
        DatagramPath capture = new DatagramPath() {
            @Override
            public boolean send(ByteBuffer datagram) {
                byte[] copy = new byte[datagram.remaining()];
                datagram.get(copy);
                sent.add(copy);
                return true;
            }

            @Override
            public int maxDatagramSize() {
                return 1200;
            }
        };
        this.engine = new ChannelEngine(loop, TARGET_CID, PEER_CID, capture, options, sealer, budget);
        engine.start();
    }

    /** @return the next packet, sealed, with the frames {@code writer} puts into it */
    ByteBuffer packet(Consumer<ByteBuffer> writer) {
        ByteBuffer p = ByteBuffer.allocate(1200);
        p.limit(1200 - PacketCodec.TAG_LENGTH);
        codec.writeHeader(p, TARGET_CID, nextPacketNumber++);
        writer.accept(p);
        p.limit(1200);
        codec.seal(p, 0);
        p.flip();
        return p;
    }

    /** Sends one packet with the frames {@code writer} puts into it. */
    void send(Consumer<ByteBuffer> writer) throws Exception {
        ByteBuffer p = packet(writer);
        ChannelPair.onLoop(loop, () -> {
            engine.onDatagram(p);
            return null;
        });
    }

    /** Sends a whole message as in-order DATA fragments, as an honest peer would. */
    void sendMessage(boolean unordered, long number, byte[] message) throws Exception {
        int offset = 0;
        do {
            int at = offset;
            int n = Math.min(1000, message.length - offset);
            send(b -> FrameCodec.encodeData(b, unordered, number, message.length, at, ByteBuffer.wrap(message), at, n));
            offset += n;
        } while (offset < message.length);
    }

    /**
     * Opens every packet the engine sent so far and hands each packet number and its frames to
     * the visitor.
     *
     * @return packet numbers seen, in order
     */
    List<Long> drain(FrameVisitor visitor) throws Exception {
        List<Long> numbers = new ArrayList<>();
        for (byte[] d; (d = sent.poll()) != null; ) {
            ByteBuffer b = ByteBuffer.wrap(d);
            long pn = codec.open(b, PEER_CID, numbers.isEmpty() ? -1 : numbers.get(numbers.size() - 1));
            if (pn < 0) {
                throw new AssertionError("engine sent a packet that does not open: " + pn);
            }
            numbers.add(pn);
            while (b.hasRemaining()) {
                FrameCodec.decode(b, frame);
                visitor.visit(pn, frame);
            }
        }
        return numbers;
    }

    /** Waits for the engine to send something. */
    byte[] awaitSent(long timeoutMillis) throws InterruptedException {
        return sent.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    }

    /** Receives decoded frames. */
    interface FrameVisitor {
        void visit(long packetNumber, Frame frame) throws Exception;
    }

    /** Encodes an ACK of the given ranges (highest first, as {high, low} pairs). */
    static void ack(ByteBuffer b, long ackDelayMicros, long... highLow) {
        int n = highLow.length / 2;
        long[] low = new long[n];
        long[] high = new long[n];
        for (int i = 0; i < n; i++) {
            high[i] = highLow[2 * i];
            low[i] = highLow[2 * i + 1];
        }
        FrameCodec.encodeAck(b, low, high, n, ackDelayMicros);
    }
}
