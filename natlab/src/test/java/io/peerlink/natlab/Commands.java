package io.peerlink.natlab;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

/** Runs short-lived host commands (ip, iptables, sysctl) and locates their executables. */
final class Commands {
    /** Generous: a single ip/iptables call takes milliseconds; only a wedged kernel takes longer. */
    private static final long TIMEOUT_SECONDS = 60;

    /** sudo and some CI shells drop the sbin directories from PATH; ip and iptables live there. */
    private static final List<String> EXTRA_DIRS = List.of("/usr/sbin", "/sbin", "/usr/bin", "/bin");

    private Commands() {
    }

    /** The outcome of one command. */
    record Result(List<String> command, int exitCode, String stdout, String stderr) {
        Result requireSuccess() {
            if (exitCode != 0) {
                throw new LabCommandException(command, exitCode, stderr.isBlank() ? stdout : stderr);
            }
            return this;
        }
    }

    static Optional<Path> locate(String executable) {
        List<String> dirs = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            dirs.addAll(List.of(path.split(":")));
        }
        dirs.addAll(EXTRA_DIRS);
        for (String dir : dirs) {
            if (dir.isEmpty()) {
                continue;
            }
            Path candidate = Path.of(dir, executable);
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                return Optional.of(candidate);
            }
        }
        return Optional.empty();
    }

    static Path require(String executable) {
        return locate(executable).orElseThrow(() -> new LabCommandException(List.of(executable),
                "executable not found on PATH or in " + EXTRA_DIRS, null));
    }

    static Result run(List<String> command) {
        Process process;
        try {
            process = new ProcessBuilder(command).redirectInput(ProcessBuilder.Redirect.from(nullDevice())).start();
        } catch (IOException e) {
            throw new LabCommandException(command, e.toString(), e);
        }
        // Drain both pipes concurrently: a command that fills one pipe while we read the other would hang.
        CompletableFuture<String> out = drain(process.getInputStream());
        CompletableFuture<String> err = drain(process.getErrorStream());
        try {
            if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new LabCommandException(command, "timed out after " + TIMEOUT_SECONDS + " s", null);
            }
            return new Result(List.copyOf(command), process.exitValue(), out.get(), err.get());
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new LabCommandException(command, "interrupted", e);
        } catch (ExecutionException e) {
            throw new LabCommandException(command, "reading its output failed", e.getCause());
        }
    }

    static Result check(List<String> command) {
        return run(command).requireSuccess();
    }

    private static java.io.File nullDevice() {
        return new java.io.File("/dev/null");
    }

    /** A thread per pipe, not the common pool: on a 2-core machine its single worker would serialise the drains. */
    private static CompletableFuture<String> drain(InputStream in) {
        CompletableFuture<String> result = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (in) {
                result.complete(new String(in.readAllBytes(), StandardCharsets.UTF_8));
            } catch (IOException e) {
                result.completeExceptionally(new UncheckedIOException(e));
            }
        }, "natlab-drain");
        reader.setDaemon(true);
        reader.start();
        return result;
    }
}
