package io.peerlink.bench.rendezvous;

import io.peerlink.testkit.RedisServer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Two reference-server nodes sharing presence through a real {@code redis-server}, against one
 * node in memory, in the same invocation (docs/benchmarks.md, "Two nodes on Redis").
 *
 * <ol>
 *   <li>baseline: one node, in-memory presence, {@code --baseline-devices} devices;
 *       introductions among them;</li>
 *   <li>two nodes on Redis: {@code --devices} devices, device i on node {@code i % 2}; every
 *       introduction has its requester on one node and its target on the other, so each one
 *       crosses Redis twice (the connect forwarded, the requester's introduction sent back).</li>
 * </ol>
 * The simulated devices (real Ed25519 identities, the real control protocol over loopback
 * WebSockets) live in two load-generator JVMs ({@link FleetWorker}), because one process may
 * hold at most 20,000 sockets here. Both phases use the same two workers' shape and the same
 * number of introductions in flight.
 */
public final class TwoNodeRedis {
    private static final String USAGE = """
            usage: TwoNodeRedis [--devices N] [--baseline-devices B] [--concurrency C] [--warmup S] [--duration S]
                                [--jit-warmup S] [--server-heap SIZE] [--out DIR]
              --devices           devices across the two nodes, even (default 20000)
              --baseline-devices  devices on the single in-memory node, even (default 10000)
              --concurrency       introductions in flight per load generator, two generators (default 128)
              --warmup            seconds of introductions before each measurement (default 5)
              --duration          measured seconds of introductions (default 20)
              --jit-warmup        seconds of unreported introductions first, in each phase (default 20)
              --server-heap       each server JVM's -Xmx (default 1g)
              --out               directory for logs (default target/two-node-redis)
            """;

    private TwoNodeRedis() {
    }

    /** Results of one phase. */
    private record Phase(String name, int devices, int registered, double connectSeconds, long completed, double seconds,
                         long p50Nanos, long p99Nanos, long errors, long problems, String status, long serverConnects,
                         long serverIntroductions) {
        double perSecond() {
            return completed / seconds;
        }

        /**
         * A phase measures the servers only if what the load generators sent is what the servers did: each connect
         * request became one introduction (within 5 %, the ones in flight at the window's edges), and no error.
         *
         * @return why the phase is not a valid measurement, or null if it is
         */
        String invalid() {
            if (errors > 0 || problems > 0) {
                return errors + " errors, " + problems + " other problems";
            }
            if (serverIntroductions == 0 || serverConnects > 1.05 * serverIntroductions + 512) {
                return "the servers took " + serverConnects + " connect requests for " + serverIntroductions + " introductions";
            }
            return null;
        }
    }

    /**
     * @param args see {@code --help}
     * @throws Exception if the benchmark cannot run
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        int devices = Integer.parseInt(o.getOrDefault("devices", "20000"));
        int baseline = Integer.parseInt(o.getOrDefault("baseline-devices", "10000"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "128"));
        long warmup = Long.parseLong(o.getOrDefault("warmup", "5"));
        long duration = Long.parseLong(o.getOrDefault("duration", "20"));
        long jit = Long.parseLong(o.getOrDefault("jit-warmup", "20"));
        String heap = o.getOrDefault("server-heap", "1g");
        Path out = Path.of(o.getOrDefault("out", "target/two-node-redis")).toAbsolutePath();
        if (devices % 4 != 0 || baseline % 4 != 0 || devices / 2 > 18_000 || baseline / 2 > 18_000) {
            throw new IllegalArgumentException("--devices and --baseline-devices must be multiples of 4, at most 36000\n" + USAGE);
        }
        Files.createDirectories(out);
        PrintStream log = System.out;
        String command = "TwoNodeRedis " + String.join(" ", args);
        log.printf(Locale.ROOT, "# %s%n# %s, %d CPUs, Java %s, load average at start %s%n", command,
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), loadAverage());

        Phase single = phase("one node, in-memory", baseline, 1, null, heap, out, concurrency, jit, warmup, duration, log);
        String loadMid = loadAverage();
        Phase two;
        try (RedisServer redis = RedisServer.start()) {
            log.printf(Locale.ROOT, "# redis-server at %s%n", redis.uri());
            two = phase("two nodes on Redis", devices, 2, redis, heap, out, concurrency, jit, warmup, duration, log);
        }
        String loadEnd = loadAverage();

        StringBuilder t = new StringBuilder();
        t.append("| metric | one node, in-memory | two nodes on Redis (every introduction crosses nodes) | two / one |\n");
        t.append("|---|---|---|---|\n");
        t.append(String.format(Locale.ROOT, "| devices registered | %,d of %,d | %,d of %,d (%s) | |%n", single.registered, single.devices,
                two.registered, two.devices, "half per node"));
        t.append(String.format(Locale.ROOT, "| connect phase, s | %.1f | %.1f | |%n", single.connectSeconds, two.connectSeconds));
        t.append(String.format(Locale.ROOT, "| introductions/s | %,.0f | %,.0f | %.2f |%n", single.perSecond(), two.perSecond(),
                two.perSecond() / single.perSecond()));
        t.append(String.format(Locale.ROOT, "| completed in window | %,d in %.1f s | %,d in %.1f s | |%n", single.completed, single.seconds,
                two.completed, two.seconds));
        t.append(String.format(Locale.ROOT, "| latency p50, ms | %.2f | %.2f | %.2f |%n", single.p50Nanos / 1e6, two.p50Nanos / 1e6,
                (double) two.p50Nanos / single.p50Nanos));
        t.append(String.format(Locale.ROOT, "| latency p99, ms | %.2f | %.2f | %.2f |%n", single.p99Nanos / 1e6, two.p99Nanos / 1e6,
                (double) two.p99Nanos / single.p99Nanos));
        t.append(String.format(Locale.ROOT, "| errors / other problems | %d / %d | %d / %d | |%n", single.errors, single.problems,
                two.errors, two.problems));
        t.append(String.format(Locale.ROOT, "| server connect requests / introductions (warm-up + window) | %,d / %,d | %,d / %,d | |%n",
                single.serverConnects, single.serverIntroductions, two.serverConnects, two.serverIntroductions));
        log.println();
        log.print(t);
        log.printf(Locale.ROOT, "load average (1/5/15 min): between phases %s, end %s%n", loadMid, loadEnd);
        log.printf(Locale.ROOT, "node status: one node %s; two nodes %s%n", single.status, two.status);
        boolean rateMet = two.perSecond() >= 0.5 * single.perSecond();
        boolean countMet = two.registered == devices && two.devices >= 20_000;
        String invalid = single.invalid() != null ? "one node: " + single.invalid() : two.invalid() != null ? "two nodes: " + two.invalid() : null;
        log.printf(Locale.ROOT, "TARGET introductions across nodes >= 0.5 x one node: %s (%.2f); %,d devices across the two: %s%n",
                invalid != null ? "NO VALID RESULT (" + invalid + ")" : rateMet ? "MET" : "NOT MET", two.perSecond() / single.perSecond(),
                two.registered, countMet ? "MET" : "NOT MET");
        Files.writeString(out.resolve("results.txt"), command + "\n" + t, StandardCharsets.UTF_8);
    }

    private static Phase phase(String name, int devices, int nodes, RedisServer redis, String heap, Path out, int concurrency,
                               long jit, long warmup, long duration, PrintStream log) throws Exception {
        int perWorker = devices / 2;
        List<Worker> workers = new ArrayList<>();
        List<ServerProcess> servers = new ArrayList<>();
        try {
            for (int w = 0; w < 2; w++) {
                workers.add(Worker.start(perWorker, w * 32, 32, concurrency, out.resolve("worker-" + nodes + "-" + w + ".log")));
            }
            StringBuilder allow = new StringBuilder("# generated by TwoNodeRedis\n");
            for (Worker w : workers) {
                for (String id : w.ids()) {
                    allow.append(id).append('\n');
                }
            }
            Path allowList = out.resolve("allow-list-" + nodes + ".txt");
            Files.writeString(allowList, allow, StandardCharsets.US_ASCII);
            for (int n = 0; n < nodes; n++) {
                servers.add(ServerProcess.start(heap, allowList, out, List.of(), true, nodes == 1 ? "single" : "node-" + n, redis == null ? List.of()
                        : List.of("--redis", redis.uri(), "--redis-key-prefix", "bench:")));
            }
            StringBuilder uris = new StringBuilder("servers");
            for (ServerProcess s : servers) {
                uris.append(' ').append(s.controlUri());
            }
            long c0 = System.nanoTime();
            for (Worker w : workers) {
                w.send(uris.toString());
            }
            int registered = 0;
            int reconnects = 0;
            for (Worker w : workers) {
                String[] r = w.expect("connected").split(" ");
                registered += Integer.parseInt(r[1]);
                reconnects += Integer.parseInt(r[4]);
                if (Integer.parseInt(r[2]) > 0) {
                    log.printf(Locale.ROOT, "# %s: %s devices failed to register (see %s)%n", name, r[2], w.logFile);
                }
            }
            double connectSeconds = (System.nanoTime() - c0) / 1e9;
            log.printf(Locale.ROOT, "# %s: %,d of %,d devices registered in %.1f s (%,d reconnects after a failed first attempt)%n",
                    name, registered, devices, connectSeconds, reconnects);
            if (registered != devices) {
                throw new IllegalStateException(name + ": " + (devices - registered) + " devices failed to register (see the worker"
                        + " logs in " + out + "); stopping rather than measuring a partial population");
            }
            for (ServerProcess s : servers) {
                log.printf(Locale.ROOT, "#   node %s: %d devices online%n", s.controlUri(), ServerProcess.statusField(s.status(), "devicesOnline"));
            }
            long[] jitSums = runAll(workers, 0, jit, nodes);
            log.printf(Locale.ROOT, "# %s: JIT warm-up %,d introductions, %d errors / problems%n", name, jitSums[0], jitSums[4] + jitSums[5]);
            long[] before = serverCounters(servers);
            long[] sums = runAll(workers, warmup, duration, nodes);
            long[] after = serverCounters(servers);
            StringBuilder status = new StringBuilder();
            for (ServerProcess s : servers) {
                status.append(s.status()).append(' ');
            }
            Phase p = new Phase(name, devices, registered, connectSeconds, sums[0], sums[1] / 1000.0 / workers.size(), sums[2], sums[3],
                    sums[4], sums[5], status.toString().trim(), after[0] - before[0], after[1] - before[1]);
            log.printf(Locale.ROOT, "# %s: %,.0f introductions/s (p50 %.2f ms, p99 %.2f ms); servers: %,d connect requests, %,d"
                    + " introductions during warm-up + window%s%n", name, p.perSecond(), p.p50Nanos / 1e6, p.p99Nanos / 1e6,
                    p.serverConnects, p.serverIntroductions, p.invalid() == null ? "" : "; INVALID: " + p.invalid());
            return p;
        } finally {
            for (Worker w : workers) {
                w.close();
            }
            for (ServerProcess s : servers) {
                s.close();
            }
        }
    }

    /** @return connect requests and introductions summed over the servers' {@code /status} */
    private static long[] serverCounters(List<ServerProcess> servers) throws IOException {
        long[] c = new long[2];
        for (ServerProcess s : servers) {
            String status = s.status();
            c[0] += ServerProcess.statusField(status, "connectRequests");
            c[1] += ServerProcess.statusField(status, "introductions");
        }
        return c;
    }

    /** @return completed (sum), window ms (sum), p50 (max over workers), p99 (max), errors, problems */
    private static long[] runAll(List<Worker> workers, long warmup, long duration, int nodes) throws Exception {
        for (Worker w : workers) {
            w.send("run " + warmup + " " + duration + " " + nodes);
        }
        long[] sums = new long[6];
        for (Worker w : workers) {
            String[] r = w.expect("result").split(" ");
            sums[0] += Long.parseLong(r[1]);
            sums[1] += Math.round(Double.parseDouble(r[2]) * 1000);
            sums[2] = Math.max(sums[2], Long.parseLong(r[3]));
            sums[3] = Math.max(sums[3], Long.parseLong(r[4]));
            sums[4] += Long.parseLong(r[5]) + Long.parseLong(r[6]) + Long.parseLong(r[7]);
            sums[5] += Long.parseLong(r[8]);
        }
        return sums;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** A {@link FleetWorker} JVM. */
    private static final class Worker implements AutoCloseable {
        private final Process process;
        private final Writer stdin;
        private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();
        private final List<String> ids = new ArrayList<>();
        private final Path logFile;

        private Worker(Process process, Path logFile) {
            this.process = process;
            this.logFile = logFile;
            this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
            Thread reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        lines.add(line);
                    }
                } catch (IOException e) {
                    // the worker ended
                }
                lines.add("eof");
            }, "worker-stdout");
            reader.setDaemon(true);
            reader.start();
        }

        static Worker start(int devices, int firstSource, int sources, int concurrency, Path logFile) throws Exception {
            String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
            List<String> cmd = List.of(java, "-Xmx1g", "-cp", System.getProperty("java.class.path"), FleetWorker.class.getName(),
                    Integer.toString(devices), Integer.toString(firstSource), Integer.toString(sources), Integer.toString(concurrency));
            StringBuilder shell = new StringBuilder("ulimit -n \"$(ulimit -Hn)\" && exec");
            for (String arg : cmd) {
                shell.append(" '").append(arg.replace("'", "'\\''")).append('\'');
            }
            ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", shell.toString());
            pb.redirectError(logFile.toFile());
            Worker w = new Worker(pb.start(), logFile);
            while (true) {
                String line = w.next(120);
                if (line.startsWith("id ")) {
                    w.ids.add(line.substring(3));
                } else if (line.startsWith("ids ")) {
                    return w;
                } else {
                    throw new IOException("load generator: unexpected '" + line + "' (see " + logFile + ")");
                }
            }
        }

        List<String> ids() {
            return ids;
        }

        private String next(long seconds) throws Exception {
            String line = lines.poll(seconds, TimeUnit.SECONDS);
            if (line == null || line.equals("eof")) {
                throw new IOException("load generator stopped answering (see " + logFile + ")");
            }
            return line;
        }

        void send(String line) throws IOException {
            stdin.write(line + "\n");
            stdin.flush();
        }

        String expect(String prefix) throws Exception {
            String line = next(900);
            if (!line.startsWith(prefix + " ")) {
                throw new IOException("load generator: expected '" + prefix + "', got '" + line + "' (see " + logFile + ")");
            }
            return line;
        }

        @Override
        public void close() {
            try {
                send("exit");
                if (!process.waitFor(60, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (IOException e) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                process.destroyForcibly();
            }
        }
    }

    private static Map<String, String> parse(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (a.equals("--help") || a.equals("-h")) {
                System.out.print(USAGE);
                System.exit(0);
            }
            if (!a.startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("bad argument '" + a + "'\n" + USAGE);
            }
            o.put(a.substring(2), args[++i]);
        }
        return o;
    }
}
