package io.peerlink.core.internal.channel;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SentPacketTrackerTest {
    static final long MS = 1_000_000;

    final List<Long> acked = new ArrayList<>();
    final List<Long> lost = new ArrayList<>();
    final SentPacketTracker.Listener listener = new SentPacketTracker.Listener() {
        @Override
        public void onAcked(SentPacket packet) {
            acked.add(packet.packetNumber());
        }

        @Override
        public void onLost(SentPacket packet) {
            lost.add(packet.packetNumber());
        }
    };

    private static SentPacketTracker tracker() {
        return new SentPacketTracker(1200, 100 * MS, 25 * MS, 1 << 30);
    }

    private static void send(SentPacketTracker t, int count, long now) {
        for (int i = 0; i < count; i++) {
            t.commit(t.open(), now, 1200, true);
        }
    }

    private int ack(SentPacketTracker t, long now, long... rangesHighLow) throws FrameFormatException {
        int n = rangesHighLow.length / 2;
        long[] low = new long[n];
        long[] high = new long[n];
        for (int i = 0; i < n; i++) {
            high[i] = rangesHighLow[2 * i];
            low[i] = rangesHighLow[2 * i + 1];
        }
        return t.onAck(low, high, n, 0, now, listener);
    }

    @Test
    void packetThresholdDeclaresTheHoleLostAndRetiresEverything() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 10, 0);
        assertEquals(12_000, t.bytesInFlight());
        // 0..9 sent; 4 missing; 5..9 acknowledged: 4 is 5 below the largest -> lost.
        assertEquals(9, ack(t, 10 * MS, 9, 5, 3, 0));
        assertEquals(List.of(4L), lost);
        assertEquals(0, t.bytesInFlight());
        assertEquals(10, t.base(), "every packet retired");
        assertEquals(1, t.packetsLost());
        assertTrue(t.congestionWindow() < 12_000 + 9 * 1200, "a loss ends slow start growth");
    }

    @Test
    void recentHoleWaitsForTheTimeThresholdThenIsLost() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 3, 0);
        assertEquals(1, ack(t, 10 * MS, 2, 2));
        assertTrue(lost.isEmpty(), "packets 0 and 1 are within the packet threshold");
        long deadline = t.deadline();
        assertTrue(deadline > 10 * MS && deadline < Long.MAX_VALUE);
        assertFalse(t.onTimeout(deadline, listener), "a loss timer is not a probe timeout");
        assertEquals(List.of(0L, 1L), lost);
    }

    @Test
    void probeTimeoutBacksOffExponentially() {
        SentPacketTracker t = tracker();
        send(t, 1, 0);
        long first = t.deadline();
        assertEquals(t.ptoNanos(), first);
        assertTrue(t.onTimeout(first, listener));
        assertEquals(2 * t.ptoNanos(), t.deadline());
        assertTrue(t.onTimeout(t.deadline(), listener));
        assertEquals(4 * t.ptoNanos(), t.deadline());
    }

    @Test
    void rttFollowsSamplesAndDuplicateAcksCountOnce() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 1, 0);
        assertEquals(1, ack(t, 40 * MS, 0, 0));
        assertEquals(40 * MS, t.smoothedRtt());
        assertEquals(0, ack(t, 50 * MS, 0, 0), "acknowledging again changes nothing");
        assertEquals(List.of(0L), acked);
    }

    @Test
    void persistentCongestionCollapsesTheWindowToTheMinimum() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 1, 0);
        ack(t, 10 * MS, 0, 0);
        long pto = t.ptoNanos();
        // Packets 1..5 spread over more than 3 PTOs, all lost; packet 6 acknowledged.
        for (int i = 0; i < 5; i++) {
            send(t, 1, 10 * MS + i * pto);
        }
        send(t, 1, 10 * MS + 5 * pto);
        ack(t, 10 * MS + 5 * pto + MS, 6, 6);
        assertEquals(List.of(1L, 2L, 3L, 4L, 5L), lost);
        assertEquals(2 * 1200, t.congestionWindow());
    }

    @Test
    void ackOfAnUnsentPacketIsAFormatError() {
        SentPacketTracker t = tracker();
        send(t, 2, 0);
        assertThrows(FrameFormatException.class, () -> ack(t, MS, 5, 0));
    }

    @Test
    void ringGrowsBeyondItsInitialSizeAndKeepsOrder() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 1024, 0);
        assertEquals(1024, ack(t, MS, 1023, 0));
        assertEquals(1024, acked.size());
        assertEquals(1024, t.base());
        assertEquals(0, t.bytesInFlight());
    }
}
