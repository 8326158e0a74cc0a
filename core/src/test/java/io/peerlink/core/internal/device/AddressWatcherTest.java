package io.peerlink.core.internal.device;

import io.peerlink.core.internal.loop.EventLoop;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The address watch's netlink listener: one {@code ip -o monitor address link} process per JVM
 * while any watcher runs, shared by all of them, gone when the last one stops.
 */
class AddressWatcherTest {

    private static List<ProcessHandle> monitors() {
        return ProcessHandle.current().children()
                .filter(p -> p.info().arguments().map(a -> String.join(" ", a).equals("-o monitor address link")).orElse(false))
                .toList();
    }

    private static void awaitMonitors(int count) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (monitors().size() != count && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(count, monitors().size(), "ip monitor processes");
    }

    @Test
    void oneSharedMonitorProcessRunsWhileAnyWatcherDoes() throws Exception {
        assumeTrue(AddressWatcher.ipCommand() != null, "no iproute2 ip command: the watch polls only");
        ExecutorService blocking = Executors.newSingleThreadExecutor();
        try (EventLoop loop = new EventLoop("watch")) {
            AddressWatcher a = AddressWatcher.start(loop, blocking, (added, removed) -> { });
            AddressWatcher b = AddressWatcher.start(loop, blocking, (added, removed) -> { });
            assertTrue(a != null && b != null, "watching is on by default");
            awaitMonitors(1);
            a.stop();
            Thread.sleep(100);
            assertEquals(1, monitors().size(), "the other watcher still uses it");
            b.stop();
            awaitMonitors(0);
        } finally {
            blocking.shutdownNow();
        }
    }
}
