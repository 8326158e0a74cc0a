package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.Delivery;
import io.peerlink.core.internal.loop.EventLoop;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The probe timeout's backoff cap, {@code min(60 s, idleTimeout / 3)}, in a running engine: two
 * engines over real UDP sockets on loopback; the peer stops hearing one of them, which then probes
 * with a doubling timeout until the cap, and from then on once per cap. (The peer keeps sending
 * unreliable datagrams, so the prober's idle timeout never ends the test; it acknowledges nothing
 * new.)
 * {@link SentPacketTrackerTest} covers the arithmetic; this covers the engine's wiring and timer.
 */
class ProbeTimeoutCapTest {
    private static final long MS = 1_000_000L;
    /** Capped expiries to watch. */
    private static final int CAPPED = 4;

    @Test
    void aProberWhosePeerHearsNothingBacksOffToAThirdOfTheIdleTimeoutAndStaysThere() throws Exception {
        ChannelOptions proberOptions = ChannelOptions.builder()
                .initialRtt(Duration.ofMillis(20))
                .maxAckDelay(Duration.ofMillis(5))
                .idleTimeout(Duration.ofMillis(1800))
                .keepaliveInterval(Duration.ofMillis(1200))
                .build();
        ChannelOptions peerOptions = ChannelOptions.builder()
                .initialRtt(Duration.ofMillis(20))
                .maxAckDelay(Duration.ofMillis(5))
                .build();
        long cap = proberOptions.idleTimeout().toNanos() / 3;
        AtomicBoolean unheard = new AtomicBoolean();
        // {send time, the prober's probe timeouts in a row then} of every datagram the peer did not hear
        List<long[]> sends = new CopyOnWriteArrayList<>();
        try (EventLoop loopA = new EventLoop("cap-prober"); EventLoop loopB = new EventLoop("cap-peer");
             DatagramChannel ca = DatagramChannel.open(); DatagramChannel cb = DatagramChannel.open()) {
            InetAddress lo = InetAddress.getLoopbackAddress();
            ca.bind(new InetSocketAddress(lo, 0));
            cb.bind(new InetSocketAddress(lo, 0));
            ChannelEngine[] ea = new ChannelEngine[1];
            ChannelEngine[] eb = new ChannelEngine[1];
            UdpLoopbackBulkTest.UdpPath toPeer = new UdpLoopbackBulkTest.UdpPath(ca, cb.getLocalAddress(), 0);
            DatagramPath proberPath = new DatagramPath() {
                @Override
                public boolean send(ByteBuffer datagram) {
                    if (!unheard.get()) {
                        return toPeer.send(datagram);
                    }
                    // On the prober's loop, inside its flush.
                    sends.add(new long[] {System.nanoTime(), ea[0].consecutivePtos()});
                    datagram.position(datagram.limit());
                    return true;
                }

                @Override
                public int maxDatagramSize() {
                    return toPeer.maxDatagramSize();
                }
            };
            ea[0] = new ChannelEngine(loopA, 1, 2, proberPath, proberOptions);
            eb[0] = new ChannelEngine(loopB, 2, 1, new UdpLoopbackBulkTest.UdpPath(cb, ca.getLocalAddress(), 0), peerOptions);
            ea[0].onMessage((m, d) -> { });
            eb[0].onMessage((m, d) -> { });
            UdpLoopbackBulkTest.receiver(ca, loopA, ea);
            UdpLoopbackBulkTest.receiver(cb, loopB, eb);
            ea[0].start();
            eb[0].start();
            ea[0].send(ByteBuffer.wrap(new byte[100])).toCompletableFuture().get(10, TimeUnit.SECONDS);

            unheard.set(true);
            ea[0].send(ByteBuffer.wrap(new byte[100]));
            // Watch the prober's backoff until it expired CAPPED times at the cap.
            List<long[]> states = new ArrayList<>(); // {probe timeouts in a row, backed-off timeout, PTO}
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            int firstCapped = -1;
            while (firstCapped < 0 || states.get(states.size() - 1)[0] < firstCapped + CAPPED + 1) {
                assertTrue(System.nanoTime() < until, "the prober did not expire " + CAPPED + " times at the cap of "
                        + cap / MS + " ms; probe timeout now " + (states.isEmpty() ? "?" : states.get(states.size() - 1)[1] / MS + " ms"));
                assertTrue(ea[0].isOpen(), "the prober closed (idle timeout?) while its peer still talked");
                // Unreliable: a message would earn the peer credit, and the prober's MAX_DATA for it
                // (ack-eliciting) would restart its probe timer between two probes.
                eb[0].send(ByteBuffer.wrap(new byte[10]), Delivery.UNRELIABLE);
                long[] s = ChannelPair.onLoop(loopA, () -> new long[] {ea[0].consecutivePtos(),
                        ea[0].tracker().probeTimeoutNanos(), ea[0].tracker().ptoNanos()});
                states.add(s);
                if (firstCapped < 0 && s[1] == cap) {
                    firstCapped = (int) s[0];
                }
                Thread.sleep(50);
            }

            // The scheduled timeout: growing with each expiry, never beyond the cap, and exactly
            // the cap from the first expiry where doubling passed it on.
            for (int i = 1; i < states.size(); i++) {
                assertTrue(states.get(i)[1] >= states.get(i - 1)[1], "the probe timeout shrank without an acknowledgement");
            }
            for (long[] s : states) {
                assertTrue(s[1] <= cap, "probe timeout " + s[1] / MS + " ms beyond the cap " + cap / MS + " ms at " + s[0] + " in a row");
                if (s[0] >= firstCapped) {
                    assertEquals(cap, s[1], "capped from " + firstCapped + " in a row on; at " + s[0]);
                }
            }
            assertTrue(firstCapped >= 1 && states.get(0)[2] << firstCapped >= cap,
                    "the cap is reached by doubling: PTO " + states.get(0)[2] / MS + " ms, capped at " + firstCapped + " in a row");

            // The probes themselves: the first datagram sent after each expiry. Once capped, each
            // at least half a cap after the previous one (not back to the shorter spacing before the
            // cap; the timer runs from the previous probe, and a late loop only stretches it), and
            // the capped ones together well within the uncapped backoff's time: that would be at
            // least 1 + 2 + 4 + 8 = 15 caps, these take 4, and a loaded machine's late timers get
            // another 4 caps plus 2 s. (A single spacing is not bounded from above: one late timer
            // on a loaded machine stretches it; the scheduled timeout above is exact.)
            List<Long> firstSend = new ArrayList<>();
            for (long[] s : sends) {
                while (firstSend.size() <= s[1]) {
                    firstSend.add(firstSend.size() == s[1] ? s[0] : -1L);
                }
            }
            for (int n = firstCapped; n <= firstCapped + CAPPED; n++) {
                assertTrue(firstSend.get(n) > 0, "probes sent at each expiry: " + firstSend);
            }
            for (int n = firstCapped + 1; n <= firstCapped + CAPPED; n++) {
                long gap = firstSend.get(n) - firstSend.get(n - 1);
                assertTrue(gap > cap / 2, "expiry " + n + " came " + gap / MS + " ms after the previous one; the cap is " + cap / MS + " ms");
            }
            long capped = firstSend.get(firstCapped + CAPPED) - firstSend.get(firstCapped);
            assertTrue(capped < 2 * CAPPED * cap + TimeUnit.SECONDS.toNanos(2),
                    CAPPED + " capped expiries took " + capped / MS + " ms; the cap is " + cap / MS + " ms");
            System.out.printf("cap %d ms, PTO %d ms, capped from %d in a row; probe spacing (ms):", cap / MS,
                    states.get(0)[2] / MS, firstCapped);
            for (int n = 1; n < firstSend.size(); n++) {
                if (firstSend.get(n) > 0 && firstSend.get(n - 1) > 0) {
                    System.out.printf(" %d", (firstSend.get(n) - firstSend.get(n - 1)) / MS);
                }
            }
            System.out.println();
            ea[0].abort();
            eb[0].abort();
        }
    }
}
