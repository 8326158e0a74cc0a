package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.core.internal.loop.EventLoop;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Each test performs an attack from docs/protocol-channel.md ("Limits and what a hostile peer
 * gets") against a live engine, shows that it fails, and that the engine — or, where the attack
 * costs the attacker its own link, the other links on the same loop — keeps working.
 */
class ChannelHardeningTest {
    static final ChannelOptions FAST = ChannelOptions.builder()
            .initialRtt(Duration.ofMillis(20))
            .maxAckDelay(Duration.ofMillis(5))
            .build();

    // Read reflectively: core's tests compile inside the module, which does not read java.management.
    private static final Object THREADS;
    private static final Method ALLOCATED;

    static {
        try {
            THREADS = Class.forName("java.lang.management.ManagementFactory").getMethod("getThreadMXBean").invoke(null);
            ALLOCATED = Class.forName("com.sun.management.ThreadMXBean").getMethod("getThreadAllocatedBytes", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private static long allocatedByThisThread() throws ReflectiveOperationException {
        return (long) ALLOCATED.invoke(THREADS, Thread.currentThread().getId());
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static CloseReason closeReason(ChannelEngine e) throws Exception {
        return e.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    /** Collects what the engine delivers. */
    private static List<byte[]> collect(ChannelEngine e) {
        List<byte[]> got = new CopyOnWriteArrayList<>();
        e.onMessage((m, d) -> {
            byte[] b = new byte[m.remaining()];
            m.get(b);
            got.add(b);
        });
        return got;
    }

    private static void await(List<?> list, int n) throws InterruptedException {
        long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (list.size() < n && System.nanoTime() < until) {
            Thread.sleep(2);
        }
        assertEquals(n, list.size());
    }

    // ---- memory: a header pins at most one chunk; a budget bounds the rest

    @Test
    void aFragmentAnnouncingSixteenMebibytesAllocatesOnlyWhatItCarries() throws Exception {
        ReceiveBudget budget = new ReceiveBudget(64L << 20);
        try (EventLoop loop = new EventLoop("pin")) {
            HostilePeer peer = new HostilePeer(loop, ChannelOptions.defaults(), budget);
            List<byte[]> got = collect(peer.engine);
            ByteBuffer packet = peer.packet(b -> FrameCodec.encodeData(b, true, 0, 16 << 20, 0, ByteBuffer.allocate(100), 0, 100));
            long allocated = ChannelPair.onLoop(loop, () -> {
                long before = allocatedByThisThread();
                peer.engine.onDatagram(packet);
                return allocatedByThisThread() - before;
            });
            assertTrue(peer.engine.isOpen());
            assertTrue(allocated < 64 << 10, "one 100-byte fragment of a 16 MiB message allocated " + allocated + " bytes");
            assertTrue(budget.used() <= InboundMessage.CHUNK + (16 << 10), "charged " + budget.used());
            // The engine keeps working: a real message (ordered) arrives whole.
            byte[] m = random(30_000, 1);
            peer.sendMessage(false, 0, m);
            await(got, 1);
            assertArrayEquals(m, got.get(0));
        }
    }

    @Test
    void exhaustingTheReceiveBudgetClosesOnlyTheOffendingLink() throws Exception {
        ReceiveBudget budget = new ReceiveBudget(1L << 20);
        try (EventLoop loop = new EventLoop("budget")) {
            HostilePeer attacker = new HostilePeer(loop, ChannelOptions.defaults(), budget);
            HostilePeer honest = new HostilePeer(loop, ChannelOptions.defaults(), budget);
            List<byte[]> honestGot = collect(honest.engine);
            // One byte into every 16 KiB chunk of a 16 MiB message: each pins a chunk.
            int packets = 0;
            for (int chunk = 0; chunk < 1024 && attacker.engine.isOpen(); chunk++) {
                int offset = chunk * InboundMessage.CHUNK;
                attacker.send(b -> FrameCodec.encodeData(b, false, 0, 16 << 20, offset, ByteBuffer.allocate(1), 0, 1));
                packets++;
            }
            CloseReason r = closeReason(attacker.engine);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code(), r.toString());
            assertTrue(r.message().contains("receive budget exhausted"), r.message());
            assertTrue(packets <= 70, "closed after " + packets + " packets for a 1 MiB budget");
            assertEquals(0, budget.used(), "the closed link returned everything it held");
            byte[] m = random(200_000, 2);
            honest.sendMessage(false, 0, m);
            await(honestGot, 1);
            assertArrayEquals(m, honestGot.get(0));
            assertTrue(honest.engine.isOpen());
        }
    }

    // ---- quadratic reassembly

    @Test
    void aMessageScatteredIntoTinyRangesIsCutOffAfterTheRangeCap() throws Exception {
        try (EventLoop loop = new EventLoop("scatter")) {
            HostilePeer attacker = new HostilePeer(loop, ChannelOptions.defaults(), new ReceiveBudget(64L << 20));
            HostilePeer honest = new HostilePeer(loop, ChannelOptions.defaults(), new ReceiveBudget(64L << 20));
            List<byte[]> honestGot = collect(honest.engine);
            // 1-byte fragments two bytes apart, highest offsets first (each lands before all
            // others: the worst case for a list kept in order), ~90 frames per packet.
            long started = System.nanoTime();
            int[] next = {(16 << 20) - 2};
            int packets = 0;
            while (attacker.engine.isOpen() && packets < 10_000) {
                attacker.send(b -> {
                    while (b.remaining() > 20) {
                        FrameCodec.encodeData(b, false, 0, 16 << 20, next[0], ByteBuffer.allocate(1), 0, 1);
                        next[0] -= 2;
                    }
                });
                packets++;
            }
            long millis = (System.nanoTime() - started) / 1_000_000;
            CloseReason r = closeReason(attacker.engine);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code(), r.toString());
            assertTrue(r.message().contains("more than " + InboundMessage.MAX_RANGES + " fragment ranges"), r.message());
            int ranges = ((16 << 20) - 2 - next[0]) / 2;
            assertTrue(ranges <= InboundMessage.MAX_RANGES + 200, ranges + " ranges before the cut");
            System.out.printf("scattered reassembly: closed after %d packets, %d ranges, %d ms%n", packets, ranges, millis);
            byte[] m = random(50_000, 3);
            honest.sendMessage(false, 0, m);
            await(honestGot, 1);
            assertArrayEquals(m, honestGot.get(0));
        }
    }

    @Test
    void rangeInsertionStaysCheapUpToTheCap() throws Exception {
        ReceiveBudget budget = new ReceiveBudget(64L << 20);
        InboundMessage m = new InboundMessage(0, 16 << 20, 0, budget);
        ByteBuffer one = ByteBuffer.allocate(1);
        // Worst order for an ordered array: every insertion at the front.
        for (int i = InboundMessage.MAX_RANGES - 1; i >= 0; i--) {
            assertTrue(m.add(one, 0, 4 * i + 1, 1));
        }
        assertEquals(InboundMessage.MAX_RANGES, m.rangeCount());
        // Filling the gaps merges ranges; overlapping and duplicate fragments change nothing.
        assertFalse(m.add(one, 0, 1, 1));
        assertTrue(m.add(ByteBuffer.allocate(3), 0, 2, 3));
        assertEquals(InboundMessage.MAX_RANGES - 1, m.rangeCount());
        m.release();
        assertEquals(0, budget.used());
    }

    // ---- ACK arithmetic and optimistic ACKs

    @Test
    void aHugeAckDelayNeitherOverflowsTheRttNorStopsLossRecovery() throws Exception {
        try (EventLoop loop = new EventLoop("ack-delay")) {
            HostilePeer peer = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20));
            peer.engine.send(ByteBuffer.wrap(random(8000, 4)));
            // Wait for the engine's first packets (MAX_DATA and DATA).
            assertNotNull(peer.sent.poll(5, TimeUnit.SECONDS));
            Thread.sleep(5);
            List<Long> pns = peer.drain((pn, f) -> { });
            assertTrue(pns.size() >= 2, "packets sent: " + pns);
            long first = pns.get(0);
            // A first sample with no delay, then the hostile one: 2^62 - 1 microseconds.
            peer.send(b -> HostilePeer.ack(b, 0, first, first));
            peer.send(b -> HostilePeer.ack(b, Varint.MAX, first + 1, first + 1));
            long[] state = ChannelPair.onLoop(loop, () -> new long[] {peer.engine.tracker().smoothedRtt(),
                    peer.engine.tracker().ptoNanos(), peer.engine.tracker().deadline() - loop.nanoTime()});
            assertTrue(peer.engine.isOpen());
            assertTrue(state[0] > 0 && state[0] < 1_000_000_000L, "smoothed RTT " + state[0]);
            assertTrue(state[1] > 0 && state[1] < 2_000_000_000L, "PTO " + state[1]);
            assertTrue(state[2] < 5_000_000_000L, "loss-recovery deadline in " + state[2] + " ns");
            // Loss recovery keeps working: with nothing else acknowledged the engine probes, and
            // once a later packet is acknowledged the missing ones are declared lost and resent.
            peer.drain((pn, f) -> { });
            byte[] probe = peer.awaitSent(5_000);
            assertNotNull(probe, "the probe timeout still fires");
            long largest = ChannelPair.onLoop(loop, () -> peer.engine.tracker().nextPacketNumber() - 1);
            peer.send(b -> HostilePeer.ack(b, 0, largest, largest, first + 1, first));
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (peer.engine.stats().retransmittedBytes() == 0 && System.nanoTime() < until) {
                Thread.sleep(2);
            }
            assertTrue(peer.engine.stats().retransmittedBytes() > 0, "lost data is retransmitted: " + peer.engine.stats());
            assertTrue(peer.engine.isOpen());
        }
    }

    @Test
    void anAckOfAPacketNeverSentClosesTheLinkWithoutGrowingTheWindow() throws Exception {
        try (EventLoop loop = new EventLoop("optimistic")) {
            HostilePeer peer = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20));
            peer.engine.send(ByteBuffer.wrap(random(100_000, 5)));
            assertNotNull(peer.sent.poll(5, TimeUnit.SECONDS));
            long[] before = ChannelPair.onLoop(loop, () -> new long[] {peer.engine.tracker().congestionWindow(),
                    peer.engine.tracker().nextPacketNumber()});
            // Everything sent so far, and 1,000 packets more.
            peer.send(b -> HostilePeer.ack(b, 0, before[1] + 1000, 0));
            CloseReason r = closeReason(peer.engine);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code(), r.toString());
            assertTrue(r.message().contains("never sent"), r.message());
            assertEquals(before[0], peer.engine.stats().congestionWindow(), "the window did not grow");
        }
    }

    @Test
    void acknowledgingPacketsNotYetReceivedIsCaughtByASkippedPacketNumber() throws Exception {
        try (EventLoop loop = new EventLoop("skip")) {
            HostilePeer peer = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20));
            byte[] payload = random(1 << 20, 6);
            peer.send(b -> FrameCodec.encodeMaxData(b, 1L << 30));
            peer.engine.send(ByteBuffer.wrap(payload));
            peer.engine.send(ByteBuffer.wrap(payload));
            peer.engine.send(ByteBuffer.wrap(payload));
            // Acknowledge honestly (exactly the packets seen) until a packet number is missing.
            AckTracker honest = new AckTracker(1, 0);
            long highest = -1;
            long gapAt = -1;
            long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (gapAt < 0 && peer.engine.isOpen() && System.nanoTime() < until) {
                if (peer.sent.isEmpty()) {
                    Thread.sleep(1);
                    continue;
                }
                for (long pn : peer.drain((pn, f) -> { })) {
                    if (highest >= 0 && pn > highest + 1) {
                        gapAt = highest + 1;
                    }
                    highest = Math.max(highest, pn);
                    honest.record(pn, 0);
                    honest.onAckEliciting(0);
                }
                peer.send(b -> honest.writeAck(b, 0));
            }
            assertTrue(gapAt > 0, "a packet number was skipped within " + highest + " packets");
            long cwnd = ChannelPair.onLoop(loop, () -> peer.engine.tracker().congestionWindow());
            long top = highest;
            // The optimistic peer acknowledges everything up to the newest packet it saw.
            peer.send(b -> HostilePeer.ack(b, 0, top, 0));
            CloseReason r = closeReason(peer.engine);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code(), r.toString());
            assertTrue(r.message().contains("skipped"), r.message());
            assertEquals(cwnd, peer.engine.stats().congestionWindow(), "the optimistic ACK did not grow the window");
        }
    }

    // ---- a task that throws fails its link loudly, and only its link

    @Test
    void anErrorInTheEnginesOwnWorkFailsThatLinkWithTheErrorAsReason() throws Exception {
        try (EventLoop loop = new EventLoop("errors")) {
            // The victim's packet protection runs out of memory on the third packet it opens.
            AtomicLong opened = new AtomicLong();
            Crc32cSealer crc = new Crc32cSealer();
            PacketSealer exploding = new PacketSealer() {
                @Override
                public int tagLength() {
                    return crc.tagLength();
                }

                @Override
                public void seal(ByteBuffer packet, int start, int headerLength, long packetNumber) {
                    crc.seal(packet, start, headerLength, packetNumber);
                }

                @Override
                public boolean open(ByteBuffer datagram, int start, int headerLength, long packetNumber, int keyPhase, long now) {
                    if (opened.incrementAndGet() == 3) {
                        throw new OutOfMemoryError("simulated by the test");
                    }
                    return crc.open(datagram, start, headerLength, packetNumber, keyPhase, now);
                }
            };
            HostilePeer victim = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20), exploding);
            HostilePeer other = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20));
            List<byte[]> otherGot = collect(other.engine);
            for (int i = 0; i < 3; i++) {
                victim.send(FrameCodec::encodePing);
            }
            CloseReason r = closeReason(victim.engine);
            assertEquals(CloseReason.ABORTED, r.code(), r.toString());
            assertTrue(r.message().contains("OutOfMemoryError") && r.message().contains("simulated by the test"), r.message());
            // The CLOSE went to the peer, the loop lives on, the other link on it works.
            boolean[] closeSent = {false};
            victim.drain((pn, f) -> closeSent[0] |= f.type() == Frame.TYPE_CLOSE);
            assertTrue(closeSent[0], "the peer is told");
            byte[] m = random(5000, 8);
            other.sendMessage(false, 0, m);
            await(otherGot, 1);
            assertArrayEquals(m, otherGot.get(0));
            assertTrue(other.engine.isOpen());
        }
    }

    @Test
    void aHandlerThatThrowsDoesNotStopTheLinkOrItsNextMessages() throws Exception {
        try (EventLoop loop = new EventLoop("handler-error")) {
            HostilePeer peer = new HostilePeer(loop, FAST, new ReceiveBudget(64L << 20));
            List<byte[]> got = new CopyOnWriteArrayList<>();
            peer.engine.onMessage((m, d) -> {
                byte[] b = new byte[m.remaining()];
                m.get(b);
                got.add(b);
                if (got.size() == 1) {
                    // Runs on the link's callback executor: logged there, the next message comes.
                    throw new StackOverflowError("simulated by the test");
                }
            });
            byte[] first = random(3000, 12);
            byte[] second = random(4000, 13);
            peer.sendMessage(false, 0, first);
            peer.sendMessage(false, 1, second);
            await(got, 2);
            assertArrayEquals(second, got.get(1));
            assertTrue(peer.engine.isOpen());
        }
    }

    @Test
    void anErrorThrownByThePathFailsThatLinkAndNotTheLoop() throws Exception {
        try (EventLoop loop = new EventLoop("path-error")) {
            AtomicLong sends = new AtomicLong();
            DatagramPath broken = new DatagramPath() {
                @Override
                public boolean send(ByteBuffer datagram) {
                    if (sends.incrementAndGet() > 3) {
                        throw new StackOverflowError("path exploded");
                    }
                    datagram.position(datagram.limit());
                    return true;
                }

                @Override
                public int maxDatagramSize() {
                    return 1200;
                }
            };
            ChannelEngine e = new ChannelEngine(loop, 5, 6, broken, FAST);
            e.start();
            e.send(ByteBuffer.wrap(random(50_000, 9)));
            CloseReason r = closeReason(e);
            assertEquals(CloseReason.ABORTED, r.code(), r.toString());
            assertTrue(r.message().contains("StackOverflowError"), r.message());
            assertEquals("alive", ChannelPair.onLoop(loop, () -> "alive"));
            assertFalse(e.isOpen());
        }
    }

    // ---- issue 12: no retransmission of data that was only waiting for a late ACK

    @Test
    void acknowledgementsSlowerThanTheProbeTimeoutCauseNoRetransmission() throws Exception {
        // Lossless both ways, but every ACK takes 150 ms: far beyond the first PTO (~65 ms from
        // the 20 ms initial RTT), so probes go out while the data is only waiting for its ACK.
        try (ChannelPair p = new ChannelPair(FAST, io.peerlink.testkit.Impairment.NONE,
                io.peerlink.testkit.Impairment.NONE.withDelay(Duration.ofMillis(150)), 21)) {
            byte[] m = random(200_000, 10);
            p.a.send(ByteBuffer.wrap(m)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 1);
            assertArrayEquals(m, p.receivedByB.get(0));
            io.peerlink.ChannelStats s = ChannelPair.onLoop(p.loopA, p.a::stats);
            long probes = ChannelPair.onLoop(p.loopA, p.a::probeTimeouts);
            assertTrue(probes > 0, "the ACK delay outlasted the probe timeout at least once");
            assertEquals(0, s.retransmittedBytes(), "nothing was lost, so nothing is resent: " + s);
            assertEquals(0, s.packetsLost(), s.toString());
            assertEquals(0, s.spuriousRetransmittedBytes(), s.toString());
        }
    }
}
