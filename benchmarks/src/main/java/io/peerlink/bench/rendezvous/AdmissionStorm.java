package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.server.rendezvous.Ed25519Verifier;
import io.peerlink.server.rendezvous.ResumptionTickets;

import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
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

/**
 * The re-admission storm: a reference server has just (re)started and every device reconnects at
 * once. How long until all of them are admitted again, and what does one admission cost the
 * server? Target (issue 10): 10,000 devices within 10 s on 2 cores.
 *
 * <p>Part 1 measures one hello verification in this JVM, single-threaded, on the same signed
 * payloads: JDK 17's Ed25519, BouncyCastle's Ed25519 (what the server uses by default), and — as
 * the lower bound any resumption ticket could reach — one HMAC-SHA256 over the same payload.
 *
 * <p>Part 2 runs the storm end to end for each mode in the same invocation: a fresh server
 * JVM ({@code -Dpeerlink.server.ed25519=jdk|bouncycastle}, allow-list of all devices, metrics
 * off, resumption tickets on with a key file under {@code --out}), then all devices connect over
 * real loopback WebSockets with {@code --parallelism} handshakes in flight (challenge, signed
 * hello, welcome), and the time until the last welcome is the figure. Mode {@code tickets} is the
 * restart case with resumption tickets (protocol 2.1): the devices keep the tickets the previous
 * mode's server issued them, the fresh server reads the same ticket key file, and each device
 * answers the challenge with a {@code resume} (an HMAC proof) instead of a signed hello.
 * Simulated devices sign with BouncyCastle so the load generator, which shares the machine, is
 * not the bottleneck.
 */
public final class AdmissionStorm {
    private static final String USAGE = """
            usage: AdmissionStorm [--devices N] [--parallelism P] [--source-addresses A] [--verifies V]
                                  [--modes jdk,bouncycastle,tickets] [--server-heap SIZE] [--server-jvm OPTIONS]
                                  [--alt-server-jvm OPTIONS] [--generator raw|jetty] [--out DIR]
              --devices           devices in the storm (default 10000)
              --parallelism       handshakes in flight (default 512)
              --source-addresses  loopback source addresses 127.1.x.y (default 64)
              --verifies          verifications per implementation in part 1 (default 3000)
              --modes             storms, in order (default jdk,bouncycastle,tickets): jdk and bouncycastle are signed
                                  hellos verified by that Ed25519 implementation; tickets re-admits with the
                                  tickets the previous storm's server issued (needs one before it)
              --server-heap       the server JVM's -Xmx (default 1g)
              --server-jvm        extra options for the server JVM only, space-separated
                                  (e.g. "-XX:TieredStopAtLevel=1"; default none)
              --alt-server-jvm    options for the server JVM of modes suffixed "+alt" instead of --server-jvm, to
                                  compare two sets in one invocation (e.g. --modes bouncycastle,tickets,tickets+alt)
              --generator         the simulated devices' WebSocket client: raw (default: plain NIO sockets and RFC 6455
                                  framing on one thread, the protocol's codec) or jetty (Jetty's WebSocket client, the
                                  generator before 2026-12-02 evening, ~2x its CPU); per mode with "tickets/jetty"
              --out               directory for server logs (default target/admission-storm)
            """;

    private AdmissionStorm() {
    }

