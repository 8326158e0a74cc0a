package io.peerlink.core.internal.device;

import io.peerlink.ChannelClosedException;
import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.core.internal.loop.BlockingOperationException;
import io.peerlink.core.internal.loop.EventLoop;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The threading model (docs/architecture.md, "Threading"), on real devices linked over loopback:
 * application code never runs on the event loop, a blocked callback stalls only its own link,
 * a callback may wait for a stage, waiting on the loop fails fast, and an Error on the loop fails
 * the device loudly with its links closed for that reason while other devices keep working.
 */
class ThreadingModelTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private static final long WAIT = 10;
    private final List<Device> devices = new ArrayList<>();

    private Device device(Executor callbacks) {
        Device.Builder b = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(3));
        if (callbacks != null) {
            b.callbackExecutor(callbacks);
        }
        Device d = b.build();
        devices.add(d);
        return d;
    }

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    private static ByteBuffer text(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8));
    }

    private static String text(ByteBuffer b) {
        return StandardCharsets.UTF_8.decode(b.duplicate()).toString();
    }

    private static PeerLink link(Device from, Device to) throws Exception {
        return from.connect(to.localEndpoints().get(0)).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
    }

    @Test
    void applicationCodeNeverRunsOnTheEventLoop() throws Exception {
        Device a = device(null);
        Device b = device(null);
        Set<String> threads = ConcurrentHashMap.newKeySet();
        List<Boolean> onLoop = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch got = new CountDownLatch(1);
        b.onIncoming(req -> {
            threads.add(Thread.currentThread().getName());
            onLoop.add(EventLoop.onAnyLoop());
            req.accept().thenAccept(link -> {
                onLoop.add(EventLoop.onAnyLoop());
                link.channel().onMessage((m, d) -> {
                    threads.add(Thread.currentThread().getName());
                    onLoop.add(EventLoop.onAnyLoop());
                    got.countDown();
                });
            });
        });
        PeerLink link = link(a, b);
        CountDownLatch closedSeen = new CountDownLatch(1);
        link.addListener(e -> {
            onLoop.add(EventLoop.onAnyLoop());
            if (e instanceof LinkEvent.Closed) {
                closedSeen.countDown();
            }
        });
        // Non-async dependents run wherever the stage completes: that must not be the loop.
        // (If the stage is already complete, thenRun runs on this thread, as CompletableFuture does.)
        link.channel().send(text("hi")).thenRun(() -> {
            onLoop.add(EventLoop.onAnyLoop());
        }).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        assertTrue(got.await(WAIT, TimeUnit.SECONDS));
        link.close();
        assertTrue(closedSeen.await(WAIT, TimeUnit.SECONDS));
        assertFalse(onLoop.isEmpty());
        assertFalse(onLoop.contains(true), "application code ran on an event loop");
        for (String t : threads) {
            assertTrue(t.startsWith("peerlink-callback-"), "callback on thread " + t);
        }
    }

    /**
     * One link's message handler blocks; the device's other link keeps exchanging messages, and
     * the blocked link itself still answers pings (its loop runs).
     */
    @Test
    void aBlockedMessageHandlerStallsNeitherTheLoopNorOtherLinks() throws Exception {
        Device server = device(null);
        Device c1 = device(null);
        Device c2 = device(null);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch blocked = new CountDownLatch(1);
        LinkedBlockingQueue<String> fromC2 = new LinkedBlockingQueue<>();
        server.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, d) -> {
            if (text(m).equals("block")) {
                blocked.countDown();
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            } else {
                fromC2.add(text(m));
            }
        })));
        PeerLink l1 = link(c1, server);
        PeerLink l2 = link(c2, server);
        l1.channel().send(text("block"));
        assertTrue(blocked.await(WAIT, TimeUnit.SECONDS));
        for (int i = 0; i < 20; i++) {
            l2.channel().send(text("m" + i)).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        }
        for (int i = 0; i < 20; i++) {
            assertEquals("m" + i, fromC2.poll(WAIT, TimeUnit.SECONDS));
        }
        l1.ping().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        l1.channel().send(text("after")).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        release.countDown();
    }

    /**
     * What froze a device before: waiting for a send and closing the link from inside onMessage.
     * Both work; the close is graceful (NORMAL), not an abort after a timeout.
     */
    @Test
    void aCallbackMayWaitForAStageAndCloseItsLink() throws Exception {
        Device server = device(null);
        Device client = device(null);
        CompletableFuture<String> replied = new CompletableFuture<>();
        server.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, d) -> {
            try {
                link.channel().send(text("re: " + text(m))).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
                link.close();
                replied.complete("ok");
            } catch (Exception e) {
                replied.completeExceptionally(e);
            }
        })));
        PeerLink link = link(client, server);
        LinkedBlockingQueue<String> replies = new LinkedBlockingQueue<>();
        link.channel().onMessage((m, d) -> replies.add(text(m)));
        link.channel().send(text("ping"));
        assertEquals("ok", replied.get(WAIT, TimeUnit.SECONDS));
        assertEquals("re: ping", replies.poll(WAIT, TimeUnit.SECONDS));
        CloseReason reason = link.channel().closed().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        assertEquals(CloseReason.NORMAL, reason.code(), reason.toString());
    }

    /**
     * An application executor that runs tasks on the submitting thread puts callbacks on the loop;
     * waiting for a stage there fails at once instead of freezing the device,
     * and the link keeps working.
     */
    @Test
    void waitingOnTheEventLoopFailsFast() throws Exception {
        Device server = device(Runnable::run);
        Device client = device(null);
        LinkedBlockingQueue<Object> outcomes = new LinkedBlockingQueue<>();
        server.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, d) -> {
            try {
                link.channel().send(text("x")).toCompletableFuture().join();
                outcomes.add("joined");
            } catch (BlockingOperationException e) {
                outcomes.add(e);
            }
            try {
                link.ping().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
                outcomes.add("pinged");
            } catch (BlockingOperationException e) {
                outcomes.add(e);
            } catch (Exception e) {
                outcomes.add(e);
            }
        })));
        PeerLink link = link(client, server);
        link.channel().send(text("one"));
        Object first = outcomes.poll(WAIT, TimeUnit.SECONDS);
        assertInstanceOf(BlockingOperationException.class, first, String.valueOf(first));
        assertTrue(((Exception) first).getMessage().contains("event loop"), ((Exception) first).getMessage());
        assertInstanceOf(BlockingOperationException.class, outcomes.poll(WAIT, TimeUnit.SECONDS));
        link.channel().send(text("two")).toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
        assertInstanceOf(BlockingOperationException.class, outcomes.poll(WAIT, TimeUnit.SECONDS), "the link still delivers");
        link.ping().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
    }

    /**
     * An Error thrown by a task on the device's loop (as an OutOfMemoryError would be): the device
     * fails loudly, its links close with that reason on both sides, a pending link set-up fails
     * with it, new calls are refused naming it, and other devices keep linking.
     */
    @Test
    void anErrorOnTheLoopFailsTheDeviceAndClosesItsLinksWithTheReason() throws Exception {
        Device victim = device(null);
        Device peer = device(null);
        Device other = device(null);
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        victim.onIncoming(req -> req.accept().thenAccept(accepted::complete));
        PeerLink fromPeer = link(peer, victim);
        PeerLink atVictim = accepted.get(WAIT, TimeUnit.SECONDS);
        // A set-up in progress: a HELLO to a socket that never answers.
        try (java.nio.channels.DatagramChannel silent = java.nio.channels.DatagramChannel.open()) {
            silent.bind(LOOPBACK);
            CompletableFuture<PeerLink> pending = victim.connect(Endpoint.udp((InetSocketAddress) silent.getLocalAddress()))
                    .toCompletableFuture();
            Field f = DeviceImpl.class.getDeclaredField("loop");
            f.setAccessible(true);
            EventLoop loop = (EventLoop) f.get(victim);
            loop.execute(() -> {
                throw new StackOverflowError("injected");
            });
            CloseReason local = atVictim.channel().closed().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
            assertEquals(CloseReason.SHUTDOWN, local.code());
            assertTrue(local.message().contains("device failed") && local.message().contains("StackOverflowError"), local.message());
            CloseReason remote = fromPeer.channel().closed().toCompletableFuture().get(WAIT, TimeUnit.SECONDS);
            assertTrue(remote.byPeer());
            assertTrue(remote.message().contains("StackOverflowError"), "the peer learns why: " + remote);
            ExecutionException e = assertThrows(ExecutionException.class, () -> pending.get(WAIT, TimeUnit.SECONDS));
            assertInstanceOf(ChannelClosedException.class, e.getCause());
            assertTrue(e.getCause().getMessage().contains("StackOverflowError"), e.getCause().getMessage());
            IllegalStateException refused = assertThrows(IllegalStateException.class,
                    () -> victim.connect(peer.localEndpoints().get(0)));
            assertTrue(refused.getMessage().contains("device failed"), refused.getMessage());
            assertTrue(loop.awaitTermination(TimeUnit.SECONDS.toNanos(WAIT)), "the failed loop must end");
        }
        CompletableFuture<String> echoed = new CompletableFuture<>();
        other.onIncoming(req -> req.accept().thenAccept(l -> l.channel().onMessage((m, d) -> echoed.complete(text(m)))));
        link(peer, other).channel().send(text("still here"));
        assertEquals("still here", echoed.get(WAIT, TimeUnit.SECONDS));
    }
}
