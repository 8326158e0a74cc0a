package io.peerlink.bench.rendezvous;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The reference server running in a child JVM ({@code io.peerlink.cli.Main server}) with
 * its own heap limit, so its memory and CPU can be measured apart from the load generator's:
 * heap after a full GC through {@code jcmd}, RSS and CPU ticks through {@code /proc/<pid>}, and
 * the server's own counters through {@code GET /status}.
 */
final class ServerProcess implements AutoCloseable, Introductions.CpuClock {
    /** A fresh operator token per run, for {@code /status}. */
    private static final String STATUS_TOKEN = "bench-" + java.util.UUID.randomUUID();

    private static final Pattern CONTROL_URI = Pattern.compile("^server (ws://\\S+) stun .*$");
    private static final Pattern HEAP_USED = Pattern.compile("heap\\s+total (\\d+)K, used (\\d+)K");

    private final Process process;
    private final URI controlUri;
    private final Path logDir;
    private final String jcmd;
    private final HttpClient http = HttpClient.newHttpClient();

    private ServerProcess(Process process, URI controlUri, Path logDir, String jcmd) {
        this.process = process;
        this.controlUri = controlUri;
        this.logDir = logDir;
        this.jcmd = jcmd;
    }

    /**
     * Starts the server on 127.0.0.1 with an ephemeral HTTP port and waits for its control URI.
     *
     * @param heap the {@code -Xmx} value, e.g. {@code 1g}
     * @param allowList the allow-list file to admit devices with, or null for open mode
     * @param logDir where the server's stderr and GC log go
     * @return the running server
     * @throws IOException if it cannot be started or does not report its URI within 60 s
     */
    static ServerProcess start(String heap, Path allowList, Path logDir) throws IOException {
        return start(heap, allowList, logDir, List.of(), true);
    }

    /**
     * @param heap the {@code -Xmx} value
     * @param allowList the allow-list file, or null for open mode
     * @param logDir where the server's stderr and GC log go
     * @param jvmOptions extra JVM options, e.g. {@code -Dpeerlink.server.ed25519=jdk}
     * @param operator start with an operator token (metrics, {@code /status} and the dashboard on); without one they are off
     * @return the running server
     * @throws IOException if it cannot be started
     */
    static ServerProcess start(String heap, Path allowList, Path logDir, List<String> jvmOptions, boolean operator) throws IOException {
        return start(heap, allowList, logDir, jvmOptions, operator, "server", List.of());
    }

