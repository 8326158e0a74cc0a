package io.peerlink.core.internal.channel;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.testkit.Impairment;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The CANDIDATES frame between two engines over sealed packets (docs/protocol-punching.md, "Fresh
 * candidates"): what one side sends reaches the other's listener intact, next to a running
 * transfer; a peer that sends a malformed candidate list closes the channel with
 * PROTOCOL_VIOLATION.
 */
class CandidatesFrameTest {
    private static final List<Candidate> FRESH = List.of(
            Candidate.of(Endpoint.udp(new InetSocketAddress("10.2.0.10", 40558)), CandidateType.HOST, 65535),
            Candidate.of(Endpoint.udp(new InetSocketAddress("203.0.113.6", 40558)), CandidateType.SERVER_REFLEXIVE, 65535),
            Candidate.of(Endpoint.udp(new InetSocketAddress("2001:db8::7", 4000)), CandidateType.SERVER_REFLEXIVE, 1));

    private record Received(long sequence, int flags, List<Candidate> candidates) {
    }

    @Test
    void candidatesSentByOneSideReachTheOthersListenerDuringATransfer() throws Exception {
        AesGcmTestSealer[] sealers = AesGcmTestSealer.pair();
        try (ChannelPair p = new ChannelPair(SealedChannelTest.FAST, Impairment.NONE, Impairment.NONE, 8, true, sealers[0], sealers[1])) {
            CompletableFuture<Received> atB = new CompletableFuture<>();
            p.b.onCandidates((sequence, flags, candidates) -> atB.complete(new Received(sequence, flags, candidates)));
            CompletableFuture<Void> message = p.a.send(ByteBuffer.wrap(new byte[200_000])).toCompletableFuture();
            ChannelPair.onLoop(p.loopA, () -> {
                p.a.sendCandidates(7, Frame.CANDIDATES_OPENED, FRESH);
                return null;
            });
            Received r = atB.get(10, TimeUnit.SECONDS);
            assertEquals(new Received(7, Frame.CANDIDATES_OPENED, FRESH), r);
            message.get(30, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 1);
            assertEquals(200_000, p.receivedByB.get(0).length);
            assertTrue(p.a.isOpen() && p.b.isOpen());
        }
    }

    @Test
    void tooManyCandidatesAreRefusedBeforeAnythingIsSent() throws Exception {
        try (ChannelPair p = new ChannelPair(SealedChannelTest.FAST, Impairment.NONE, Impairment.NONE, 4)) {
            List<Candidate> nine = new java.util.ArrayList<>();
            for (int i = 0; i < Frame.MAX_CANDIDATES + 1; i++) {
                nine.add(Candidate.of(Endpoint.udp(new InetSocketAddress("203.0.113.6", 1000 + i)), CandidateType.HOST, i));
            }
            long[] sent = new long[2];
            Exception e = ChannelPair.onLoop(p.loopA, () -> {
                sent[0] = p.a.stats().datagramsSent();
                try {
                    p.a.sendCandidates(1, 0, nine);
                    return null;
                } catch (IllegalArgumentException refused) {
                    return refused;
                } finally {
                    sent[1] = p.a.stats().datagramsSent();
                }
            });
            assertTrue(e instanceof IllegalArgumentException, "refused: " + e);
            assertEquals("9 candidates, limit 8", e.getMessage());
            assertEquals(sent[0], sent[1], "nothing was sent");
            Candidate relay = Candidate.of(Endpoint.of("turn", new InetSocketAddress("198.51.100.1", 3479)), CandidateType.RELAY, 1);
            assertTrue(ChannelPair.onLoop(p.loopA, () -> refusal(() -> p.a.sendCandidates(1, 0, List.of(relay))))
                    .contains("only udp HOST and SERVER_REFLEXIVE"));
            assertEquals("unknown CANDIDATES flags 0x4", ChannelPair.onLoop(p.loopA, () -> refusal(() -> p.a.sendCandidates(1, 4, FRESH))));
            assertTrue(p.a.isOpen(), "a refused frame leaves the channel open");
        }
    }

    /** @return the message of the IllegalArgumentException {@code r} throws, or "not refused" (on the loop: no assertion errors there) */
    private static String refusal(Runnable r) {
        try {
            r.run();
            return "not refused";
        } catch (IllegalArgumentException e) {
            return e.getMessage();
        }
    }

    @Test
    void aMalformedCandidateListFromThePeerClosesTheChannelWithProtocolViolation() throws Exception {
        EventLoop loop = new EventLoop("candidates-hostile");
        try {
            HostilePeer peer = new HostilePeer(loop, ChannelOptions.defaults(), new ReceiveBudget(8L << 20));
            List<Received> taken = new java.util.concurrent.CopyOnWriteArrayList<>();
            peer.engine.onCandidates((sequence, flags, candidates) -> taken.add(new Received(sequence, flags, candidates)));
            // A well-tagged packet whose CANDIDATES frame claims 9 entries: what only a peer holding the keys can send.
            peer.send(b -> b.put(new byte[] {Frame.TYPE_CANDIDATES, 1, 0, 9}));
            CloseReason reason = peer.engine.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, reason.code());
            assertTrue(reason.message().contains("CANDIDATES has 9 candidates, limit 8"), reason.message());
            assertTrue(taken.isEmpty(), "nothing reached the listener: " + taken);
        } finally {
            loop.close();
        }
    }
}
