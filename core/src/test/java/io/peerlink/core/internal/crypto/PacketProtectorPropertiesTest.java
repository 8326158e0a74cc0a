package io.peerlink.core.internal.crypto;

import io.peerlink.core.internal.crypto.PacketProtector.OpenResult;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Key-update continuity: a sender that rekeys often (by volume and by time) and a channel that
 * reorders within a bounded distance, duplicates and drops packets; every packet that arrives is
 * opened exactly once with its own content, duplicates are refused, and the receiver follows every
 * generation.
 */
class PacketProtectorPropertiesTest {
    private static final long MILLI = 1_000_000L;

    @Property(tries = 60)
    void packetsSurviveKeyUpdatesUnderReorderingDuplicationAndLoss(
            @ForAll @IntRange(min = 200, max = 1500) int count,
            @ForAll @IntRange(min = 1, max = 40) int reorderDistance,
            @ForAll @IntRange(min = 1, max = 150) int packetLimitAboveReordering,
            @ForAll boolean chacha, @ForAll long seed) {
        Random random = new Random(seed);
        // A receiver keeps one previous generation (as QUIC does): a packet may be overtaken by at
        // most one key update, so reordering must span fewer packets than a generation holds.
        int packetLimit = reorderDistance + packetLimitAboveReordering;
        NoiseSuite suite = chacha ? NoiseSuite.CHACHAPOLY : NoiseSuite.AESGCM;
        RekeyPolicy policy = new RekeyPolicy(Duration.ofMillis(500), packetLimit, Duration.ofSeconds(2));
        PacketProtector[] p = PacketProtectorTest.pair(suite, policy);
        PacketProtector sender = p[0];
        PacketProtector receiver = p[1];

        List<long[]> inFlight = new ArrayList<>(); // {packet number, index into sealed}
        List<ByteBuffer> sealed = new ArrayList<>();
        long now = 0;
        int delivered = 0;
        for (int pn = 0; pn < count; pn++) {
            now += random.nextInt(10) * MILLI;
            sealed.add(PacketProtectorTest.seal(sender, pn, now, "packet " + pn, false));
            // 5 % loss, but never the last packet: it carries the newest generation, which the final
            // assertion expects the receiver to have seen (a generation whose every packet was lost
            // is invisible to any receiver).
            if (random.nextInt(20) != 0 || pn == count - 1) {
                inFlight.add(new long[] {pn});
            }
            // The receiver acknowledges what it got a little later; that confirms key updates.
            final int sent = pn;
            while (!inFlight.isEmpty() && (sent - inFlight.get(0)[0] >= reorderDistance || random.nextBoolean())) {
                // The oldest packet in flight is delivered once it is reorderDistance packets old.
                int pick = sent - inFlight.get(0)[0] >= reorderDistance ? 0 : random.nextInt(inFlight.size());
                long[] next = inFlight.remove(pick);
                int n = (int) next[0];
                ByteBuffer packet = sealed.get(n);
                ByteBuffer copy = ByteBuffer.allocate(packet.limit()).put(packet.duplicate()).flip();
                assertEquals(OpenResult.OPENED, PacketProtectorTest.open(receiver, packet, n, now), "packet " + n);
                assertEquals("packet " + n, PacketProtectorTest.text(packet));
                delivered++;
                if (random.nextInt(10) == 0) {
                    assertEquals(OpenResult.DUPLICATE, PacketProtectorTest.open(receiver, copy, n, now));
                }
                sender.onAcknowledged(n);
            }
        }
        while (!inFlight.isEmpty()) {
            int n = (int) inFlight.remove(0)[0];
            assertEquals(OpenResult.OPENED, PacketProtectorTest.open(receiver, sealed.get(n), n, now));
            delivered++;
        }
        assertTrue(delivered > 0);
        assertTrue(sender.sendGeneration() >= 1,
                "rekeyed " + sender.sendGeneration() + " times for " + count + " packets at limit " + packetLimit);
        assertEquals(sender.sendGeneration(), receiver.receiveGeneration(), "the receiver followed every update");
    }
}
