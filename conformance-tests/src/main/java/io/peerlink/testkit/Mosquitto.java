package io.peerlink.testkit;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A real Mosquitto 2 broker for one test class: its own directory, a generated configuration, a
 * free loopback port, a {@code password_file} made with {@code mosquitto_passwd}, optionally an
 * {@code acl_file}, persistence and a TLS listener. Under {@code CI=true} a missing binary fails
 * the test; otherwise the test is skipped with a message.
 */
public final class Mosquitto implements AutoCloseable {

    /** Where Debian's {@code mosquitto} package installs the broker. */
    public static final String BROKER = "/usr/sbin/mosquitto";

    private final Path dir;
    private final Map<String, String> users = new LinkedHashMap<>();
    private final List<String> extraLines = new ArrayList<>();
    private String acl;
    private boolean persistence;
    private boolean anonymous;
    private Tls tls;
    private int port;
    private Process process;

    /** Generated CA and server certificate (never committed), for a TLS listener. */
    public record Tls(Path caCert, Path serverCert, Path serverKey) {
    }

    private Mosquitto(Path dir) {
        this.dir = dir;
    }

    /**
     * Makes a broker to configure in a fresh temporary directory.
     *
     * @return a broker to configure; a skipped test (a failed one under {@code CI=true}) if Mosquitto is missing
     * @throws IOException if the directory cannot be created
     */
    public static Mosquitto create() throws IOException {
        requireBinary(BROKER, "mosquitto");
        requireBinary(passwdBinary(), "mosquitto");
        return new Mosquitto(Files.createTempDirectory("peerlink-mosquitto-"));
    }

