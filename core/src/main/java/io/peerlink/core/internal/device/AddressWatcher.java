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
 *
 * <p>Where the {@code ip} command of iproute2 exists (Linux), {@code ip -o monitor address link}
 * runs next to the polling: a netlink listener whose every line (an address added or removed, an
 * interface going up or down: an address added to an interface that is still down counts only once
 * it is up) makes the watcher look at once, so a change is noticed within a millisecond or so instead of up to one poll
 * interval. One such process per JVM while any device watches, read by one daemon thread that
 * wakes every watcher, ended when the last watcher stops;
 * {@code -Dpeerlink.addressMonitor=false} turns it off. If it cannot start or ends, polling alone
 * goes on.
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
        if (Boolean.parseBoolean(System.getProperty("peerlink.addressMonitor", "true"))) {
            w.startMonitor();
        }
        return w;
    }

    void stop() {
        stopped = true;
        stopMonitor();
    }

    /** @return the iproute2 {@code ip} executable, or null if there is none */
    static java.nio.file.Path ipCommand() {
        if (!System.getProperty("os.name", "").toLowerCase(java.util.Locale.ROOT).contains("linux")) {
            return null;
        }
        java.util.List<String> dirs = new java.util.ArrayList<>(java.util.List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin"));
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(java.util.Arrays.asList(path.split(java.io.File.pathSeparator)));
        }
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            java.nio.file.Path ip = java.nio.file.Path.of(dir, "ip");
            if (java.nio.file.Files.isExecutable(ip)) {
                return ip;
            }
        }
        return null;
    }

    /** Guards the shared monitor. */
    private static final Object MONITOR_LOCK = new Object();
    /** The watchers the shared monitor wakes; guarded by MONITOR_LOCK. */
    private static final Set<AddressWatcher> MONITORED = new java.util.concurrent.CopyOnWriteArraySet<>();
    /** The one {@code ip monitor} of this JVM while any watcher runs; guarded by MONITOR_LOCK. */
    private static Process sharedMonitor;

    private void startMonitor() {
        synchronized (MONITOR_LOCK) {
            MONITORED.add(this);
            if (sharedMonitor != null && sharedMonitor.isAlive()) {
                return;
            }
            java.nio.file.Path ip = ipCommand();
            if (ip == null) {
                return;
            }
            Process p;
            try {
                p = new ProcessBuilder(ip.toString(), "-o", "monitor", "address", "link")
                        .redirectError(ProcessBuilder.Redirect.DISCARD)
                        .start();
            } catch (java.io.IOException | RuntimeException e) {
                LOG.log(System.Logger.Level.DEBUG, () -> "no address monitor (" + e.getMessage() + "); polling only");
                return;
            }
            try {
                p.getOutputStream().close();
            } catch (java.io.IOException ignored) {
                // it reads nothing anyway
            }
            sharedMonitor = p;
            Thread reader = new Thread(() -> readMonitor(p), "peerlink-address-monitor");
            reader.setDaemon(true);
            reader.start();
        }
    }

    private static void readMonitor(Process p) {
        try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(p.getInputStream(),
                java.nio.charset.StandardCharsets.UTF_8))) {
            while (in.readLine() != null) {
                for (AddressWatcher w : MONITORED) {
                    w.pollNow();
                }
            }
        } catch (java.io.IOException e) {
            LOG.log(System.Logger.Level.DEBUG, () -> "address monitor ended: " + e.getMessage());
        } finally {
            p.destroy();
        }
    }

    private void stopMonitor() {
        synchronized (MONITOR_LOCK) {
            MONITORED.remove(this);
            if (MONITORED.isEmpty() && sharedMonitor != null) {
                sharedMonitor.destroy();
                sharedMonitor = null;
            }
        }
    }

    /** Looks now (the monitor saw an address come or go), without touching the poll schedule. */
    private void pollNow() {
        if (stopped) {
            return;
        }
        Set<InetAddress> now = current();
        try {
            loop.execute(() -> compare(now, false));
        } catch (RejectedExecutionException e) {
            stopped = true;
        }
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
                    loop.execute(() -> compare(now, true));
                } catch (RejectedExecutionException e) {
                    stopped = true;
                }
            });
        } catch (RejectedExecutionException e) {
            stopped = true; // the device closed
        }
    }

    private void compare(Set<InetAddress> now, boolean reschedule) {
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
        if (reschedule) {
            schedule();
        }
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
