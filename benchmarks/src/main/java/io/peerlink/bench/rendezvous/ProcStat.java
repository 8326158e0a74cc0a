package io.peerlink.bench.rendezvous;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/** Reads a process's CPU time, memory and limits from Linux's {@code /proc}. */
final class ProcStat {
    /** Kernel clock ticks per second for {@code /proc/<pid>/stat}; 100 on every common Linux build. */
    private static final long CLOCK_TICKS = clockTicks();

    private ProcStat() {
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return Long.parseLong(out);
            }
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }

    /**
     * @param pid a process
     * @return its user plus system CPU time, nanoseconds (resolution one clock tick, 10 ms)
     * @throws IOException if /proc cannot be read
     */
    static long cpuNanos(long pid) throws IOException {
        String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
        // The command name (field 2) may contain spaces and parentheses: fields are counted after its last ')'.
        String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
        long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime = fields 14, 15
        return ticks * 1_000_000_000L / CLOCK_TICKS;
    }

    /**
     * @param pid a process
     * @param key a {@code /proc/<pid>/status} key measured in kB, e.g. {@code VmRSS}
     * @return its value in kB
     * @throws IOException if it cannot be read
     */
    static long statusKb(long pid, String key) throws IOException {
        return statusValue(pid, key);
    }

    /**
     * @param pid a process
     * @param key a numeric {@code /proc/<pid>/status} key
     * @return its first number
     * @throws IOException if it cannot be read
     */
    static long statusValue(long pid, String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.substring(key.length() + 1).trim().split("\\s+")[0]);
            }
        }
        throw new IOException("no " + key + " in /proc/" + pid + "/status");
    }

    /**
     * @param pid a pid, or {@code self}
     * @return the process's soft limit on open files, from /proc/pid/limits
     * @throws IOException if it cannot be read
     */
    static long openFileLimit(String pid) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc", pid, "limits"))) {
            if (line.startsWith("Max open files")) {
                String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
                return soft.equals("unlimited") ? Long.MAX_VALUE : Long.parseLong(soft);
            }
        }
        throw new IOException("no 'Max open files' in /proc/" + pid + "/limits");
    }

    /**
     * CPU time of a process's threads, summed by kind: the JIT compiler threads ({@code C1/C2
     * CompilerThre...}), the garbage collector's ({@code GC Thread#}, {@code G1 ...}, {@code VM
     * Thread}) and everything else (the application). Threads that have ended are not counted
     * (their time is in the process's total only), so the three may sum to less than
     * {@link #cpuNanos(long)}.
     *
     * @param pid a live process
     * @return nanoseconds per kind: {@code jit}, {@code gc}, {@code app}
     * @throws IOException if /proc cannot be read
     */
    static java.util.Map<String, Long> threadCpuNanos(long pid) throws IOException {
        java.util.Map<String, Long> byKind = new java.util.LinkedHashMap<>();
        byKind.put("jit", 0L);
        byKind.put("gc", 0L);
        byKind.put("app", 0L);
        try (java.util.stream.Stream<Path> tasks = Files.list(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : (Iterable<Path>) tasks::iterator) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException gone) {
                    continue; // the thread ended while listing
                }
                String name = stat.substring(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                long nanos = (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 1_000_000_000L / CLOCK_TICKS;
                String kind = name.contains("CompilerThre") ? "jit"
                        : name.startsWith("GC Thread") || name.startsWith("G1 ") || name.equals("VM Thread") ? "gc" : "app";
                byKind.merge(kind, nanos, Long::sum);
            }
        }
        return byKind;
    }
}
