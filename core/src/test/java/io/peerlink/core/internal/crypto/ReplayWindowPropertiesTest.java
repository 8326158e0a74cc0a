package io.peerlink.core.internal.crypto;

import io.peerlink.core.internal.crypto.ReplayWindow.Verdict;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;

/** The anti-replay window against a reference model (a set of everything seen plus the largest). */
class ReplayWindowPropertiesTest {

    /** What the window must answer, given everything accepted so far. */
    private static Verdict model(Set<Long> seen, long largest, long packetNumber) {
        if (packetNumber > largest) {
            return Verdict.FRESH;
        }
        if (largest - packetNumber >= ReplayWindow.SIZE) {
            return Verdict.TOO_OLD;
        }
        return seen.contains(packetNumber) ? Verdict.DUPLICATE : Verdict.FRESH;
    }

    @Property(tries = 300)
    void agreesWithTheModelForArbitraryArrivals(@ForAll @Size(max = 600) List<@IntRange(min = 0, max = 12_000) Integer> arrivals,
                                                @ForAll @LongRange(min = 0, max = 1L << 61) long base) {
        ReplayWindow window = new ReplayWindow();
        Set<Long> seen = new HashSet<>();
        long largest = -1;
        for (int offset : arrivals) {
            long pn = base + offset;
            Verdict expected = model(seen, largest, pn);
            assertEquals(expected, window.check(pn), "packet " + pn + " after largest " + largest);
            if (expected == Verdict.FRESH) {
                window.mark(pn);
                seen.add(pn);
                largest = Math.max(largest, pn);
            }
            assertEquals(largest, window.largest());
        }
    }

    @Property(tries = 100)
    void everyPacketOfAReorderedBlockWithinTheWindowIsAcceptedExactlyOnce(
            @ForAll @IntRange(min = 1, max = ReplayWindow.SIZE) int blockLength,
            @ForAll @LongRange(min = 0, max = 1L << 40) long start, @ForAll long seed) {
        ReplayWindow window = new ReplayWindow();
        List<Long> block = new ArrayList<>();
        for (long i = 0; i < blockLength; i++) {
            block.add(start + i);
        }
        Collections.shuffle(block, new Random(seed));
        for (long pn : block) {
            assertEquals(Verdict.FRESH, window.check(pn));
            window.mark(pn);
            assertEquals(Verdict.DUPLICATE, window.check(pn));
        }
        for (long pn : block) {
            assertEquals(Verdict.DUPLICATE, window.check(pn), "replay of " + pn);
        }
    }

    @Property(tries = 200)
    void numbersAtOrBelowLargestMinusSizeAreTooOld(@ForAll @LongRange(min = ReplayWindow.SIZE, max = 1L << 62) long largest,
                                                   @ForAll @LongRange(min = ReplayWindow.SIZE, max = 1L << 62) long age) {
        ReplayWindow window = new ReplayWindow();
        window.mark(largest);
        long old = largest - Math.min(age, largest);
        assertEquals(Verdict.TOO_OLD, window.check(old));
        assertEquals(Verdict.FRESH, window.check(largest - ReplayWindow.SIZE + 1));
    }
}
