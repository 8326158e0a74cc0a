package io.peerlink.core.internal.loop;

import org.junit.jupiter.api.Test;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The loop's failure and shutdown rules, and the fail-fast stage. */
class EventLoopTest {

    /**
     * Four threads submit tasks while the loop is closed under them: every task either ran or its
     * submission was refused, none vanished.
     */
    @Test
    void tasksQueuedAtCloseRunOrAreRefusedNeverDropped() throws Exception {
        for (int round = 0; round < 20; round++) {
            EventLoop loop = new EventLoop("close-race");
            AtomicInteger ran = new AtomicInteger();
            AtomicInteger refused = new AtomicInteger();
            AtomicInteger submitted = new AtomicInteger();
            CountDownLatch go = new CountDownLatch(1);
            Thread[] producers = new Thread[4];
            for (int p = 0; p < producers.length; p++) {
                producers[p] = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    for (int i = 0; i < 5_000; i++) {
                        submitted.incrementAndGet();
                        try {
                            loop.execute(ran::incrementAndGet);
                        } catch (RejectedExecutionException e) {
                            refused.incrementAndGet();
                        }
                    }
                });
                producers[p].start();
            }
            go.countDown();
            Thread.sleep(round % 3);
            loop.close();
            for (Thread t : producers) {
                t.join();
            }
            assertTrue(loop.awaitTermination(TimeUnit.SECONDS.toNanos(10)));
            assertEquals(submitted.get(), ran.get() + refused.get(), "ran " + ran + " + refused " + refused);
        }
    }

    @Test
    void aTaskThrowingAnErrorFailsTheLoopLoudlyAndQueuedTasksStillRun() throws Exception {
        EventLoop loop = new EventLoop("error");
        AtomicReference<Throwable> reported = new AtomicReference<>();
        loop.onFailure(reported::set);
        CountDownLatch hold = new CountDownLatch(1);
        AtomicInteger after = new AtomicInteger();
        loop.execute(() -> {
            try {
                hold.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        loop.execute(() -> {
            throw new AssertionError("boom");
        });
        for (int i = 0; i < 100; i++) {
            loop.execute(after::incrementAndGet);
        }
        hold.countDown();
        assertTrue(loop.awaitTermination(TimeUnit.SECONDS.toNanos(10)), "an Error must end the loop");
        assertInstanceOf(AssertionError.class, reported.get());
        assertEquals(reported.get(), loop.failure());
        assertEquals(100, after.get(), "tasks queued before the failure still run");
        assertThrows(RejectedExecutionException.class, () -> loop.execute(() -> { }));
    }

    @Test
    void aRuntimeExceptionIsLoggedAndTheLoopGoesOn() throws Exception {
        try (EventLoop loop = new EventLoop("runtime")) {
            loop.execute(() -> {
                throw new IllegalStateException("a bug in one link");
            });
            assertEquals("alive", CompletableFuture.supplyAsync(() -> "alive", loop).get(10, TimeUnit.SECONDS));
            assertNull(loop.failure());
        }
    }

    @Test
    void waitingForAnIncompleteStageOnTheLoopFailsFast() throws Exception {
        try (EventLoop loop = new EventLoop("fail-fast")) {
            CallbackFuture<String> pending = new CallbackFuture<>(loop.callbacks().executor());
            CallbackFuture<String> done = new CallbackFuture<>(loop.callbacks().executor());
            done.complete("done");
            CompletableFuture<Object> outcome = CompletableFuture.supplyAsync(() -> {
                try {
                    pending.join();
                    return "joined";
                } catch (BlockingOperationException e) {
                    return e;
                }
            }, loop);
            assertInstanceOf(BlockingOperationException.class, outcome.get(10, TimeUnit.SECONDS));
            assertEquals("done", CompletableFuture.supplyAsync(done::join, loop).get(10, TimeUnit.SECONDS),
                    "a completed stage may be read on the loop");
            CompletableFuture<String> derived = pending.thenApply(s -> s + "!");
            assertInstanceOf(CallbackFuture.class, derived, "derived stages keep the rule");
        }
    }

    @Test
    void exposedStagesCompleteOnTheCallbackExecutor() throws Exception {
        try (EventLoop loop = new EventLoop("expose")) {
            CompletableFuture<String> internal = new CompletableFuture<>();
            CompletableFuture<String> exposed = loop.callbacks().expose(internal);
            CompletableFuture<String> thread = exposed.thenApply(v -> Thread.currentThread().getName());
            loop.execute(() -> internal.complete("v"));
            String name = thread.get(10, TimeUnit.SECONDS);
            assertTrue(name.startsWith("peerlink-callback-expose-"), name);
        }
    }
}
