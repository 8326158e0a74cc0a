package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;

import java.io.IOException;
import java.io.PrintStream;
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
import java.util.concurrent.TimeUnit;

/**
 * The rendezvous scale benchmark: can one reference-server node hold N concurrently connected,
 * authenticated devices within a 1 GiB heap and introduce them at 2,000+ per second?
 *
 * <p>It starts the reference server in a child JVM ({@code -Xmx1g}), connects simulated devices
 * (real Ed25519 identities, signed challenges, candidates, pong answers) over real loopback
 * WebSockets from many 127.1.x.y source addresses, and measures:
 * <ol>
 *   <li>baseline: connect {@code --baseline-devices} devices, then introductions among only those;</li>
 *   <li>scale: connect the rest up to {@code --devices} (connect rate, server heap after GC, RSS,
 *       CPU per connect), then introductions among all of them (rate, latency, CPU per introduction);</li>
 *   <li>idle: keepalives only for {@code --idle} seconds (server CPU per device per second).</li>
 * </ol>
 * Ratios compare the scale run with the baseline measured in the same invocation. See
 * docs/benchmarks.md, section "Rendezvous scale", for the command and the figures.
 */
public final class RendezvousLoad {
    private static final String USAGE = """
            usage: RendezvousLoad [--devices N] [--baseline-devices B] [--source-addresses A]
                                  [--connect-parallelism P] [--concurrency C] [--warmup S] [--duration S]
                                  [--idle S] [--server-heap SIZE] [--auth allow-list|open] [--out DIR]
                                  [--jit-warmup S] [--profile]
              --devices              devices connected at scale (default 10000)
              --baseline-devices     devices in the baseline introduction run (default 1000)
              --source-addresses     loopback source addresses 127.1.x.y to spread connections over (default 64)
              --connect-parallelism  handshakes in flight while connecting (default 256)
              --concurrency          introductions in flight (default 256)
              --warmup               seconds of introductions before each measurement (default 5)
              --duration             measured seconds of introductions per run (default 20)
              --idle                 measured seconds of keepalive-only steady state (default 30)
              --server-heap          the server JVM's -Xmx (default 1g)
              --auth                 allow-list: the server admits exactly the generated devices (default);
                                     open: --open demo mode, which logs a WARNING per admitted device
              --out                  directory for server logs and thread dumps (default target/rendezvous-scale)
              --jit-warmup           seconds of unreported introductions before the baseline, so the
                                     baseline is not penalised for running on a cold JIT (default 45)
              --profile              record the server with JFR during the scale introduction run
                                     (DIR/server-scale-introductions.jfr; read with 'jfr print')
            """;

    private RendezvousLoad() {
    }

