package io.peerlink.tck;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.OperatingSystemMXBean;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

/**
 * What a process holds that a transport can leak: sockets, pipes and event descriptors (from
 * {@code /proc/self/fd}, or the total count from the {@code UnixOperatingSystemMXBean} where
 * there is no {@code /proc}), and live threads. Regular files are left out on purpose: the class
 * loader opens jars lazily, which would look like a leak.
 */
final class Resources {

    private static final Path PROC_FD = Path.of("/proc/self/fd");

    /** What was held at one moment. */
    record Snapshot(Map<String, Integer> handlesByKind, long openDescriptors, Set<Thread> threads) {
    }

    private Resources() {
    }

    /** @return where descriptors are counted from, or null if they cannot be counted here */
    static String descriptorSource() {
        if (Files.isDirectory(PROC_FD)) {
            return PROC_FD.toString();
        }
        return unixBean() != null ? "UnixOperatingSystemMXBean" : null;
    }

    private static com.sun.management.UnixOperatingSystemMXBean unixBean() {
        OperatingSystemMXBean os = ManagementFactory.getOperatingSystemMXBean();
        return os instanceof com.sun.management.UnixOperatingSystemMXBean unix ? unix : null;
    }

    static Snapshot take() {
        Map<String, Integer> kinds = new TreeMap<>();
        long open = -1;
        if (Files.isDirectory(PROC_FD)) {
            List<Path> entries = new ArrayList<>();
            try (DirectoryStream<Path> dir = Files.newDirectoryStream(PROC_FD)) {
                dir.forEach(entries::add);
            } catch (IOException e) {
                throw new IllegalStateException("cannot list " + PROC_FD, e);
            }
            for (Path entry : entries) {
                String target;
                try {
                    target = Files.readSymbolicLink(entry).toString();
                } catch (IOException e) {
                    continue; // closed between listing and reading: not held any more
                }
                String kind = kindOf(target);
                if (kind != null) {
                    kinds.merge(kind, 1, Integer::sum);
                }
            }
        } else {
            com.sun.management.UnixOperatingSystemMXBean unix = unixBean();
            open = unix == null ? -1 : unix.getOpenFileDescriptorCount();
        }
        Set<Thread> threads = Thread.getAllStackTraces().keySet().stream()
                .filter(Thread::isAlive).filter(t -> !infrastructure(t)).collect(Collectors.toSet());
        return new Snapshot(kinds, open, threads);
    }

    /** socket:[123] -> socket; anon_inode:[eventpoll] -> anon_inode:[eventpoll]; pipe:[9] -> pipe; files -> null. */
    private static String kindOf(String target) {
        if (target.startsWith("socket:")) {
            return "socket";
        }
        if (target.startsWith("pipe:")) {
            return "pipe";
        }
        if (target.startsWith("anon_inode:")) {
            return target;
        }
        return null;
    }

    /** Threads that belong to the JVM or the test framework, never to a transport. */
    private static boolean infrastructure(Thread t) {
        String name = t.getName();
        return name.startsWith("ForkJoinPool.commonPool-worker") || name.startsWith("tck-") || name.equals("Attach Listener")
                || name.equals("Common-Cleaner") || name.startsWith("process reaper") || name.startsWith("surefire-")
                || (t.getThreadGroup() != null && "system".equals(t.getThreadGroup().getName()));
    }

    /**
     * @return what {@code now} holds beyond {@code before} (descriptors by kind, threads by name
     *         with where they are), or null when nothing is left over
     */
    static String leaked(Snapshot before, Snapshot now) {
        StringBuilder out = new StringBuilder();
        for (Map.Entry<String, Integer> e : now.handlesByKind().entrySet()) {
            int extra = e.getValue() - before.handlesByKind().getOrDefault(e.getKey(), 0);
            if (extra > 0) {
                out.append(out.length() == 0 ? "" : ", ").append(extra).append(" more ").append(e.getKey()).append(" descriptor(s)");
            }
        }
        if (before.openDescriptors() >= 0 && now.openDescriptors() > before.openDescriptors()) {
            out.append(out.length() == 0 ? "" : ", ").append(now.openDescriptors() - before.openDescriptors()).append(" more open descriptor(s)");
        }
        for (Thread t : now.threads()) {
            if (!before.threads().contains(t) && t.isAlive()) {
                StackTraceElement[] stack = t.getStackTrace();
                out.append(out.length() == 0 ? "" : ", ").append("thread '").append(t.getName()).append("' still running");
                for (int i = 0; i < Math.min(4, stack.length); i++) {
                    out.append(i == 0 ? " at " : " < ").append(stack[i]);
                }
            }
        }
        return out.length() == 0 ? null : out.toString();
    }
}
