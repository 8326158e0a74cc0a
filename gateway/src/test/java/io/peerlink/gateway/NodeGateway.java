package io.peerlink.gateway;

import org.json.JSONObject;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code src/test/node/gateway.js} (the official npm socket.io-client) as a subprocess and
 * reads the JSON lines it prints. Without node or the npm packages the test is skipped, except
 * under {@code CI=true} where it fails: CI must run {@code npm ci} in {@code gateway/src/test/node}.
 */
final class NodeGateway implements AutoCloseable {

    static final Path DIR = Path.of("src/test/node").toAbsolutePath();

    private final Process process;
    private final BlockingQueue<JSONObject> lines = new LinkedBlockingQueue<>();
    private final List<String> seen = new ArrayList<>();

    private NodeGateway(Process process) {
        this.process = process;
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    synchronized (seen) {
                        seen.add(line);
                    }
                    if (line.startsWith("{")) {
                        lines.add(new JSONObject(line));
                    }
                }
            } catch (IOException ignored) {
                // The process ended.
            }
        }, "node-gateway-stdout");
        reader.setDaemon(true);
        reader.start();
    }

    static void requireNode() {
        String problem = null;
        if (!Files.isDirectory(DIR.resolve("node_modules/socket.io-client"))) {
            problem = "npm packages missing: run `npm ci` in " + DIR;
        } else {
            try {
                Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
                if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                    problem = "`node --version` failed";
                }
            } catch (IOException | InterruptedException e) {
                problem = "node is not installed: " + e.getMessage();
            }
        }
        if (problem != null) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true but " + problem);
            }
            Assumptions.abort("skipped: " + problem);
        }
    }

    static NodeGateway start(JSONObject config) throws IOException {
        requireNode();
        ProcessBuilder pb = new ProcessBuilder("node", DIR.resolve("gateway.js").toString(), config.toString())
                .directory(DIR.toFile())
                .redirectError(ProcessBuilder.Redirect.INHERIT);
        return new NodeGateway(pb.start());
    }

    /** The next line whose {@code step} is {@code step}; earlier lines with other steps are dropped. */
    JSONObject next(String step) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            JSONObject o = lines.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
            if (o == null) {
                synchronized (seen) {
                    throw new AssertionError("node gateway never printed step '" + step + "'; output: " + seen);
                }
            }
            if (o.optString("step").equals("failure")) {
                throw new AssertionError("node gateway failed: " + o.optString("message"));
            }
            if (o.optString("step").equals(step)) {
                return o;
            }
        }
    }

    boolean isAlive() {
        return process.isAlive();
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