    /**
     * @param args see {@code --help}
     * @throws Exception if the benchmark cannot run
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        int devices = Integer.parseInt(o.getOrDefault("devices", "10000"));
        int baseline = Integer.parseInt(o.getOrDefault("baseline-devices", "1000"));
        int sources = Integer.parseInt(o.getOrDefault("source-addresses", "64"));
        int connectParallelism = Integer.parseInt(o.getOrDefault("connect-parallelism", "256"));
        int concurrency = Integer.parseInt(o.getOrDefault("concurrency", "256"));
        long warmup = TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("warmup", "5")));
        long duration = TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("duration", "20")));
        long idle = TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("idle", "30")));
        long jitWarmup = TimeUnit.SECONDS.toNanos(Long.parseLong(o.getOrDefault("jit-warmup", "45")));
        String heap = o.getOrDefault("server-heap", "1g");
        Path out = Path.of(o.getOrDefault("out", "target/rendezvous-scale")).toAbsolutePath();
        boolean profile = o.containsKey("profile");
        String auth = o.getOrDefault("auth", "allow-list");
        if (!auth.equals("allow-list") && !auth.equals("open")) {
            throw new IllegalArgumentException("--auth is allow-list or open\n" + USAGE);
        }
        if (baseline < 2 || baseline > devices || sources < 1 || sources > 250 * 250) {
            throw new IllegalArgumentException("need 2 <= --baseline-devices <= --devices and 1..62500 source addresses\n" + USAGE);
        }
        // One socket per device here and one in the server: both JVMs need the headroom. The JVM
        // raises its soft limit to the hard one by itself; the hard one needs CAP_SYS_RESOURCE to raise.
        long fdLimit = ProcStat.openFileLimit("self");
        if (fdLimit < devices + 1000L) {
            throw new IllegalStateException("open-file limit " + fdLimit + " is too low for " + devices
                    + " devices: run 'ulimit -n " + (devices + 2000) + "' (as root) before starting the benchmark");
        }

        PrintStream log = System.out;
        String command = "RendezvousLoad " + String.join(" ", args);
        log.printf(Locale.ROOT, "# rendezvous scale: %s%n", command);
        log.printf(Locale.ROOT, "# %s, %d CPUs, %s RAM, Java %s, open-file limit %d%n",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.getRuntime().availableProcessors(),
                memTotal(), System.getProperty("java.version"), fdLimit);

        long t0 = System.nanoTime();
        Fleet.ConnectResult connectBase;
        Fleet.ConnectResult connectScale;
        Introductions.Result introBase;
        Introductions.Result introScale;
        long heapEmpty;
        long heapBase;
        long heapScale;
        long heapAfterIntro;
        long rssEmpty;
        long rssScale;
        long cpuConnectBase;
        long cpuConnectScale;
        long idleCpu;
        double idleSeconds;
        long idlePings;
        long serverThreads;
        long serverFdLimit;
        int distinctSources;
        String finalStatus;
        List<String> problems = new ArrayList<>();

        long k0 = System.nanoTime();
        DeviceIdentity[] identities = Fleet.identities(devices);
        log.printf(Locale.ROOT, "# %d Ed25519 identities generated in %.1f s (load generator, not measured)%n",
                devices, (System.nanoTime() - k0) / 1e9);
        Path allowList = null;
        if (auth.equals("allow-list")) {
            // The production admission path: the server admits exactly these devices.
            Files.createDirectories(out);
            allowList = out.resolve("allow-list.txt");
            StringBuilder sb = new StringBuilder("# generated by RendezvousLoad\n");
            for (DeviceIdentity identity : identities) {
                sb.append(identity.id().value()).append('\n');
            }
            Files.writeString(allowList, sb, StandardCharsets.US_ASCII);
        }
        try (ServerProcess server = ServerProcess.start(heap, allowList, out)) {
            log.printf(Locale.ROOT, "# server pid %d at %s (-Xmx%s, auth %s), logs in %s%n", server.pid(), server.controlUri(), heap, auth, out);
            serverFdLimit = ProcStat.openFileLimit(Long.toString(server.pid()));
            if (serverFdLimit < devices + 1000L) {
                throw new IllegalStateException("the server's open-file limit " + serverFdLimit + " is too low for " + devices + " devices");
            }
            try (Fleet fleet = new Fleet(server.controlUri(), sources)) {
                fleet.add(identities);

                heapEmpty = server.heapAfterGc();
                rssEmpty = server.rssBytes();

                // ---- baseline: a small population
                long c0 = server.cpuNanos();
                connectBase = fleet.connect(0, baseline, connectParallelism);
                cpuConnectBase = server.cpuNanos() - c0;
                requireAll(connectBase, baseline);
                expectOnline(server, baseline, problems);
                heapBase = server.heapAfterGc();
                log.printf(Locale.ROOT, "# baseline: %d devices registered (%d failed) at %.0f/s%n",
                        connectBase.registered(), connectBase.failed(), rate(connectBase.registered(), connectBase.nanos()));
                Introductions.Result jit = introductions(fleet, server, baseline, concurrency, 0, jitWarmup, null);
                log.printf(Locale.ROOT, "# JIT warm-up: %.0f introductions/s among %d devices (not reported)%n", jit.perSecond(), baseline);
                introBase = introductions(fleet, server, baseline, concurrency, warmup, duration, null);
                log.printf(Locale.ROOT, "# baseline: %.0f introductions/s among %d devices%n", introBase.perSecond(), baseline);

                // ---- scale: the full population
                long c1 = server.cpuNanos();
                connectScale = fleet.connect(baseline, devices, connectParallelism);
                cpuConnectScale = server.cpuNanos() - c1;
                requireAll(connectScale, devices - baseline);
                expectOnline(server, devices, problems);
                heapScale = server.heapAfterGc();
                rssScale = server.rssBytes();
                serverThreads = server.threads();
                distinctSources = fleet.distinctSourceAddresses();
                log.printf(Locale.ROOT, "# scale: %d more devices registered (%d failed) at %.0f/s from %d source addresses%n",
                        connectScale.registered(), connectScale.failed(), rate(connectScale.registered(), connectScale.nanos()), distinctSources);
                introScale = introductions(fleet, server, devices, concurrency, warmup, duration, profile ? out : null);
                log.printf(Locale.ROOT, "# scale: %.0f introductions/s among %d devices%n", introScale.perSecond(), devices);
                heapAfterIntro = server.heapAfterGc();

                // ---- idle: keepalives only
                long pings0 = fleet.pingsAnswered.sum();
                long i0 = System.nanoTime();
                long cpuIdle0 = server.cpuNanos();
                TimeUnit.NANOSECONDS.sleep(idle);
                idleCpu = server.cpuNanos() - cpuIdle0;
                idleSeconds = (System.nanoTime() - i0) / 1e9;
                idlePings = fleet.pingsAnswered.sum() - pings0;
                expectOnline(server, devices, problems);
                finalStatus = server.status();

                if (fleet.unexpectedCloses.sum() > 0) {
                    problems.add(fleet.unexpectedCloses.sum() + " connections closed by the server");
                }
                if (fleet.serverErrors.sum() > 0) {
                    problems.add(fleet.serverErrors.sum() + " error messages from the server (" + fleet.rateLimited.sum() + " RATE_LIMITED)");
                }
                if (fleet.protocolErrors.sum() + fleet.unexpected.sum() + fleet.sendFailures.sum() > 0) {
                    problems.add(fleet.protocolErrors.sum() + " undecodable, " + fleet.unexpected.sum() + " unexpected messages, "
                            + fleet.sendFailures.sum() + " failed sends");
                }
                if (!server.alive()) {
                    problems.add("the server JVM died");
                }
            }
        }

        Table t = new Table();
        t.section("Phase 1: connect + authenticate (server JVM -Xmx" + heap + ", auth " + auth + ")");
        t.row("devices registered / failed", connectBase.registered() + " / " + connectBase.failed(),
                connectScale.registered() + " / " + connectScale.failed() + " (" + devices + " online)", "");
        t.row("connect rate, devices/s", fmt(rate(connectBase.registered(), connectBase.nanos())),
                fmt(rate(connectScale.registered(), connectScale.nanos())), "");
        t.row("server CPU per connect, us", fmt(cpuConnectBase / 1e3 / Math.max(1, connectBase.registered())),
                fmt(cpuConnectScale / 1e3 / Math.max(1, connectScale.registered())), "");
        t.row("server heap after GC, MiB", mib(heapEmpty) + " (0 devices)", mib(heapScale) + " (" + devices + " devices)", "");
        t.row("heap per device, bytes", fmt((heapBase - heapEmpty) / (double) baseline) + " (" + baseline + ")",
                fmt((heapScale - heapEmpty) / (double) devices) + " (" + devices + ")", "");
        t.row("server RSS, MiB", mib(rssEmpty) + " (0 devices)", mib(rssScale) + " (" + devices + " devices)", "");
        t.row("RSS per device, bytes", "", fmt((rssScale - rssEmpty) / (double) devices), "");
        t.row("server threads / open-file limit", "", serverThreads + " / " + serverFdLimit, "");
        t.row("distinct source addresses", "", Integer.toString(distinctSources), "");
        t.section("Phase 2: introductions (connect -> incoming -> accept -> introduce x2), " + concurrency + " in flight");
        t.row("devices online", Integer.toString(introBase.devices()), Integer.toString(introScale.devices()), "");
        t.row("introductions/s (both sides)", fmt(introBase.perSecond()), fmt(introScale.perSecond()),
                ratio(introScale.perSecond(), introBase.perSecond()));
        t.row("completed in window", introBase.completed() + " in " + fmt1(introBase.seconds()) + " s",
                introScale.completed() + " in " + fmt1(introScale.seconds()) + " s", "");
        t.row("latency p50, ms", ms(introBase.p50Nanos()), ms(introScale.p50Nanos()), ratio(introScale.p50Nanos(), introBase.p50Nanos()));
        t.row("latency p95, ms", ms(introBase.p95Nanos()), ms(introScale.p95Nanos()), ratio(introScale.p95Nanos(), introBase.p95Nanos()));
        t.row("latency p99, ms", ms(introBase.p99Nanos()), ms(introScale.p99Nanos()), ratio(introScale.p99Nanos(), introBase.p99Nanos()));
        t.row("latency max, ms", ms(introBase.maxNanos()), ms(introScale.maxNanos()), "");
        t.row("server CPU per introduction, us", fmt(introBase.serverCpuMicrosPerIntro()), fmt(introScale.serverCpuMicrosPerIntro()),
                ratio(introScale.serverCpuMicrosPerIntro(), introBase.serverCpuMicrosPerIntro()));
        t.row("server CPU, cores busy", fmt2(introBase.serverCores()), fmt2(introScale.serverCores()), "");
        t.row("load generator CPU, cores busy", fmt2(introBase.loadCores()), fmt2(introScale.loadCores()), "");
        t.row("errors / inconsistent / lost", introBase.errors() + " / " + introBase.mismatches() + " / " + introBase.lost(),
                introScale.errors() + " / " + introScale.mismatches() + " / " + introScale.lost(), "");
        t.row("server heap after GC after run, MiB", "", mib(heapAfterIntro), "");
        t.section("Phase 3: keepalive steady state, " + devices + " devices idle for " + fmt1(idleSeconds) + " s");
        double idleCores = idleCpu / 1e9 / idleSeconds;
        t.row("server CPU, cores busy (idle vs active)", fmt2(idleCores), fmt2(introScale.serverCores()),
                ratio(introScale.serverCores(), idleCores));
        t.row("server CPU per device per second, us", fmt2(idleCpu / 1e3 / devices / idleSeconds), "", "");
        t.row("pings answered", Long.toString(idlePings), "", "");
        String table = t.render("metric", "baseline", "scale", "scale/baseline");
        log.println();
        log.print(table);
        log.println("server /status at end: " + finalStatus);
        log.printf(Locale.ROOT, "total wall time %.0f s%n", (System.nanoTime() - t0) / 1e9);
        log.println(problems.isEmpty() ? "no errors" : "PROBLEMS: " + String.join("; ", problems));
        log.printf(Locale.ROOT, "TARGET %d devices within %s heap: %s; >= 2000 introductions/s: %s (%.0f/s)%n",
                devices, heap, connectScale.failed() == 0 && problems.isEmpty() ? "MET" : "NOT MET",
                introScale.perSecond() >= 2000 ? "MET" : "NOT MET", introScale.perSecond());
        Files.writeString(out.resolve("results.txt"), command + "\n" + table + "status " + finalStatus + "\n", StandardCharsets.UTF_8);
    }

    private static Introductions.Result introductions(Fleet fleet, ServerProcess server, int population, int concurrency,
                                                      long warmup, long duration, Path profileDir) throws Exception {
        Introductions run = new Introductions(fleet.devices(), population, concurrency);
        fleet.introductions(run);
        try {
            return run.run(server::cpuNanos, warmup, duration, profileDir == null ? null : () -> {
                Path jfr = profileDir.resolve("server-scale-introductions.jfr");
                server.startRecording(Math.max(1, TimeUnit.NANOSECONDS.toSeconds(duration)), jfr);
                System.out.println("# JFR recording of the server's measurement window: " + jfr);
            });
        } finally {
            fleet.introductions(null);
        }
    }

    /** Measuring introductions or memory with devices missing would report a smaller server than asked for. */
    private static void requireAll(Fleet.ConnectResult result, int expected) {
        if (result.registered() != expected) {
            throw new IllegalStateException(result.failed() + " of " + expected + " devices failed to register"
                    + " (reasons above); stopping rather than measuring a partial population");
        }
    }

