package io.peerlink.core.internal.channel;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.util.concurrent.CompletableFuture;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for what a channel reads from the network: the frame codec on its own, and
 * whole channel packets fed to a live {@link ChannelEngine} (docs/fuzzing.md). In a normal build they
 * replay their seed corpus ({@code ChannelFuzzTestInputs/<method>/}); {@code JAZZER_FUZZ=1} fuzzes.
 *
 * <p>{@link #channelPacket} frames the input as the payload of a correctly tagged packet (CRC32C,
 * the unsealed channel's tag; the AEAD in front of it has its own target,
 * {@code CryptoFuzzTest#packetOpen}), so every input reaches the frame decoder and the receiver:
 * what a peer holding the session keys can send. One engine lives across executions.
 */
class ChannelFuzzTest {
    private static EventLoop loop;
    private static HostilePeer peer;

    /**
     * Frames are decoded one after another until the input ends or one is refused. Only
     * {@link FrameFormatException} may come out; a refused frame leaves the position where it was;
     * a decoded frame encodes again into a frame that decodes to the same content.
     */
    @FuzzTest(maxDuration = "30m")
    void frames(byte[] input) {
        ByteBuffer src = ByteBuffer.wrap(input);
        Frame frame = new Frame();
        Frame again = new Frame();
        ByteBuffer out = ByteBuffer.allocate(input.length + 64);
        while (src.hasRemaining()) {
            int before = src.position();
            try {
                FrameCodec.decode(src, frame);
            } catch (FrameFormatException refused) {
                assertEquals(before, src.position(), "a refused frame must not move the position");
                return;
            }
            assertTrue(src.position() > before, "a decoded frame consumes bytes");
            if (frame.type() == Frame.TYPE_PADDING) {
                continue;
            }
            if (frame.type() == Frame.TYPE_CANDIDATES) {
                // What the decoder accepted, the session's slow path reads without failing.
                assertTrue(FrameCodec.candidates(frame).size() <= Frame.MAX_CANDIDATES, "at most MAX_CANDIDATES candidates");
            }
            out.clear();
            FrameCodec.encode(out, frame);
            out.flip();
            try {
                FrameCodec.decode(out, again);
            } catch (FrameFormatException e) {
                throw new AssertionError("a decoded frame of type " + frame.type() + " re-encodes into a refused one: " + e.getMessage(), e);
            }
            assertTrue(frame.sameAs(again), "frame of type " + frame.type() + " changed through encode/decode");
            assertEquals(0, out.remaining(), "re-encoded frame fully consumed");
        }
    }

    private static synchronized HostilePeer victim() {
        if (loop == null) {
            loop = new EventLoop("channel-fuzz");
        }
        if (peer == null || !peer.engine.isOpen()) {
            peer = new HostilePeer(loop, ChannelOptions.defaults(), new ReceiveBudget(8L << 20));
            peer.engine.onMessage((message, delivery) -> { });
        }
        return peer;
    }

    /**
     * The input is the frames of one packet, sealed with the right tag for a long-lived engine's
     * connection ID. The engine's receive path must never fail internally: a malformed packet
     * closes the channel with PROTOCOL_VIOLATION (then a fresh engine is made), anything else is
     * taken or ignored. An "internal error" close (an exception on the receive path) is a finding.
     */
    @FuzzTest(maxDuration = "30m")
    void channelPacket(byte[] input) throws Exception {
        HostilePeer p = victim();
        int room = 1200 - PacketCodec.OVERHEAD;
        int n = Math.min(input.length, room);
        ByteBuffer datagram = p.packet(b -> b.put(input, 0, n));
        CompletableFuture<CloseReason> closed = p.engine.closedOnLoop().toCompletableFuture();
        ChannelPair.onLoop(p.loop, () -> {
            p.engine.onDatagram(datagram);
            return null;
        });
        p.sent.clear();
        CloseReason reason = closed.getNow(null);
        if (reason != null) {
            assertFalse(!reason.byPeer() && reason.message().startsWith("internal error"),
                    "the engine failed internally: " + reason);
        }
    }
}
