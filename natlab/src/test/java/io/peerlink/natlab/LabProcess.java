package io.peerlink.natlab;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A process started in a lab namespace (normally a JVM, see {@link NatLab#startJava}).
 *
 * <p>Its stdout is copied line by line to {@link #stdoutFile()} and kept in memory so tests can
 * wait for a line; stderr goes straight to {@link #stderrFile()}; stdin stays open for
 * {@link #writeLine}. {@link #close()} kills the whole process tree.
 */
public final class LabProcess implements AutoCloseable {
    private static final Duration GRACE = Duration.ofSeconds(2);
    private static final int TAIL_LINES = 20;

    private final String node;
    private final String description;
    private final Process process;
    private final Path stdoutFile;
    private final Path stderrFile;
    private final Writer stdin;
    private final List<String> lines = new ArrayList<>();
    private boolean stdoutClosed;
    private final Thread pump;

    LabProcess(String node, List<String> command, Path stdoutFile, Path stderrFile) {
        this.node = node;
        this.description = String.join(" ", command);
        this.stdoutFile = stdoutFile;
        this.stderrFile = stderrFile;
        try {
            Files.createDirectories(stdoutFile.getParent());
            Files.writeString(stdoutFile, "", StandardCharsets.UTF_8);
            this.process = new ProcessBuilder(command)
                    .redirectError(ProcessBuilder.Redirect.to(stderrFile.toFile()))
                    .start();
        } catch (IOException e) {
            throw new LabCommandException(command, e.toString(), e);
        }
        this.stdin = new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8);
        this.pump = new Thread(this::pumpStdout, "natlab-stdout-" + node);
        pump.setDaemon(true);
        pump.start();
    }

    private void pumpStdout() {
        try (BufferedReader reader = new BufferedReader(
                new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
             Writer file = Files.newBufferedWriter(stdoutFile, StandardCharsets.UTF_8, StandardOpenOption.APPEND)) {
            String line;
            while ((line = reader.readLine()) != null) {
                file.write(line);
                file.write('\n');
                // Flushed per line so the file is useful while a test hangs, not only afterwards.
                file.flush();
                synchronized (lines) {
                    lines.add(line);
                    lines.notifyAll();
                }
            }
        } catch (IOException e) {
            // The pipe breaks when the process is killed; everything read so far is kept.
        } finally {
            synchronized (lines) {
                stdoutClosed = true;
                lines.notifyAll();
            }
        }
    }

    /** The lab node (namespace short name) this process runs in. */
    public String node() {
        return node;
    }

    /** The operating-system process id (of {@code ip netns exec}, which execs the command in place). */
    public long pid() {
        return process.pid();
    }

    /** Where stdout is copied. */
    public Path stdoutFile() {
        return stdoutFile;
    }

    /** Where stderr is written. */
    public Path stderrFile() {
        return stderrFile;
    }

    /** Whether the process is still running. */
    public boolean isAlive() {
        return process.isAlive();
    }

    /** A snapshot of every stdout line read so far. */
    public List<String> lines() {
        synchronized (lines) {
            return List.copyOf(lines);
        }
    }

    /**
     * Writes one line to the process's stdin and flushes it.
     *
     * @throws UncheckedIOException if the process no longer reads its stdin
     */
    public void writeLine(String line) {
        try {
            synchronized (stdin) {
                stdin.write(line);
                stdin.write('\n');
                stdin.flush();
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write to stdin of " + this, e);
        }
    }

    /**
     * Waits until some stdout line (earlier ones included) matches.
     *
     * @return the first matching line, or empty if none arrived within the timeout or stdout ended
     */
    public Optional<String> pollLine(Predicate<String> matcher, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (lines) {
            int checked = 0;
            while (true) {
                for (; checked < lines.size(); checked++) {
                    if (matcher.test(lines.get(checked))) {
                        return Optional.of(lines.get(checked));
                    }
                }
                long remaining = deadline - System.nanoTime();
                if (remaining <= 0 || stdoutClosed) {
                    return Optional.empty();
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(lines, remaining);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return Optional.empty();
                }
            }
        }
    }

    /**
     * Waits until some stdout line (earlier ones included) matches.
     *
     * @return the first matching line
     * @throws AssertionError naming the process, its state and the tail of its output if no line
     *         matched within the timeout or the process ended first
     */
    public String awaitLine(Predicate<String> matcher, Duration timeout) {
        return pollLine(matcher, timeout).orElseThrow(() -> new AssertionError(
                "no matching stdout line within " + timeout + " from " + this + diagnostics()));
    }

    /**
     * Waits for the process to exit.
     *
     * @return its exit code
     * @throws AssertionError if it is still running after the timeout
     */
    public int waitFor(Duration timeout) {
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                throw new AssertionError("still running after " + timeout + ": " + this + diagnostics());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + this, e);
        }
        try {
            pump.join(GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return process.exitValue();
    }

    /**
     * Kills the process and every descendant: first SIGTERM (so a JVM runs its shutdown hooks),
     * then SIGKILL for whatever is left after a short grace period.
     */
    public void destroy() {
        // Snapshot the tree first: once the parent dies its children are re-parented and lost to us.
        List<ProcessHandle> tree = new ArrayList<>(process.descendants().toList());
        tree.add(process.toHandle());
        tree.forEach(ProcessHandle::destroy);
        long deadline = System.nanoTime() + GRACE.toNanos();
        for (ProcessHandle handle : tree) {
            long remaining = deadline - System.nanoTime();
            try {
                if (remaining > 0) {
                    handle.onExit().get(remaining, TimeUnit.NANOSECONDS);
                }
            } catch (Exception e) {
                // Fall through to SIGKILL below.
            }
        }
        tree.stream().filter(ProcessHandle::isAlive).forEach(ProcessHandle::destroyForcibly);
        try {
            process.waitFor(GRACE.toMillis(), TimeUnit.MILLISECONDS);
            pump.join(GRACE.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Same as {@link #destroy()}. */
    @Override
    public void close() {
        destroy();
    }

    String diagnostics() {
        StringBuilder text = new StringBuilder();
        text.append(process.isAlive() ? " (running)" : " (exited with " + process.exitValue() + ")");
        List<String> snapshot = lines();
        text.append("\n--- stdout tail (").append(stdoutFile).append(") ---\n");
        snapshot.subList(Math.max(0, snapshot.size() - TAIL_LINES), snapshot.size())
                .forEach(l -> text.append(l).append('\n'));
        text.append("--- stderr tail (").append(stderrFile).append(") ---\n");
        try {
            List<String> err = Files.readAllLines(stderrFile, StandardCharsets.UTF_8);
            err.subList(Math.max(0, err.size() - TAIL_LINES), err.size()).forEach(l -> text.append(l).append('\n'));
        } catch (IOException | UncheckedIOException e) {
            text.append("(unreadable: ").append(e).append(")\n");
        }
        return text.toString();
    }

    @Override
    public String toString() {
        return "[" + node + " pid " + process.pid() + "] " + description;
    }
}