    private static void expectOnline(ServerProcess server, int expected, List<String> problems) throws IOException {
        long online = ServerProcess.statusField(server.status(), "devicesOnline");
        if (online != expected) {
            problems.add("server reports " + online + " devices online, expected " + expected);
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
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + USAGE);
            }
            String name = a.substring(2);
            if (name.equals("profile")) {
                o.put(name, "true");
            } else if (i + 1 < args.length) {
                o.put(name, args[++i]);
            } else {
                throw new IllegalArgumentException("option " + a + " needs a value\n" + USAGE);
            }
        }
        return o;
    }

    private static String memTotal() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
                if (line.startsWith("MemTotal:")) {
                    long kb = Long.parseLong(line.replaceAll("\\D", ""));
                    return String.format(Locale.ROOT, "%.1f GiB", kb / 1024.0 / 1024.0);
                }
            }
        } catch (IOException | NumberFormatException e) {
            return "unknown";
        }
        return "unknown";
    }

    private static double rate(int count, long nanos) {
        return count / (nanos / 1e9);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%,.0f", v);
    }

    private static String fmt1(double v) {
        return String.format(Locale.ROOT, "%.1f", v);
    }

    private static String fmt2(double v) {
        return String.format(Locale.ROOT, "%.3f", v);
    }

    private static String mib(long bytes) {
        return String.format(Locale.ROOT, "%.1f", bytes / 1024.0 / 1024.0);
    }

    private static String ms(long nanos) {
        return String.format(Locale.ROOT, "%.2f", nanos / 1e6);
    }

    private static String ratio(double scale, double base) {
        return base == 0 || Double.isNaN(base) || Double.isNaN(scale) ? "" : String.format(Locale.ROOT, "%.2f", scale / base);
    }

    /** A plain-text table whose rows are also valid Markdown table rows. */
    private static final class Table {
        private final List<String[]> rows = new ArrayList<>();

        void section(String title) {
            rows.add(new String[] {"**" + title + "**", "", "", ""});
        }

        void row(String metric, String base, String scale, String ratio) {
            rows.add(new String[] {metric, base, scale, ratio});
        }

        String render(String... header) {
            int[] w = new int[header.length];
            List<String[]> all = new ArrayList<>();
            all.add(header);
            all.addAll(rows);
            for (String[] r : all) {
                for (int i = 0; i < r.length; i++) {
                    w[i] = Math.max(w[i], r[i].length());
                }
            }
            StringBuilder sb = new StringBuilder();
            for (int n = 0; n < all.size(); n++) {
                String[] r = all.get(n);
                sb.append('|');
                for (int i = 0; i < r.length; i++) {
                    sb.append(' ').append(String.format(Locale.ROOT, "%-" + w[i] + "s", r[i])).append(" |");
                }
                sb.append('\n');
                if (n == 0) {
                    sb.append('|');
                    for (int width : w) {
                        sb.append('-').append("-".repeat(width)).append("-|");
                    }
                    sb.append('\n');
                }
            }
            return sb.toString();
        }
    }
}
