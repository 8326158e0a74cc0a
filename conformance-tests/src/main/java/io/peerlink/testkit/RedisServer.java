package io.peerlink.testkit;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;

/**
 * A real {@code redis-server} process (Debian package {@code redis-server}) on a free loopback
 * port, with its own temporary directory and no persistence, for tests and benchmarks. Start
 * with {@link #start()}, stop with {@link #close()}. In JUnit 5 tests, {@link RedisServerExtension}
 * does both.
 */
public final class RedisServer implements AutoCloseable {
    /** Where Debian installs the server; else it is looked up on the {@code PATH}. */
    private static final Path DEBIAN_BINARY = Path.of("/usr/bin/redis-server");

    private final Process process;
    private final Path dir;
    private final int port;
    private final List<String> output;

    private RedisServer(Process process, Path dir, int port, List<String> output) {
        this.process = process;
        this.dir = dir;
        this.port = port;
        this.output = output;
    }

    /**
     * @return the {@code redis-server} executable, or null if it is not installed
     */
    public static Path binary() {
        if (Files.isExecutable(DEBIAN_BINARY)) {
            return DEBIAN_BINARY;
        }
        String path = System.getenv("PATH");
        if (path != null) {
            for (String d : path.split(java.io.File.pathSeparator)) {
                Path candidate = Path.of(d, "redis-server");
                if (Files.isExecutable(candidate)) {
                    return candidate;
                }
            }
        }
        return null;
    }

    /**
     * Starts a server on a free port of 127.0.0.1 and waits until it accepts connections.
     *
     * @return the running server
     * @throws IllegalStateException if {@code redis-server} is not installed or does not start within 10 s
     */
    public static RedisServer start() {
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("redis-server is not installed: apt-get install redis-server");
        }
        IllegalStateException last = null;
        // The free port is found by binding and closing a socket: another process may take it in between, so retry.
        for (int attempt = 0; attempt < 3; attempt++) {
            try {
                return startOnce(binary, freePort());
            } catch (IllegalStateException e) {
                last = e;
            }
        }
        throw last;
    }

    /**
     * Starts a server on a given port of 127.0.0.1, e.g. to bring back one that was {@linkplain #close() stopped}
     * (an outage) at the address its clients know. It starts empty (no persistence).
     *
     * @param port the port
     * @return the running server
     * @throws IllegalStateException if {@code redis-server} is not installed or does not start within 10 s
     */
    public static RedisServer start(int port) {
        Path binary = binary();
        if (binary == null) {
            throw new IllegalStateException("redis-server is not installed: apt-get install redis-server");
        }
        return startOnce(binary, port);
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static RedisServer startOnce(Path binary, int port) {
        Path dir;
        try {
            dir = Files.createTempDirectory("peerlink-redis-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        List<String> command = List.of(binary.toString(), "--port", Integer.toString(port), "--bind", "127.0.0.1",
                "--dir", dir.toString(), "--save", "", "--appendonly", "no", "--daemonize", "no",
                "--protected-mode", "yes", "--loglevel", "notice", "--maxclients", "10000");
        Process process;
        try {
            process = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            deleteTree(dir);
            throw new IllegalStateException("cannot run " + binary + ": " + e.getMessage(), e);
        }
        List<String> output = java.util.Collections.synchronizedList(new ArrayList<>());
        CompletableFuture<Boolean> ready = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    if (output.size() < 200) {
                        output.add(line);
                    }
                    if (line.contains("Ready to accept connections")) {
                        ready.complete(true);
                    }
                }
            } catch (IOException e) {
                // the process ended
            }
            ready.complete(false);
        }, "redis-server-output");
        reader.setDaemon(true);
        reader.start();
        boolean ok;
        try {
            ok = ready.get(10, TimeUnit.SECONDS);
        } catch (TimeoutException | java.util.concurrent.ExecutionException e) {
            ok = false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            ok = false;
        }
        if (!ok) {
            process.destroyForcibly();
            deleteTree(dir);
            throw new IllegalStateException("redis-server did not start on port " + port + ": " + String.join(" | ", output));
        }
        return new RedisServer(process, dir, port, output);
    }

    /** @return the port it listens on (127.0.0.1) */
    public int port() {
        return port;
    }

    /** @return {@code redis://127.0.0.1:<port>} */
    public String uri() {
        return "redis://127.0.0.1:" + port;
    }

    /** @return true while the process runs */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** @return the server's first lines of output (for failure messages) */
    public List<String> output() {
        return List.copyOf(output);
    }

    /** Stops the server (SIGTERM, then SIGKILL after 5 s) and deletes its directory; idempotent. */
    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
        }
        deleteTree(dir);
    }

    private static void deleteTree(Path dir) {
        try (Stream<Path> paths = Files.walk(dir)) {
            paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory left behind is not worth failing a test for
        }
    }
}
