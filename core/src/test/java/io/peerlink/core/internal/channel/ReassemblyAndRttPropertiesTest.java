package io.peerlink.core.internal.channel;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reassembly and RTT arithmetic under arbitrary input. */
class ReassemblyAndRttPropertiesTest {

    /**
     * Fragments as an honest sender cuts them (at least 128 bytes except the last, see
     * docs/protocol-channel.md section 3), arriving in any order, some twice (retransmissions
     * whose original arrived after all): the message comes out exactly, within the range cap,
     * with memory that follows the data.
     */
    @Property(tries = 300)
    void honestFragmentsInAnyOrderAndDuplicatedReassembleExactly(
            @ForAll @IntRange(min = 1, max = 100_000) int length,
            @ForAll @IntRange(min = 128, max = 3000) int maxFragment,
            @ForAll long seed) throws FrameFormatException {
        Random r = new Random(seed);
        byte[] message = new byte[length];
        r.nextBytes(message);
        List<int[]> fragments = new ArrayList<>();
        for (int off = 0; off < length; ) {
            int n = Math.min(length - off, 128 + r.nextInt(maxFragment - 127));
            fragments.add(new int[] {off, n});
            off += n;
        }
        int extra = r.nextInt(1 + fragments.size());
        for (int i = 0; i < extra; i++) {
            fragments.add(fragments.get(r.nextInt(fragments.size())).clone());
        }
        Collections.shuffle(fragments, r);
        ReceiveBudget budget = new ReceiveBudget(1L << 30);
        InboundMessage in = new InboundMessage(0, length, 0, budget);
        ByteBuffer src = ByteBuffer.wrap(message);
        for (int[] f : fragments) {
            in.add(src, f[0], f[0], f[1]);
            assertTrue(budget.used() <= (long) length + 8L * (length / InboundMessage.CHUNK + 1) + 8L * fragments.size() + 64,
                    "charged " + budget.used() + " for a " + length + "-byte message");
        }
        assertTrue(in.complete);
        assertArrayEquals(message, in.bytes());
        in.release();
        assertEquals(0, budget.used());
    }

    /**
     * Hostile fragments (any size from 1 byte, any order, overlapping): either the message comes
     * out exactly, or the range cap ends it with a FrameFormatException — nothing else, and the
     * memory is returned.
     */
    @Property(tries = 300)
    void hostileFragmentsReassembleOrHitTheRangeCap(
            @ForAll @IntRange(min = 1, max = 50_000) int length,
            @ForAll @IntRange(min = 1, max = 200) int maxFragment,
            @ForAll long seed) {
        Random r = new Random(seed);
        byte[] message = new byte[length];
        r.nextBytes(message);
        List<int[]> fragments = new ArrayList<>();
        for (int off = 0; off < length; ) {
            int n = Math.min(length - off, 1 + r.nextInt(maxFragment));
            fragments.add(new int[] {off, n});
            off += n;
        }
        for (int i = r.nextInt(1 + fragments.size()); i > 0; i--) {
            int off = r.nextInt(length);
            fragments.add(new int[] {off, 1 + r.nextInt(Math.min(length - off, maxFragment))});
        }
        Collections.shuffle(fragments, r);
        ReceiveBudget budget = new ReceiveBudget(1L << 30);
        InboundMessage in = new InboundMessage(0, length, 0, budget);
        ByteBuffer src = ByteBuffer.wrap(message);
        try {
            for (int[] f : fragments) {
                in.add(src, f[0], f[0], f[1]);
                assertTrue(in.rangeCount() <= Math.min(InboundMessage.MAX_RANGES, 16 + length / 64));
            }
            assertTrue(in.complete);
            assertArrayEquals(message, in.bytes());
        } catch (FrameFormatException e) {
            assertTrue(e.getMessage().contains("fragment ranges"), e.getMessage());
        }
        in.release();
        assertEquals(0, budget.used());
    }

    @Property(tries = 2000)
    void rttArithmeticNeverOverflowsWhateverThePeerReports(
            @ForAll @Size(min = 1, max = 20) List<@LongRange(min = Long.MIN_VALUE, max = Long.MAX_VALUE) Long> samples,
            @ForAll @Size(min = 1, max = 20) List<@LongRange(min = 0, max = Varint.MAX) Long> ackDelaysMicros,
            @ForAll @LongRange(min = 0, max = 10_000_000_000L) long initialRtt,
            @ForAll @LongRange(min = 0, max = 10_000_000_000L) long maxAckDelay) {
        RttEstimator rtt = new RttEstimator(initialRtt, maxAckDelay);
        for (int i = 0; i < samples.size(); i++) {
            rtt.update(samples.get(i), RttEstimator.ackDelayNanos(ackDelaysMicros.get(i % ackDelaysMicros.size())));
            assertTrue(rtt.smoothed() >= 1 && rtt.smoothed() <= RttEstimator.MAX_RTT_NANOS, "smoothed " + rtt.smoothed());
            assertTrue(rtt.variation() >= 0 && rtt.variation() <= RttEstimator.MAX_RTT_NANOS, "variation " + rtt.variation());
            assertTrue(rtt.pto() > 0, "PTO " + rtt.pto());
            assertTrue(rtt.pto() << 16 > 0, "PTO backed off 2^16 times still fits: " + rtt.pto());
            assertTrue(rtt.lossDelay() > 0);
        }
    }
}