    /**
     * Skips the calling test (fails it under {@code CI=true}) if a binary is missing.
     *
     * @param path the binary's absolute path
     * @param debianPackage the package that installs it, named in the message
     */
    public static void requireBinary(String path, String debianPackage) {
        if (!Files.isExecutable(Path.of(path))) {
            String message = path + " not found: install the Debian package '" + debianPackage + "' (apt-get install " + debianPackage + ")";
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true but " + message);
            }
            assumeTrue(false, message);
        }
    }

    /** @return the path of {@code mosquitto_passwd} */
    public static String passwdBinary() {
        return "/usr/bin/mosquitto_passwd";
    }

    /**
     * Adds a user to the broker's {@code password_file}.
     *
     * @param name the username
     * @param password the password
     * @return this broker
     */
    public Mosquitto user(String name, String password) {
        users.put(name, password);
        return this;
    }

    /**
     * Lets clients connect without a username.
     *
     * @return this broker
     */
    public Mosquitto allowAnonymous() {
        anonymous = true;
        return this;
    }

    /**
     * Sets the broker's {@code acl_file}.
     *
     * @param aclFileText the file's text, in mosquitto.conf(5)'s ACL syntax
     * @return this broker
     */
    public Mosquitto acl(String aclFileText) {
        this.acl = aclFileText;
        return this;
    }

    /**
     * Turns persistence on (sessions and queued messages survive a {@link #stop()} and {@link #start()}).
     *
     * @return this broker
     */
    public Mosquitto persistence() {
        this.persistence = true;
        return this;
    }

    /**
     * Makes the listener a TLS listener.
     *
     * @param tls the certificate and key to serve, from {@link #generateTls(Path)}
     * @return this broker
     */
    public Mosquitto tls(Tls tls) {
        this.tls = tls;
        return this;
    }

    /**
     * Adds a raw line to mosquitto.conf, e.g. {@code message_size_limit 2000}.
     *
     * @param line the configuration line
     * @return this broker
     */
    public Mosquitto config(String line) {
        extraLines.add(line);
        return this;
    }

    /** @return the broker's directory (configuration, log, persistence) */
    public Path dir() {
        return dir;
    }

    /** @return the listener's port, 0 before the first {@link #start()} */
    public int port() {
        return port;
    }

    /**
     * Starts on a free loopback port (the same port again after {@link #stop()}) and waits until it listens.
     *
     * @return this broker
     * @throws IOException if a file or process cannot be written or started
     * @throws InterruptedException if interrupted while waiting
     */
    public Mosquitto start() throws IOException, InterruptedException {
        if (port == 0) {
            port = freePort();
        }
        Path conf = dir.resolve("mosquitto.conf");
        Files.writeString(conf, configuration());
        Path log = dir.resolve("mosquitto.log");
        ProcessBuilder pb = new ProcessBuilder(BROKER, "-c", conf.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
        process = pb.start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("mosquitto exited with " + process.exitValue() + ":\n" + Files.readString(log));
            }
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return this;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("mosquitto did not listen on " + port + " within 15 s:\n" + Files.readString(log));
    }

    private String configuration() throws IOException, InterruptedException {
        StringBuilder c = new StringBuilder();
        // Run as root in CI: without this Mosquitto switches to the 'mosquitto' user and cannot read our files.
        c.append("user root\n");
        c.append("per_listener_settings false\n");
        c.append("listener ").append(port).append(" 127.0.0.1\n");
        if (tls != null) {
            c.append("cafile ").append(tls.caCert()).append('\n');
            c.append("certfile ").append(tls.serverCert()).append('\n');
            c.append("keyfile ").append(tls.serverKey()).append('\n');
        }
        c.append("allow_anonymous ").append(anonymous).append('\n');
        if (!users.isEmpty()) {
            Path passwd = dir.resolve("passwd");
            Files.deleteIfExists(passwd);
            boolean first = true;
            for (Map.Entry<String, String> u : users.entrySet()) {
                List<String> cmd = new ArrayList<>(List.of(passwdBinary(), "-b"));
                if (first) {
                    cmd.add("-c");
                }
                cmd.addAll(List.of(passwd.toString(), u.getKey(), u.getValue()));
                run(cmd);
                first = false;
            }
            c.append("password_file ").append(passwd).append('\n');
        }
        if (acl != null) {
            Path aclFile = dir.resolve("acl");
            Files.writeString(aclFile, acl);
            c.append("acl_file ").append(aclFile).append('\n');
        }
        if (persistence) {
            c.append("persistence true\n");
            c.append("persistence_location ").append(dir).append("/\n");
        }
        // Zero-loss tests queue thousands of QoS 1 messages for a subscriber; the default (1000) drops the rest.
        c.append("max_queued_messages 200000\n");
        c.append("log_dest file ").append(dir.resolve("broker.log")).append('\n'); // flushed per line, unlike stdout
        c.append("log_type error\nlog_type warning\nlog_type notice\nlog_type information\nlog_type subscribe\n");
        c.append("connection_messages true\n");
        for (String line : extraLines) {
            c.append(line).append('\n');
        }
        return c.toString();
    }

    /**
     * Graceful stop (SIGTERM): Mosquitto writes its persistence database on the way out.
     *
     * @throws InterruptedException if interrupted while waiting for the process
     */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
            }
        }
        process = null;
    }

    /**
     * @return the broker's log so far (connections, refusals, warnings)
     * @throws IOException if the log cannot be read
     */
    public String log() throws IOException {
        Path log = dir.resolve("broker.log");
        return Files.exists(log) ? Files.readString(log) : "";
    }

    @Override
    public void close() throws IOException {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try (var files = Files.walk(dir)) {
            files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    /**
     * Waits up to 15 s until the broker logged the subscription of a client to a filter.
     *
     * @param clientId the client
     * @param filter the topic filter
     * @param since the log offset (its length before the subscription) to search from
     * @throws IOException if a file or process cannot be written or started
     * @throws InterruptedException if interrupted while waiting
     */
    public void awaitSubscription(String clientId, String filter, int since) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        String line = clientId + " 1 " + filter;
        while (System.nanoTime() < deadline) {
            String log = log();
            if (log.length() > since && log.substring(since).contains(line)) {
                return;
            }
            Thread.sleep(20);
        }
        throw new AssertionError("the broker never logged '" + line + "':\n" + log());
    }

    /**
     * @return a loopback TCP port that was free a moment ago
     * @throws IOException if no socket can be opened
     */
    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    /**
     * Runs a command to completion; fails with its output if it exits non-zero.
     *
     * @param command the command and its arguments
     * @return its output (stdout and stderr)
     * @throws IOException if it cannot start, exits non-zero or takes more than 60 s
     * @throws InterruptedException if interrupted while waiting
     */
    public static String run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }

    /**
     * Makes a CA and a server certificate for 127.0.0.1 and localhost with openssl in {@code dir}.
     */
    /**
     * Makes a CA and a server certificate for 127.0.0.1 and localhost with openssl.
     *
     * @param dir where the keys and certificates go
     * @return the CA certificate, server certificate and key
     * @throws IOException if openssl fails
     * @throws InterruptedException if interrupted while waiting
     */
    public static Tls generateTls(Path dir) throws IOException, InterruptedException {
        requireBinary("/usr/bin/openssl", "openssl");
        Path caKey = dir.resolve("ca.key");
        Path caCert = dir.resolve("ca.crt");
        Path key = dir.resolve("server.key");
        Path csr = dir.resolve("server.csr");
        Path cert = dir.resolve("server.crt");
        Path ext = dir.resolve("server.ext");
        run(List.of("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", caKey.toString(), "-out", caCert.toString(),
                "-days", "2", "-subj", "/CN=PeerLink test CA"));
        run(List.of("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-keyout", key.toString(), "-out", csr.toString(),
                "-subj", "/CN=localhost"));
        Files.writeString(ext, "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
        run(List.of("openssl", "x509", "-req", "-in", csr.toString(), "-CA", caCert.toString(), "-CAkey", caKey.toString(),
                "-CAcreateserial", "-out", cert.toString(), "-days", "2", "-extfile", ext.toString()));
        return new Tls(caCert, cert, key);
    }

    /**
     * A command's exit code and output.
     *
     * @param exitCode the exit code
     * @param output stdout and stderr
     */
    public record Result(int exitCode, String output) {
    }

    /**
     * Runs a command to completion and returns its exit code and output, whatever they are.
     *
     * @param command the command and its arguments
     * @return its exit code and output
     * @throws IOException if it cannot start or takes more than 60 s
     * @throws InterruptedException if interrupted while waiting
     */
    public static Result exec(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out;
        try (var in = p.getInputStream()) {
            out = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException(String.join(" ", command) + " did not finish within 60 s: " + out);
        }
        return new Result(p.exitValue(), out);
    }

    /** @return how long a test waits for a broker-side effect */
    public static Duration timeout() {
        return Duration.ofSeconds(20);
    }
}