    /**
     * @param heap the {@code -Xmx} value
     * @param allowList the allow-list file, or null for open mode
     * @param logDir where logs go
     * @param jvmOptions extra JVM options
     * @param operator start with an operator token
     * @param name prefix of the log files ({@code <name>-stderr.log}, {@code <name>-gc.log})
     * @param extraArgs more {@code peerlink server} arguments, e.g. {@code --redis redis://...}
     * @return the running server
     * @throws IOException if it cannot be started
     */
    static ServerProcess start(String heap, Path allowList, Path logDir, List<String> jvmOptions, boolean operator, String name,
                               List<String> extraArgs) throws IOException {
        Files.createDirectories(logDir);
        Path javaHome = Path.of(System.getProperty("java.home"));
        String java = javaHome.resolve("bin/java").toString();
        String jcmd = javaHome.resolve("bin/jcmd").toString();
        if (!Files.isExecutable(Path.of(jcmd))) {
            throw new IOException("jcmd not found next to " + java + ": a full JDK is needed to measure the server's heap");
        }
        List<String> javaCommand = new ArrayList<>(List.of(java, "-Xmx" + heap,
                // A GC log is the first place to look if the heap gets tight or pauses stretch latency.
                "-Xlog:gc:file=" + logDir.resolve(name + "-gc.log")));
        javaCommand.addAll(jvmOptions);
        // -Dbench.server.jvm="..." adds options to every server JVM a harness starts (e.g. to compare
        // JIT settings with the same command); AdmissionStorm also has --server-jvm.
        String extra = System.getProperty("bench.server.jvm", "").trim();
        if (!extra.isEmpty()) {
            javaCommand.addAll(List.of(extra.split("\\s+")));
        }
        if (!javaCommand.contains("-cp")) {
            // A "-cp PATH" among the options runs another build of the server (e.g. a baseline in the same invocation).
            javaCommand.addAll(List.of("-cp", System.getProperty("java.class.path")));
        }
        javaCommand.addAll(List.of("io.peerlink.cli.Main", "server", "--host", "127.0.0.1", "--http-port", "0", "--stun-port", "0",
                // The fleet spreads its devices over few loopback sources; the per-address cap is not what is measured.
                "--max-connections-per-address", "100000", "--coap-port", "-1"));
        if (operator) {
            // /status, /metrics and the dashboard are served only to holders of the operator token (docs/operations.md).
            javaCommand.addAll(List.of("--status-token-env", "PEERLINK_STATUS_TOKEN"));
        }
        if (allowList == null) {
            javaCommand.add("--open");
        } else {
            javaCommand.addAll(List.of("--allow-list", allowList.toString()));
        }
        javaCommand.addAll(extraArgs);
        // The server holds one socket per device: raise its soft open-file limit to the hard limit
        // in the shell that execs it (the pid stays the JVM's). Raising the hard limit needs
        // CAP_SYS_RESOURCE, which this container does not grant; RendezvousLoad checks it is enough.
        StringBuilder shell = new StringBuilder("ulimit -n \"$(ulimit -Hn)\" && exec");
        for (String arg : javaCommand) {
            shell.append(" '").append(arg.replace("'", "'\\''")).append('\'');
        }
        ProcessBuilder pb = new ProcessBuilder("/bin/sh", "-c", shell.toString());
        pb.environment().put("PEERLINK_STATUS_TOKEN", STATUS_TOKEN);
        pb.redirectError(logDir.resolve(name + "-stderr.log").toFile());
        Process process = pb.start();
        CompletableFuture<URI> uri = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = in.readLine()) != null) {
                    Matcher m = CONTROL_URI.matcher(line.trim());
                    if (m.matches()) {
                        uri.complete(URI.create(m.group(1)));
                    }
                }
            } catch (IOException e) {
                uri.completeExceptionally(e);
            }
            uri.completeExceptionally(new IOException("server exited before reporting its control URI; see "
                    + logDir.resolve(name + "-stderr.log")));
        }, "server-stdout");
        reader.setDaemon(true);
        reader.start();
        try {
            return new ServerProcess(process, uri.get(60, TimeUnit.SECONDS), logDir, jcmd);
        } catch (Exception e) {
            process.destroyForcibly();
            throw new IOException("reference server did not start: " + e.getMessage(), e);
        }
    }

    /** @return the control WebSocket URI */
    URI controlUri() {
        return controlUri;
    }

    /** @return the server JVM's pid */
    long pid() {
        return process.pid();
    }

    /** @return true while the server JVM runs */
    boolean alive() {
        return process.isAlive();
    }

    /**
     * Runs a full GC in the server ({@code jcmd GC.run}) and reads the heap that survived it.
     *
     * @return used heap after GC, bytes
     * @throws IOException if jcmd fails or its output has no heap line
     */
    long heapAfterGc() throws IOException {
        jcmd("GC.run");
        return heapUsed();
    }

    /** @return used heap now (live plus not yet collected), bytes */
    long heapUsed() throws IOException {
        String info = jcmd("GC.heap_info");
        Matcher m = HEAP_USED.matcher(info);
        if (!m.find()) {
            throw new IOException("no heap line in jcmd GC.heap_info output:\n" + info);
        }
        return Long.parseLong(m.group(2)) * 1024;
    }

    private String jcmd(String... command) throws IOException {
        List<String> args = new ArrayList<>(List.of(jcmd, Long.toString(process.pid())));
        args.addAll(List.of(command));
        Process p = new ProcessBuilder(args).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        try {
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("jcmd " + String.join(" ", command) + " failed: " + new String(out, StandardCharsets.UTF_8));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted waiting for jcmd", e);
        }
        return new String(out, StandardCharsets.UTF_8);
    }

    /**
     * Starts a JFR recording with the {@code profile} settings (method sampling every 10 ms).
     *
     * @param seconds how long
     * @param file where the recording goes
     * @throws IOException if jcmd fails
     */
    void startRecording(long seconds, Path file) throws IOException {
        jcmd("JFR.start", "name=bench", "settings=profile", "duration=" + seconds + "s", "filename=" + file);
    }

    /** @return resident set size, bytes, from /proc/pid/status */
    long rssBytes() throws IOException {
        return ProcStat.statusKb(process.pid(), "VmRSS") * 1024;
    }

    /** @return live threads of the server JVM */
    long threads() throws IOException {
        return ProcStat.statusValue(process.pid(), "Threads");
    }

    /** @return user plus system CPU time the server has used, nanoseconds */
    @Override
    public long cpuNanos() throws IOException {
        return ProcStat.cpuNanos(process.pid());
    }

    /**
     * @return the server's {@code GET /status} JSON
     * @throws IOException if the request fails
     */
    String status() throws IOException {
        URI status = URI.create("http://" + controlUri.getHost() + ":" + controlUri.getPort() + "/status");
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(status).timeout(Duration.ofSeconds(10))
                    .header("Authorization", "Bearer " + STATUS_TOKEN).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (r.statusCode() != 200) {
                throw new IOException("GET " + status + " answered " + r.statusCode());
            }
            return r.body();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /**
     * @param json the /status JSON
     * @param field a numeric top-level field
     * @return its value
     */
    static long statusField(String json, String field) {
        Matcher m = Pattern.compile("\"" + Pattern.quote(field) + "\":(\\d+)").matcher(json);
        if (!m.find()) {
            throw new IllegalStateException("no '" + field + "' in /status: " + json);
        }
        return Long.parseLong(m.group(1));
    }

    /** @return the operator token the server was started with */
    static String operatorToken() {
        return STATUS_TOKEN;
    }

    /** @return the server's HTTP base, e.g. {@code http://127.0.0.1:8080} */
    URI httpBase() {
        return URI.create("http://" + controlUri.getHost() + ":" + controlUri.getPort());
    }

    /** @return where logs are written */
    Path logDir() {
        return logDir;
    }

    /** Stops the server (SIGTERM, which runs its shutdown hook), forcibly after 10 s. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
    }
}
