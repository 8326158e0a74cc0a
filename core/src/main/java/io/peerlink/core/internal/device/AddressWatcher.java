package io.peerlink.core.internal.device;

import io.peerlink.core.internal.loop.EventLoop;

import java.net.InetAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.Collections;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.BiConsumer;

/**
 * Watches the addresses of the device's interfaces (up, not loopback, IPv4 and IPv6) and reports
 * when the set changes: the device moved to another network, an interface came or went, a lease
 * changed (docs/protocol-paths.md, "A device changes its address"). A UDP socket bound to the
 * wildcard address keeps its local endpoint through such a change — the kernel just sends from
 * the new address — so no transport reports it; this watcher does.
 *
 * <p>Java has no portable notification for address changes, so the set is polled every
 * {@code peerlink.addressCheckMillis} ms (default {@value #DEFAULT_INTERVAL_MILLIS}; 0 turns
 * the watch off), and every {@value #SETTLING_INTERVAL_MILLIS} ms for 5 s after a change (a
 * move takes the old address away before the new one is there). One poll lists the interfaces (a few system calls, well under a millisecond
 * here); it runs on the blocking executor, the comparison and the report on the event loop.
 */
final class AddressWatcher {
    private static final System.Logger LOG = System.getLogger(AddressWatcher.class.getName());
    static final long DEFAULT_INTERVAL_MILLIS = 500;
    /** Poll interval right after a change: a move removes the old address before the new one appears. */
    static final long SETTLING_INTERVAL_MILLIS = 50;
    /** How long after a change the settling interval applies. */
    static final long SETTLING_NANOS = 5_000_000_000L;

    private final EventLoop loop;
    private final Executor blocking;
    private final long intervalNanos;
    /** Told (added, removed) on the loop when the set changed. */
    private final BiConsumer<Set<InetAddress>, Set<InetAddress>> onChange;
    private Set<InetAddress> known;
    /** Loop clock until which polls use the settling interval; loop-confined. */
    private long settlingUntil;
    private volatile boolean stopped;

    private AddressWatcher(EventLoop loop, Executor blocking, long intervalMillis,
                           BiConsumer<Set<InetAddress>, Set<InetAddress>> onChange) {
        this.loop = loop;
        this.blocking = blocking;
        this.intervalNanos = intervalMillis * 1_000_000L;
        this.onChange = onChange;
    }

    /**
     * Starts watching, or returns null if {@code peerlink.addressCheckMillis} is 0.
     *
     * @param onChange told (added, removed) on the loop
     */
    static AddressWatcher start(EventLoop loop, Executor blocking, BiConsumer<Set<InetAddress>, Set<InetAddress>> onChange) {
        long interval = Long.getLong("peerlink.addressCheckMillis", DEFAULT_INTERVAL_MILLIS);
        if (interval <= 0) {
            return null;
        }
        AddressWatcher w = new AddressWatcher(loop, blocking, Math.max(50, interval), onChange);
        w.known = current();
        w.settlingUntil = loop.nanoTime();
        w.schedule();
        return w;
    }

    void stop() {
        stopped = true;
    }

    private void schedule() {
        if (stopped) {
            return;
        }
        try {
            boolean settling = loop.nanoTime() - settlingUntil < 0;
            loop.schedule(this::poll, settling ? Math.min(intervalNanos, SETTLING_INTERVAL_MILLIS * 1_000_000L) : intervalNanos);
        } catch (RejectedExecutionException e) {
            stopped = true; // the loop closed
        }
    }

    private void poll() {
        if (stopped) {
            return;
        }
        try {
            blocking.execute(() -> {
                Set<InetAddress> now = current();
                try {
                    loop.execute(() -> compare(now));
                } catch (RejectedExecutionException e) {
                    stopped = true;
                }
            });
        } catch (RejectedExecutionException e) {
            stopped = true; // the device closed
        }
    }

    private void compare(Set<InetAddress> now) {
        if (stopped) {
            return;
        }
        if (!now.equals(known)) {
            Set<InetAddress> added = new HashSet<>(now);
            added.removeAll(known);
            Set<InetAddress> removed = new HashSet<>(known);
            removed.removeAll(now);
            known = now;
            settlingUntil = loop.nanoTime() + SETTLING_NANOS;
            LOG.log(System.Logger.Level.INFO, () -> "interface addresses changed: added " + added + ", removed " + removed);
            onChange.accept(Set.copyOf(added), Set.copyOf(removed));
        }
        schedule();
    }

    /** @return the addresses of the interfaces that are up, loopback excluded */
    static Set<InetAddress> current() {
        Set<InetAddress> out = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (nif.isUp() && !nif.isLoopback()) {
                    out.addAll(Collections.list(nif.getInetAddresses()));
                }
            }
        } catch (SocketException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "cannot list network interfaces: " + e.getMessage());
        }
        return out;
    }
}