    /**
     * @param args see {@code --help}
     * @throws Exception if the benchmark cannot run
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> o = parse(args);
        int devices = Integer.parseInt(o.getOrDefault("devices", "10000"));
        int parallelism = Integer.parseInt(o.getOrDefault("parallelism", "512"));
        int sources = Integer.parseInt(o.getOrDefault("source-addresses", "64"));
        int verifies = Integer.parseInt(o.getOrDefault("verifies", "3000"));
        List<String> modes = List.of(o.getOrDefault("modes", "jdk,bouncycastle,tickets").split(","));
        String defaultGenerator = o.getOrDefault("generator", "raw");
        List<String> altServerJvm = o.getOrDefault("alt-server-jvm", "").isBlank() ? List.of()
                : List.of(o.get("alt-server-jvm").trim().split("\\s+"));
        if (modes.get(0).startsWith("tickets")) {
            throw new IllegalArgumentException("mode 'tickets' needs an earlier storm whose server issues the tickets, e.g. --modes bouncycastle,tickets");
        }
        String heap = o.getOrDefault("server-heap", "1g");
        List<String> serverJvm = o.getOrDefault("server-jvm", "").isBlank() ? List.of()
                : List.of(o.get("server-jvm").trim().split("\\s+"));
        Path out = Path.of(o.getOrDefault("out", "target/admission-storm")).toAbsolutePath();
        long fdLimit = ProcStat.openFileLimit("self");
        if (devices > 0 && fdLimit < devices + 1000L) {
            throw new IllegalStateException("open-file limit " + fdLimit + " is too low for " + devices + " devices: run 'ulimit -n "
                    + (devices + 2000) + "' first");
        }
        PrintStream log = System.out;
        log.printf(Locale.ROOT, "# admission storm: AdmissionStorm %s%n", String.join(" ", args));
        log.printf(Locale.ROOT, "# %s, %d CPUs, Java %s, load average at start %s%n",
                ZonedDateTime.now().format(DateTimeFormatter.ISO_OFFSET_DATE_TIME), Runtime.getRuntime().availableProcessors(),
                System.getProperty("java.version"), loadAverage());

        // ---- part 1: one verification, single thread
        DeviceIdentity jdkKey = DeviceIdentity.ephemeral();
        byte[][] payloads = new byte[verifies][];
        byte[][] signatures = new byte[verifies][];
        for (int i = 0; i < verifies; i++) {
            byte[] nonce = new byte[Handshake.NONCE_LENGTH];
            java.util.concurrent.ThreadLocalRandom.current().nextBytes(nonce);
            payloads[i] = Handshake.signedPayload(nonce, jdkKey.id(), "127.0.0.1");
            signatures[i] = jdkKey.sign(payloads[i]);
        }
        byte[] pk = jdkKey.rawPublicKey();
        ResumptionTickets ticketKey = new ResumptionTickets(new byte[32], java.time.Duration.ofHours(24), java.time.Clock.systemUTC());
        ResumptionTickets.Issued ticket = ticketKey.issue(pk, "default");
        byte[][] nonces = new byte[verifies][];
        byte[][] proofs = new byte[verifies][];
        for (int i = 0; i < verifies; i++) {
            nonces[i] = java.util.Arrays.copyOfRange(payloads[i], Handshake.CONTEXT.length(), Handshake.CONTEXT.length() + Handshake.NONCE_LENGTH);
            proofs[i] = Handshake.resumeProof(ticket.secret(), nonces[i], jdkKey.id(), "127.0.0.1");
        }
        javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
        mac.init(new javax.crypto.spec.SecretKeySpec(new byte[32], "HmacSHA256"));
        Map<String, Double> micros = new LinkedHashMap<>();
        for (int round = 0; round < 2; round++) { // round 0 warms the JIT up
            micros.put("JDK 17 Ed25519 verify", perOp(verifies, i -> DeviceIdentity.verify(pk, payloads[i], signatures[i])));
            micros.put("BouncyCastle Ed25519 verify", perOp(verifies, i -> Ed25519Verifier.verifyBouncyCastle(pk, payloads[i], signatures[i])));
            micros.put("HMAC-SHA256 over the payload (ticket lower bound)", perOp(verifies, i -> {
                mac.update(payloads[i]);
                return mac.doFinal().length == 32;
            }));
            micros.put("ticket check: MAC, secret, proof (what a resume costs)", perOp(verifies, i -> {
                try {
                    ResumptionTickets.Opened t = ticketKey.open(ticket.ticket());
                    byte[] proof = Handshake.resumeProof(ticketKey.secret(t), nonces[i], t.deviceId(), "127.0.0.1");
                    return java.security.MessageDigest.isEqual(proof, proofs[i]);
                } catch (ResumptionTickets.Rejected e) {
                    return false;
                }
            }));
        }
        double jdkMicros = micros.get("JDK 17 Ed25519 verify");
        log.println();
        log.println("Part 1: CPU per hello verification, one thread (" + verifies + " each, after a warm-up round)");
        log.printf(Locale.ROOT, "| %-52s | %12s | %10s | %9s |%n", "verifier", "us/verify", "verifies/s", "vs JDK");
        log.printf(Locale.ROOT, "|%s|%s|%s|%s|%n", "-".repeat(54), "-".repeat(14), "-".repeat(12), "-".repeat(11));
        for (Map.Entry<String, Double> e : micros.entrySet()) {
            log.printf(Locale.ROOT, "| %-52s | %12.1f | %,10.0f | %8.1fx |%n", e.getKey(), e.getValue(), 1e6 / e.getValue(),
                    jdkMicros / e.getValue());
        }

        if (devices == 0) {
            return;
        }
        // ---- part 2: the storm, end to end, per server verifier
        long k0 = System.nanoTime();
        FastKey[] keys = FastKey.generate(devices);
        log.printf(Locale.ROOT, "%n# %d device keys generated in %.1f s (not measured)%n", devices, (System.nanoTime() - k0) / 1e9);
        Files.createDirectories(out);
        Path allowList = out.resolve("allow-list.txt");
        StringBuilder sb = new StringBuilder("# generated by AdmissionStorm\n");
        for (FastKey k : keys) {
            sb.append(k.id().value()).append('\n');
        }
        Files.writeString(allowList, sb, StandardCharsets.US_ASCII);
        // Tickets on in every storm, with one key file for the whole invocation (generated by the first server).
        Path ticketKeyFile = out.resolve("tickets.key");
        Files.deleteIfExists(ticketKeyFile);
        Path serverConfig = out.resolve("peerlink-server.properties");
        Files.writeString(serverConfig, "# generated by AdmissionStorm\ntickets.enabled=true\ntickets.key-file=" + ticketKeyFile + "\n",
                StandardCharsets.UTF_8);
        List<String> rows = new ArrayList<>();
        List<String> metBy = new ArrayList<>();
        Double jdkSeconds = null;
        String[] heldTickets = null;
        byte[][] heldSecrets = null;
        int stormIndex = 0;
        for (String spec : modes) {
            // name[/raw|/jetty][+alt]: the load generator, and the server JVM options of --alt-server-jvm instead of --server-jvm
            boolean alt = spec.endsWith("+alt");
            String base = alt ? spec.substring(0, spec.length() - 4) : spec;
            String generator = base.contains("/") ? base.substring(base.indexOf('/') + 1) : defaultGenerator;
            String mode = base.contains("/") ? base.substring(0, base.indexOf('/')) : base;
            if (!List.of("jdk", "bouncycastle", "tickets").contains(mode) || !List.of("raw", "jetty").contains(generator)) {
                throw new IllegalArgumentException("bad mode '" + spec + "'\n" + USAGE);
            }
            Path dir = out.resolve((stormIndex++) + "-" + mode + "-" + generator + (alt ? "-alt" : ""));
            boolean resume = mode.equals("tickets");
            String verifier = resume ? "bouncycastle" : mode;
            long processStart = System.nanoTime();
            try (ServerProcess server = ServerProcess.start(heap, allowList, dir, serverJvmOptions(alt ? altServerJvm : serverJvm, verifier),
                    false, "server", List.of("--config", serverConfig.toString()));
                 Fleet fleet = new Fleet(server.controlUri(), sources);
                 RawFleet raw = generator.equals("raw") ? new RawFleet(server.controlUri(), sources) : null) {
                fleet.add(keys);
                if (resume) {
                    for (int i = 0; i < devices; i++) {
                        LoadDevice d = fleet.devices().get(i);
                        d.ticket = heldTickets[i];
                        d.resumptionSecret = heldSecrets[i];
                        d.resume = true;
                    }
                }
                String load = loadAverage();
                long self = ProcessHandle.current().pid();
                long cpu0 = server.cpuNanos();
                Map<String, Long> threads0 = ProcStat.threadCpuNanos(server.pid());
                long generatorCpu0 = ProcStat.cpuNanos(self);
                long accepting = System.nanoTime();
                Fleet.ConnectResult r = raw != null ? raw.connect(fleet.devices(), parallelism, resume)
                        : fleet.connect(0, devices, parallelism);
                long resumedByTicket = raw != null ? raw.resumed.sum() : fleet.resumed.sum();
                long rejected = raw != null ? raw.ticketsRejected.sum() : fleet.ticketsRejected.sum();
                long errors = raw != null ? raw.serverErrors.sum() : fleet.serverErrors.sum();
                long cpuTotal = server.cpuNanos();
                long cpu = cpuTotal - cpu0;
                Map<String, Long> threads1 = ProcStat.threadCpuNanos(server.pid());
                long generatorCpu = ProcStat.cpuNanos(self) - generatorCpu0;
                String loadAfter = loadAverage();
                double seconds = r.nanos() / 1e9;
                double fromStart = (accepting + r.nanos() - processStart) / 1e9;
                int n = Math.max(1, r.registered());
                double jit = (threads1.get("jit") - threads0.get("jit")) / 1e3 / n;
                double gc = (threads1.get("gc") - threads0.get("gc")) / 1e3 / n;
                if (mode.equals("jdk")) {
                    jdkSeconds = seconds;
                }
                if (r.failed() == 0 && fromStart <= 10.0 && !mode.equals("jdk")) {
                    metBy.add(spec);
                }
                heldTickets = new String[devices];
                heldSecrets = new byte[devices][];
                for (int i = 0; i < devices; i++) {
                    LoadDevice d = fleet.devices().get(i);
                    heldTickets[i] = d.ticket;
                    heldSecrets[i] = d.resumptionSecret;
                }
                rows.add(String.format(Locale.ROOT,
                        "| %-22s | %,8d / %,-6d | %,9d | %7.2f | %7.2f | %,12.0f | %,7.0f | %,6.0f | %,6.0f | %,11.0f | %12.2f | %,13.0f | %-6s | %s | %s |",
                        spec, r.registered(), r.failed(), resumedByTicket, seconds, fromStart, r.registered() / seconds,
                        cpu / 1e3 / n, jit, gc, cpuTotal / 1e3 / n, cpu / 1e9 / seconds, generatorCpu / 1e3 / n,
                        jdkSeconds == null || mode.equals("jdk") ? "" : String.format(Locale.ROOT, "%.1fx", jdkSeconds / seconds),
                        load, loadAfter));
                log.println("# " + spec + ": " + r.registered() + " admitted (" + resumedByTicket + " by ticket, "
                        + rejected + " tickets rejected), " + r.failed() + " failed in "
                        + String.format(Locale.ROOT, "%.2f s", seconds) + String.format(Locale.ROOT, " (%.2f s from the server's start)", fromStart));
                if (errors > 0) {
                    log.println("#   " + errors + " error messages from the server");
                }
            }
        }
        log.println();
        log.println("Part 2: " + devices + " devices reconnect at once to a freshly started server, " + parallelism
                + " handshakes in flight");
        log.println("(seconds: until the last welcome, from the first connect (server accepting) and from the server process's start;");
        log.println(" server CPU per admission during the storm, of which the JIT compiler and GC threads, and since the process started;");
        log.println(" generator: the load generator's CPU per admission during the storm, on the same cores)");
        log.println("| mode                   | admitted / failed | by ticket | s accepting | s process | admissions/s | server us | of which JIT | GC | since start us | server cores | generator us | faster | load avg at start | load avg at end |");
        log.println("|------------------------|-------------------|-----------|---------|---------|--------------|---------|--------|--------|-------------|--------------|---------------|--------|-------------------|-----------------|");
        rows.forEach(log::println);
        log.printf(Locale.ROOT, "TARGET %d devices re-admitted within 10 s of the server process's start: %s%n", devices,
                metBy.isEmpty() ? "NOT MET" : "MET by " + String.join(", ", metBy));
    }

    private interface Op {
        boolean run(int i);
    }

    /** @return CPU microseconds per operation of this thread */
    private static double perOp(int n, Op op) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long c0 = threads.getCurrentThreadCpuTime();
        int ok = 0;
        for (int i = 0; i < n; i++) {
            if (op.run(i)) {
                ok++;
            }
        }
        long c1 = threads.getCurrentThreadCpuTime();
        if (ok != n) {
            throw new IllegalStateException((n - ok) + " of " + n + " valid signatures did not verify");
        }
        return (c1 - c0) / 1e3 / n;
    }

    private static List<String> serverJvmOptions(List<String> extra, String verifier) {
        List<String> options = new ArrayList<>(extra);
        options.add("-D" + Ed25519Verifier.PROPERTY + "=" + verifier);
        return options;
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (java.io.IOException e) {
            return "unknown";
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
