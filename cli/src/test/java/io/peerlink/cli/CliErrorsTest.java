package io.peerlink.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The project standard "errors a person can act on" (docs/cli.md): a usage or environment mistake
 * prints one line saying what is wrong and what to do, exits non-zero, and shows no stack trace
 * unless {@code -v} asks for one. The CLI runs as a real subprocess, as a person would run it.
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class CliErrorsTest {
    @TempDir
    Path dir;

    private record Result(int exit, String out, String err) {
    }

    private Result run(String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.peerlink.cli.Main"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(dir.resolve("out.txt").toFile())
                .redirectError(dir.resolve("err.txt").toFile()).start();
        assertTrue(p.waitFor(50, TimeUnit.SECONDS), "the CLI did not finish: " + String.join(" ", args));
        return new Result(p.exitValue(), Files.readString(dir.resolve("out.txt"), StandardCharsets.UTF_8),
                Files.readString(dir.resolve("err.txt"), StandardCharsets.UTF_8));
    }

    private static void assertOneActionableLine(String text, String... mustContain) {
        List<String> lines = text.lines().filter(l -> !l.isBlank()).toList();
        assertEquals(1, lines.size(), "exactly one line expected:\n" + text);
        assertFalse(text.contains("\tat ") || text.contains("Exception"), "no stack trace, no exception class names:\n" + text);
        for (String s : mustContain) {
            assertTrue(lines.get(0).contains(s), "'" + s + "' missing from: " + lines.get(0));
        }
    }

    @Test
    void serverWithoutFlagsServesWithEmbeddedDefaultsAndSaysWhoItAdmits() throws Exception {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", System.getProperty("java.class.path"), "io.peerlink.cli.Main",
                "server", "--http-port", "0", "--stun-port", "0", "--coap-port", "0"));
        Path out = dir.resolve("server-out.txt");
        Path err = dir.resolve("server-err.txt");
        Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        try {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(40);
            while (!Files.readString(out, StandardCharsets.UTF_8).contains("server ws://") && System.nanoTime() < deadline) {
                assertTrue(p.isAlive(), "the server exited: " + Files.readString(err, StandardCharsets.UTF_8));
                Thread.sleep(100);
            }
            String started = Files.readString(out, StandardCharsets.UTF_8);
            assertTrue(started.contains("server ws://") && started.contains("coap "), "the server started and serves CoAP: " + started);
            String warnings = Files.readString(err, StandardCharsets.UTF_8);
            assertTrue(warnings.lines().anyMatch(l -> l.contains("admitting no devices") && l.contains("--allow-list") && l.contains("--open")),
                    "one line says how to admit devices:\n" + warnings);
            assertFalse(warnings.contains("\tat "), "no stack trace:\n" + warnings);
        } finally {
            p.destroy();
            p.waitFor(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void keyInAMissingDirectorySaysWhatToCreate() throws Exception {
        Result r = run("device", "id", "-k", "missing-dir/a.key");
        assertEquals(Main.EXIT_FAILED, r.exit);
        assertOneActionableLine(r.err, "missing-dir", "does not exist", "create it");
        assertTrue(r.out.isBlank(), r.out);
    }

    @Test
    void verboseAddsTheStackTrace() throws Exception {
        Result r = run("-v", "device", "id", "-k", "missing-dir/a.key");
        assertEquals(Main.EXIT_FAILED, r.exit);
        assertTrue(r.err.contains("\tat "), "-v shows the stack trace:\n" + r.err);
    }

    @Test
    void sendingThroughADeadServerFailsFastWithTheCause() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Files.writeString(dir.resolve("f.bin"), "payload");
        String uri = "ws://127.0.0.1:" + port + "/peerlink/v1";
        Result r = run("device", "send", "-k", "a.key", "-s", uri, "--stun", "127.0.0.1:" + port, "-b", "127.0.0.1:0",
                "--to", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "-f", "f.bin");
        assertEquals(DeviceCommand.EXIT_UNREACHABLE, r.exit, r.out + r.err);
        // Fails on the refused connection, not after STUN gathering (no answer either) gives up.
        assertFalse(r.err.contains("no reflexive candidate"), "the refusal was reported before STUN gave up:\n" + r.err);
        List<String> outcome = r.out.lines().filter(l -> l.startsWith("error") || l.startsWith("unreachable")).toList();
        assertEquals(1, outcome.size(), r.out);
        assertTrue(outcome.get(0).contains("connection refused to " + uri), outcome.get(0));
        assertFalse(r.err.contains("\tat "), r.err);
    }

    @Test
    void aMalformedPeerIdIsAUsageErrorBeforeAnythingStarts() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // nothing listens: a malformed ID must be reported without trying the server
        }
        Result r = run("device", "send", "-k", "a.key", "-s", "ws://127.0.0.1:" + port + "/peerlink/v1",
                "--to", "AAAA", "-f", "f.bin");
        assertEquals(Main.EXIT_USAGE, r.exit, r.out + r.err);
        assertOneActionableLine(r.err, "'AAAA' is not a device ID", "52 characters", "peerlink device id", "--help");
        assertFalse(r.out.contains("device-id"), "no device was built for a malformed ID:\n" + r.out);
        assertFalse(Files.exists(dir.resolve("a.key")), "no key file was created for a malformed ID");
    }

    @Test
    void aMistypedOptionIsOneLineWithWhereTheHelpIs() throws Exception {
        Result r = run("device", "send", "--bogus");
        assertEquals(Main.EXIT_USAGE, r.exit);
        assertOneActionableLine(r.err, "--bogus", "--help");
    }

    @Test
    void theHelpThatUsageErrorsPointToExistsOnEverySubcommand() throws Exception {
        for (String[] command : new String[][] {{"server"}, {"device"}, {"device", "send"}, {"device", "listen"},
                {"device", "id"}, {"demo"}}) {
            List<String> args = new ArrayList<>(List.of(command));
            args.add("--help");
            Result r = run(args.toArray(String[]::new));
            assertEquals(0, r.exit, String.join(" ", args) + ": " + r.err);
            assertTrue(r.out.startsWith("Usage: peerlink " + String.join(" ", command)), r.out);
            assertTrue(r.err.isBlank(), r.err);
        }
    }

    @Test
    void aProxyThatIsNotThereIsNamedInOneLine() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort(); // free once closed: nothing listens there
        }
        Files.writeString(dir.resolve("f.bin"), "payload");
        Result r = run("device", "send", "-k", "a.key", "-s", "ws://192.0.2.1:8080/peerlink/v1", "--proxy", "127.0.0.1:" + port,
                "--stun", "127.0.0.1:" + port, "-b", "127.0.0.1:0", "--to", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
                "-f", "f.bin");
        assertEquals(DeviceCommand.EXIT_UNREACHABLE, r.exit, r.out + r.err);
        List<String> outcome = r.out.lines().filter(l -> l.startsWith("error") || l.startsWith("unreachable")).toList();
        assertEquals(1, outcome.size(), r.out);
        assertTrue(outcome.get(0).contains("connection refused by the HTTP proxy 127.0.0.1:" + port
                + " (proxy for ws://192.0.2.1:8080/peerlink/v1)"), outcome.get(0));
        assertFalse(r.err.contains("\tat "), r.err);
    }

    @Test
    void aMalformedProxyIsOneLine() throws Exception {
        Result r = run("device", "send", "-k", "a.key", "-s", "ws://127.0.0.1:9/peerlink/v1", "--proxy", "proxy.example",
                "--to", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "-f", "f.bin");
        assertEquals(Main.EXIT_FAILED, r.exit, r.out + r.err);
        assertOneActionableLine(r.err, "--proxy=proxy.example: expected host:port");
    }
}
