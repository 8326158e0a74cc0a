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

    /** Drives the probe timeout through 40 consecutive expiries: it doubles until the cap, then stays there. */
    @Test
    void probeTimeoutBackoffIsCappedAndAnAckResetsIt() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 1, 0);
        long pto = t.ptoNanos();
        long now = 0;
        List<Long> intervals = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            long deadline = t.deadline();
            intervals.add(deadline - now);
            assertTrue(t.onTimeout(deadline, listener), "expiry " + i);
            now = deadline;
            send(t, 1, now); // the probe restarts the timer from its send time
        }
        for (int i = 0; i < intervals.size(); i++) {
            long expected = Math.min(pto << Math.min(i, 30), SentPacketTracker.MAX_PROBE_TIMEOUT_NANOS);
            assertEquals(expected, intervals.get(i), "interval after " + i + " expiries");
        }
        assertEquals(SentPacketTracker.MAX_PROBE_TIMEOUT_NANOS, intervals.get(39), "capped at 60 s");
        assertEquals(40, t.ptoCount());
        // The path is back: one acknowledgement and the next probe timeout is the PTO again.
        ack(t, now + 10 * MS, 40, 40);
        send(t, 1, now + 20 * MS);
        assertEquals(0, t.ptoCount());
        assertEquals(t.ptoNanos(), t.deadline() - (now + 20 * MS));
    }

    @Test
    void aLowerCapBindsButNeverShortensThePtoItself() {
        SentPacketTracker t = tracker();
        t.capProbeTimeout(20_000 * MS);
        send(t, 1, 0);
        for (int i = 0; i < 20; i++) {
            assertTrue(t.onTimeout(t.deadline(), listener));
        }
        assertEquals(20_000 * MS, t.probeTimeoutNanos(), "a third of a 60 s idle timeout");
        t.capProbeTimeout(Long.MAX_VALUE);
        assertEquals(SentPacketTracker.MAX_PROBE_TIMEOUT_NANOS, t.probeTimeoutNanos(), "never above 60 s");
        t.capProbeTimeout(1);
        assertEquals(t.ptoNanos(), t.probeTimeoutNanos(), "a cap below the PTO leaves the PTO, without backoff");
        assertThrows(IllegalArgumentException.class, () -> t.capProbeTimeout(0));
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

    @Test
    void aHostileAckDelaySaturatesInsteadOfOverflowing() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 3, 0);
        ack(t, 10 * MS, 0, 0);
        // 2^62 - 1 microseconds, decoded from a real ACK frame: ackDelay * 1000 would wrap.
        java.nio.ByteBuffer b = java.nio.ByteBuffer.allocate(64);
        FrameCodec.encodeAck(b, new long[] {1}, new long[] {1}, 1, Varint.MAX);
        b.flip();
        Frame f = new Frame();
        FrameCodec.decode(b, f);
        assertEquals(1, t.onAck(f, 20 * MS, listener));
        assertTrue(t.smoothedRtt() >= 10 * MS && t.smoothedRtt() <= 20 * MS, "smoothed RTT " + t.smoothedRtt());
        assertTrue(t.ptoNanos() > 0 && t.ptoNanos() < 1_000 * MS, "PTO " + t.ptoNanos());
        long deadline = t.deadline();
        assertTrue(deadline > 20 * MS && deadline < 2_000 * MS, "deadline " + deadline);
        assertTrue(t.onTimeout(deadline, listener), "the probe timeout still fires");
        assertEquals(Long.MAX_VALUE, RttEstimator.ackDelayNanos(Varint.MAX));
    }

    @Test
    void anAckCoveringASkippedPacketNumberIsRejectedBeforeAnythingIsApplied() throws FrameFormatException {
        SentPacketTracker t = new SentPacketTracker(1200, new RttEstimator(100 * MS, 25 * MS),
                NewRenoController.factory(1 << 30), new java.util.SplittableRandom(7));
        long skippedAt = -1;
        long expected = 0;
        for (int i = 0; i < 3 * SentPacketTracker.SKIP_MIN && skippedAt < 0; i++) {
            SentPacket p = t.open();
            if (p.packetNumber() != expected) {
                skippedAt = expected;
            }
            expected = p.packetNumber() + 1;
            t.commit(p, 0, 1200, true);
        }
        assertTrue(skippedAt >= SentPacketTracker.SKIP_MIN && skippedAt < 2 * SentPacketTracker.SKIP_MIN, "skipped " + skippedAt);
        long inFlight = t.bytesInFlight();
        long cwnd = t.congestionWindow();
        long top = t.nextPacketNumber() - 1;
        FrameFormatException e = assertThrows(FrameFormatException.class, () -> ack(t, MS, top, 0));
        assertTrue(e.getMessage().contains("skipped"), e.getMessage());
        assertEquals(inFlight, t.bytesInFlight());
        assertEquals(cwnd, t.congestionWindow());
        assertTrue(acked.isEmpty());
        // An honest ACK, around the gap, is fine.
        assertEquals(top + 1 - 1, ack(t, MS, top, skippedAt + 1, skippedAt - 1, 0));
    }

    @Test
    void aFixedWindowIgnoresLossAndDoesNotGrow() throws FrameFormatException {
        SentPacketTracker t = new SentPacketTracker(1200, new RttEstimator(100 * MS, 25 * MS),
                FixedWindowController.factory(64 * 1200), null);
        assertEquals(64 * 1200, t.congestionWindow());
        send(t, 10, 0);
        assertEquals(9, ack(t, 10 * MS, 9, 5, 3, 0));
        assertEquals(List.of(4L), lost);
        assertEquals(64 * 1200, t.congestionWindow(), "a loss does not shrink it");
        send(t, 100, 20 * MS);
        ack(t, 30 * MS, 109, 10);
        assertEquals(64 * 1200, t.congestionWindow(), "acknowledgements do not grow it");
    }

    @Test
    void aLateAckOfAPacketDeclaredLostIsReportedAsSpurious() throws FrameFormatException {
        SentPacketTracker t = tracker();
        List<Long> late = new ArrayList<>();
        SentPacketTracker.Listener l = new SentPacketTracker.Listener() {
            @Override
            public void onAcked(SentPacket packet) {
            }

            @Override
            public void onLost(SentPacket packet) {
                lost.add(packet.packetNumber());
            }

            @Override
            public void onAckedAfterLoss(SentPacket packet) {
                late.add(packet.packetNumber());
            }
        };
        for (int i = 0; i < 6; i++) {
            SentPacket p = t.open();
            p.addItem("fragment " + i);
            t.commit(p, 0, 1200, true);
        }
        long[] low = {2};
        long[] high = {5};
        t.onAck(low, high, 1, 0, 10 * MS, l);
        assertEquals(List.of(0L, 1L), lost);
        // The reordered packets 0 and 1 arrive after all.
        low[0] = 0;
        t.onAck(low, high, 1, 0, 11 * MS, l);
        assertEquals(List.of(0L, 1L), late);
        assertEquals(2, t.spuriousLosses());
    }

    // ---- a path switch (docs/protocol-paths.md, "Switching")

    @Test
    void packetsOfTheOldPathStayInFlightButGiveTheNewPathNoRttSample() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 10, 0);
        t.resetPath(1200);
        assertEquals(10, t.pathStart());
        assertEquals(12_000, t.bytesInFlight(), "a move does not double what is in flight");
        assertEquals(10, ack(t, 50 * MS, 9, 0));
        assertFalse(t.rtt().hasSample(), "an old-path round trip says nothing about the new path");
        assertEquals(0, t.bytesInFlight());
        send(t, 2, 60 * MS);
        assertEquals(2, ack(t, 70 * MS, 11, 10));
        assertTrue(t.rtt().hasSample(), "a new-path packet gives a sample");
        assertEquals(10 * MS, t.latestRtt());
    }

    @Test
    void oldPathPacketsAreNotDeclaredLostByNewPathAcknowledgements() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 1, 0);
        assertEquals(1, ack(t, 80 * MS, 0, 0)); // the old path: 80 ms
        send(t, 5, 80 * MS); // 1..5 on the old path
        t.resetPath(1200);
        t.seedRtt(10 * MS); // the new path: 10 ms
        send(t, 5, 81 * MS); // 6..10 on the new path
        // The faster new path's packets are acknowledged first: 1..5 are still on their way.
        assertEquals(5, ack(t, 92 * MS, 10, 6));
        assertEquals(List.of(), lost, "not lost by packet threshold");
        assertTrue(t.deadline() > 92 * MS + 50 * MS, "lost only by the old path's loss delay (9/8 x 80 ms)");
        assertEquals(5, ack(t, 160 * MS, 5, 1));
        assertEquals(List.of(), lost);
        assertEquals(11, t.base());
    }

    @Test
    void declaringTheOldPathLostRetransmitsWithoutACongestionSignal() throws FrameFormatException {
        SentPacketTracker t = tracker();
        send(t, 4, 0);
        t.resetPath(1200);
        send(t, 2, 1 * MS);
        long window = t.congestionWindow();
        assertEquals(4, t.declareLostBefore(t.pathStart(), listener));
        assertEquals(List.of(0L, 1L, 2L, 3L), lost);
        assertEquals(window, t.congestionWindow(), "a gone path is no congestion");
        assertEquals(2400, t.bytesInFlight(), "only the new path's packets are left in flight");
        assertEquals(2, t.ackElicitingInFlight());
        assertEquals(2, t.declareLostBefore(t.nextPacketNumber(), listener));
        assertEquals(0, t.bytesInFlight());
        assertEquals(0, t.ackElicitingInFlight());
        assertEquals(Long.MAX_VALUE, t.deadline(), "nothing left to time out");
        assertEquals(6, t.packetsLost());
    }
}
