package io.peerlink.core.internal.channel;

import io.peerlink.ChannelClosedException;
import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.Delivery;
import io.peerlink.SendBufferFullException;
import io.peerlink.testkit.Impairment;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ChannelLifecycleTest {
    static final ChannelOptions FAST = ChannelOptions.builder()
            .initialRtt(Duration.ofMillis(20))
            .maxAckDelay(Duration.ofMillis(5))
            .build();

    private static Throwable failureOf(CompletionStage<?> stage) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    private static byte[] random(int size, long seed) {
        byte[] b = new byte[size];
        new Random(seed).nextBytes(b);
        return b;
    }

    @Test
    void gracefulCloseDeliversEverythingThenBothSidesSeeNormal() throws Exception {
        Impairment loss = Impairment.NONE.withLoss(0.1);
        try (ChannelPair p = new ChannelPair(FAST, loss, loss, 3)) {
            List<byte[]> sent = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                byte[] m = random(i * 5000, i);
                sent.add(m);
                p.a.send(ByteBuffer.wrap(m));
            }
            CloseReason local = p.a.close().toCompletableFuture().get(30, TimeUnit.SECONDS);
            CloseReason remote = p.b.closed().toCompletableFuture().get(30, TimeUnit.SECONDS);
            assertEquals(CloseReason.NORMAL, local.code(), local.toString());
            assertFalse(local.byPeer());
            assertEquals(CloseReason.NORMAL, remote.code(), remote.toString());
            assertTrue(remote.byPeer());
            assertEquals(sent.size(), p.receivedByB.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i));
            }
        }
    }

    @Test
    void sendsAfterCloseFailWithChannelClosed() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE, Impairment.NONE, 4)) {
            p.a.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertFalse(p.a.isOpen());
            Throwable t = failureOf(p.a.send(ByteBuffer.allocate(10)));
            assertInstanceOf(ChannelClosedException.class, t);
            assertEquals(CloseReason.NORMAL, ((ChannelClosedException) t).reason().code());
            assertInstanceOf(ChannelClosedException.class, failureOf(p.b.send(ByteBuffer.allocate(10))));
        }
    }

    @Test
    void abortFailsPendingSendsAndTellsThePeer() throws Exception {
        // Everything from a to b is lost, so nothing a sends is ever acknowledged.
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE.withLoss(1.0), Impairment.NONE, 5)) {
            CompletionStage<Void> pending = p.a.send(ByteBuffer.wrap(random(50_000, 1)));
            p.transportA.outbound(Impairment.NONE);
            p.a.abort();
            Throwable t = failureOf(pending);
            assertInstanceOf(ChannelClosedException.class, t);
            assertEquals(CloseReason.ABORTED, ((ChannelClosedException) t).reason().code());
            CloseReason remote = p.b.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(CloseReason.ABORTED, remote.code());
            assertTrue(remote.byPeer());
        }
    }

    @Test
    void idleTimeoutClosesWhenThePeerFallsSilent() throws Exception {
        ChannelOptions idle = FAST.toBuilder().keepaliveInterval(Duration.ofMillis(100)).idleTimeout(Duration.ofMillis(1_500)).build();
        try (ChannelPair p = new ChannelPair(idle, Impairment.NONE, Impairment.NONE, 6)) {
            // Keepalives hold the channel up well past the idle timeout (15 keepalives per timeout: a
            // scheduling stall on a loaded 2-core CI machine must not look like a silent peer) ...
            Thread.sleep(3_000);
            assertTrue(p.a.isOpen() && p.b.isOpen(), "keepalive keeps an idle but healthy channel open");
            // ... until b goes silent.
            p.transportB.outbound(Impairment.NONE.withLoss(1.0));
            CloseReason r = p.a.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(CloseReason.IDLE_TIMEOUT, r.code());
            assertFalse(r.byPeer());
        }
    }

    @Test
    void fullSendBufferRefusesAndWhenWritableCompletesLater() throws Exception {
        ChannelOptions small = FAST.toBuilder().maxMessageSize(10_000).receiveWindow(100_000).sendBufferSize(30_000).build();
        try (ChannelPair p = new ChannelPair(small, Impairment.NONE.withLoss(1.0), Impairment.NONE, 7)) {
            List<CompletionStage<Void>> accepted = new ArrayList<>();
            Throwable refused = null;
            for (int i = 0; i < 10 && refused == null; i++) {
                CompletionStage<Void> s = p.a.send(ByteBuffer.wrap(random(10_000, i)));
                CompletableFuture<Void> f = s.toCompletableFuture();
                if (f.isCompletedExceptionally()) {
                    refused = failureOf(f);
                } else {
                    accepted.add(s);
                }
            }
            assertInstanceOf(SendBufferFullException.class, refused);
            assertEquals(2, accepted.size(), "30000-byte buffer holds two 10000-byte messages plus overhead");
            CompletableFuture<Void> writable = p.a.whenWritable().toCompletableFuture();
            assertFalse(writable.isDone());
            p.transportA.outbound(Impairment.NONE);
            writable.get(10, TimeUnit.SECONDS);
            for (CompletionStage<Void> s : accepted) {
                s.toCompletableFuture().get(10, TimeUnit.SECONDS);
            }
            CompletableFuture<Void> more = p.a.send(ByteBuffer.wrap(random(10_000, 99))).toCompletableFuture();
            try {
                more.get(10, TimeUnit.SECONDS);
            } catch (java.util.concurrent.TimeoutException e) {
                throw new AssertionError("stuck: " + ChannelPair.onLoop(p.loopA, p.a::debugState) + " / "
                        + ChannelPair.onLoop(p.loopB, p.b::debugState) + " out " + p.transportA.outboundCounters(), e);
            }
        }
    }

    @Test
    void flowControlBoundsReceiverBufferingWhileNoHandlerConsumes() throws Exception {
        ChannelOptions opts = FAST.toBuilder().maxMessageSize(20_000).receiveWindow(200_000).build();
        long window = Math.max(opts.receiveWindow(), opts.maxMessageSize() + ChannelEngine.MESSAGE_OVERHEAD + 8192);
        try (ChannelPair p = new ChannelPair(opts, Impairment.NONE, Impairment.NONE, 9, false)) {
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < 60; i++) {
                byte[] m = random(20_000, i);
                sent.add(m);
                futures.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            // Sample b's buffered bytes while a pushes against the credit limit.
            long maxSeen = 0;
            for (int i = 0; i < 50; i++) {
                maxSeen = Math.max(maxSeen, ChannelPair.onLoop(p.loopB, p.b::bufferedReceiveBytes));
                Thread.sleep(5);
            }
            assertTrue(maxSeen > 0, "b buffers while no handler is set");
            assertTrue(maxSeen <= window, "buffered " + maxSeen + " exceeds window " + window);
            assertFalse(futures.get(futures.size() - 1).isDone(), "sender is held back by credit");
            p.setReceiver();
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, sent.size());
            assertEquals(sent.size(), p.receivedByB.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i));
            }
        }
    }

    @Test
    void flowControlBoundsReceiverBufferingWithASlowHandler() throws Exception {
        ChannelOptions opts = FAST.toBuilder().maxMessageSize(20_000).receiveWindow(100_000).build();
        long window = Math.max(opts.receiveWindow(), opts.maxMessageSize() + ChannelEngine.MESSAGE_OVERHEAD + 8192);
        try (ChannelPair p = new ChannelPair(opts, Impairment.NONE, Impairment.NONE, 15, false)) {
            AtomicLong maxBuffered = new AtomicLong();
            List<byte[]> got = new java.util.concurrent.CopyOnWriteArrayList<>();
            p.b.onMessage((m, d) -> {
                // Runs on b's loop: sample what b holds while this handler dawdles.
                maxBuffered.accumulateAndGet(p.b.bufferedReceiveBytes(), Math::max);
                byte[] bytes = new byte[m.remaining()];
                m.get(bytes);
                got.add(bytes);
                try {
                    Thread.sleep(2);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            });
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                byte[] m = random(20_000, i);
                sent.add(m);
                futures.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (got.size() < sent.size() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertEquals(sent.size(), got.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), got.get(i));
            }
            assertTrue(maxBuffered.get() > 20_000, "the slow handler let messages pile up: " + maxBuffered.get());
            assertTrue(maxBuffered.get() <= window, "buffered " + maxBuffered.get() + " exceeds window " + window);
        }
    }

    @Test
    void migrationMidTransferLosesAndDuplicatesNothing() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE.withLoss(0.05), Impairment.NONE.withLoss(0.05), 10)) {
            // A second transport for a, with a smaller MTU: fragments in flight must be re-cut.
            io.peerlink.testkit.InMemoryTransport second = p.network.newTransport(700);
            AtomicLong arrived = new AtomicLong();
            second.start((src, d) -> {
                byte[] copy = new byte[d.remaining()];
                d.get(copy);
                arrived.incrementAndGet();
                p.loopA.execute(() -> p.a.onDatagram(ByteBuffer.wrap(copy)));
            });
            List<byte[]> sent = new ArrayList<>();
            List<CompletableFuture<Void>> futures = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                byte[] m = random(40_000 + i, i);
                sent.add(m);
                futures.add(p.a.send(ByteBuffer.wrap(m)).toCompletableFuture());
            }
            // Migrate once the transfer is under way (a fixed sleep stopped being "mid-transfer"
            // when the channel got faster under loss): the first message was acknowledged, 99 are
            // left. (Not "the first message was handled": the handler runs on a callback thread,
            // which a loaded machine may schedule after the whole transfer.)
            futures.get(0).get(30, TimeUnit.SECONDS);
            ChannelPair.onLoop(p.loopA, () -> {
                p.a.setPath(new TransportPath(second, p.transportB.localEndpoint()));
                return null;
            });
            // b answers on the new path too (NAT rebinding seen from b's side).
            ChannelPair.onLoop(p.loopB, () -> {
                p.b.setPath(new TransportPath(p.transportB, second.localEndpoint()));
                return null;
            });
            // One more after the switch, so the new path carries traffic however fast the rest went.
            byte[] last = random(10_000, 1000);
            sent.add(last);
            futures.add(p.a.send(ByteBuffer.wrap(last)).toCompletableFuture());
            CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(60, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, sent.size());
            assertEquals(sent.size(), p.receivedByB.size());
            for (int i = 0; i < sent.size(); i++) {
                assertArrayEquals(sent.get(i), p.receivedByB.get(i), "message " + i);
            }
            assertTrue(arrived.get() > 0, "the new path carried traffic");
            second.destroy();
        }
    }

    @Test
    void pingMeasuresRoundTrip() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE.withDelay(Duration.ofMillis(30)), Impairment.NONE, 11)) {
            Duration rtt = p.a.ping().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertTrue(rtt.toMillis() >= 30, "rtt " + rtt + " includes the 30 ms one-way delay");
        }
    }

    @Test
    void unreliableDatagramsArriveWithoutRetransmission() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE, Impairment.NONE, 12)) {
            byte[] m = random(p.a.maxUnreliableSize(), 1);
            p.a.send(ByteBuffer.wrap(m), Delivery.UNRELIABLE).toCompletableFuture().get(10, TimeUnit.SECONDS);
            ChannelDeliveryPropertiesTest.awaitReceived(p, 1);
            assertArrayEquals(m, p.receivedByB.get(0));
            assertEquals(Delivery.UNRELIABLE, p.deliveriesAtB.get(0));
            assertThrows(IllegalArgumentException.class,
                    () -> p.a.send(ByteBuffer.allocate(p.a.maxUnreliableSize() + 1), Delivery.UNRELIABLE));
        }
    }

    @Test
    void peerExceedingGrantedCreditIsClosedWithProtocolViolation() throws Exception {
        ChannelOptions opts = FAST.toBuilder().maxMessageSize(1000).receiveWindow(1000).build();
        // b's acknowledgements never reach a, which would rightly object to ACKs of packets it never sent.
        try (ChannelPair p = new ChannelPair(opts, Impairment.NONE, Impairment.NONE.withLoss(1.0), 13, false)) {
            // Forge packets from a: many unordered 1000-byte messages, never consumed by b (no handler).
            PacketCodec codec = new PacketCodec();
            for (int i = 0; i < 200 && p.b.isOpen(); i++) {
                ByteBuffer pkt = ByteBuffer.allocate(1200);
                codec.writeHeader(pkt, 2, 1000 + i);
                FrameCodec.encodeData(pkt, true, i, 1000, 0, ByteBuffer.allocate(1000), 0, 1000);
                codec.seal(pkt, 0);
                pkt.flip();
                ChannelPair.onLoop(p.loopB, () -> {
                    p.b.onDatagram(pkt);
                    return null;
                });
            }
            CloseReason r = p.b.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code(), r.toString());
            assertTrue(r.message().contains("flow control"), r.message());
        }
    }

    @Test
    void messageLongerThanMaxMessageSizeIsAProtocolViolation() throws Exception {
        ChannelOptions opts = FAST.toBuilder().maxMessageSize(1000).receiveWindow(1000).build();
        try (ChannelPair p = new ChannelPair(opts, Impairment.NONE, Impairment.NONE.withLoss(1.0), 14)) {
            PacketCodec codec = new PacketCodec();
            ByteBuffer pkt = ByteBuffer.allocate(1200);
            codec.writeHeader(pkt, 2, 5000);
            FrameCodec.encodeData(pkt, false, 0, 1001, 0, ByteBuffer.allocate(10), 0, 10);
            codec.seal(pkt, 0);
            pkt.flip();
            ChannelPair.onLoop(p.loopB, () -> {
                p.b.onDatagram(pkt);
                return null;
            });
            CloseReason r = p.b.closed().toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertEquals(CloseReason.PROTOCOL_VIOLATION, r.code());
            assertThrows(IllegalArgumentException.class, () -> p.a.send(ByteBuffer.allocate(1001)));
        }
    }

    @Test
    void aReliablePathGetsAFixedWindowAndAnUnreliableOneNewReno() throws Exception {
        try (io.peerlink.core.internal.loop.EventLoop loop = new io.peerlink.core.internal.loop.EventLoop("cc")) {
            DatagramPath relay = new FrameCodecPropertiesTest.DiscardPath() {
                @Override
                public boolean reliable() {
                    return true;
                }
            };
            ChannelEngine e = new ChannelEngine(loop, 1, 2, relay, FAST);
            e.start();
            assertInstanceOf(FixedWindowController.class, ChannelPair.onLoop(loop, () -> e.tracker().congestionController()));
            assertEquals(FixedWindowController.DEFAULT_WINDOW, e.stats().congestionWindow());
            ChannelPair.onLoop(loop, () -> {
                e.setPath(new FrameCodecPropertiesTest.DiscardPath());
                return null;
            });
            assertInstanceOf(NewRenoController.class, ChannelPair.onLoop(loop, () -> e.tracker().congestionController()));
            e.abort();
        }
    }

    /**
     * A message counts as delivered once it is handed to the handler: whoever the handler tells
     * (as the bulk test's completion future) sees it in the stats at once, and a message the
     * handler got stays counted when the channel closes before the handler returns. (Counted only
     * when the handler had returned and the loop heard of it, the stats lagged the handler and lost
     * the message for good if the channel closed in between.)
     */
    @Test
    void aMessageCountsAsDeliveredWhenHandedToTheHandlerEvenIfTheChannelClosesBeforeItReturns() throws Exception {
        try (ChannelPair p = new ChannelPair(FAST, Impairment.NONE, Impairment.NONE, 21, false)) {
            java.util.concurrent.CountDownLatch entered = new java.util.concurrent.CountDownLatch(1);
            java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
            CompletableFuture<Void> returned = new CompletableFuture<>();
            p.b.onMessage((m, d) -> {
                entered.countDown();
                try {
                    release.await(10, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                } finally {
                    returned.complete(null);
                }
            });
            p.a.send(ByteBuffer.wrap(random(3000, 21)));
            assertTrue(entered.await(10, TimeUnit.SECONDS), "the handler got the message");

            assertEquals(3000, ChannelPair.onLoop(p.loopB, p.b::stats).payloadBytesDelivered(), "while the handler runs");
            p.b.abort();
            // closed() would wait for the handler; the loop's own view does not.
            p.b.closedOnLoop().toCompletableFuture().get(10, TimeUnit.SECONDS);
            release.countDown();
            returned.get(10, TimeUnit.SECONDS);
            assertEquals(3000, ChannelPair.onLoop(p.loopB, p.b::stats).payloadBytesDelivered(), "after a close before the handler returned");
        }
    }
}
