package io.peerlink.testkit;


import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Assumptions;

import static org.junit.jupiter.api.Assertions.fail;

/**
 * A real coturn {@code turnserver} on loopback, started per test class with a fresh random
 * static-auth-secret and free ports. Under {@code CI=true} a missing binary fails; otherwise
 * the calling test is skipped with a message.
 */
public final class Coturn implements AutoCloseable {
    /** The realm coturn is started with. */
    public static final String REALM = "peerlink.test";

    private final String secret;
    private final int port;
    private final Process process;
    private final Path dir;

    private Coturn(String secret, int port, Process process, Path dir) {
        this.secret = secret;
        this.port = port;
        this.process = process;
        this.dir = dir;
    }

    /**
     * Skips the calling test (fails it under {@code CI=true}) if a coturn binary is missing.
     *
     * @param name the binary, e.g. {@code turnserver} or {@code turnutils_uclient}
     * @return its path
     */
    public static String binaryOrSkip(String name) {
        for (String d : System.getenv().getOrDefault("PATH", "/usr/bin").split(":")) {
            Path p = Path.of(d, name);
            if (Files.isExecutable(p)) {
                return p.toString();
            }
        }
        if ("true".equals(System.getenv("CI"))) {
            fail(name + " not found on PATH; CI must install the Debian package coturn");
        }
        Assumptions.abort(name + " not found on PATH: install the Debian package coturn to run this interop test");
        return null;
    }

    /**
     * Starts coturn on free loopback ports with a fresh random static-auth-secret and waits until it answers STUN.
     *
     * @param extra further {@code turnserver} arguments
     * @return the running server
     * @throws IOException if a file or process cannot be written or started
     * @throws InterruptedException if interrupted while waiting
     */
    public static Coturn start(List<String> extra) throws IOException, InterruptedException {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        return start(extra, HexFormat.of().formatHex(raw), freeUdpAndTcpPort());
    }

    /**
     * Stops this coturn and starts a fresh one (no allocations) with the same secret on the same port: a relay restart.
     *
     * @return the new server
     * @throws IOException if a file or process cannot be written or started
     * @throws InterruptedException if interrupted while waiting
     */
    public Coturn restart() throws IOException, InterruptedException {
        close();
        return start(List.of(), secret, port);
    }

    private static Coturn start(List<String> extra, String secret, int port) throws IOException, InterruptedException {
        String binary = binaryOrSkip("turnserver");
        Path dir = Files.createTempDirectory("coturn");
        List<String> cmd = new ArrayList<>(List.of(binary, "-n", "--use-auth-secret", "--static-auth-secret=" + secret,
                "--realm=" + REALM, "--listening-ip=127.0.0.1", "--listening-port=" + port, "--relay-ip=127.0.0.1",
                "--allow-loopback-peers", "--no-cli", "--no-dtls", "--no-rfc5780", "--no-software-attribute",
                "--db=" + dir.resolve("turndb"), "--pidfile=" + dir.resolve("pid"),
                "--log-file=" + dir.resolve("turn.log"), "--simple-log", "--no-stdout-log"));
        if (extra.isEmpty()) {
            cmd.add("--no-tls");
        }
        cmd.addAll(extra);
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(dir.resolve("stdout").toFile()).start();
        Coturn coturn = new Coturn(secret, port, process, dir);
        coturn.awaitReady();
        return coturn;
    }

    /**
     * @return a loopback port that was free for both UDP and TCP a moment ago
     * @throws IOException if no socket can be opened
     */
    public static int freeUdpAndTcpPort() throws IOException {
        for (int attempt = 0; attempt < 50; attempt++) {
            try (DatagramSocket udp = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                int port = udp.getLocalPort();
                try (ServerSocket tcp = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
                    assert tcp.isBound();
                    return port;
                } catch (IOException taken) {
                    // Try another.
                }
            }
        }
        throw new IOException("no port free for both UDP and TCP");
    }

    /** @return the static-auth-secret this coturn was started with */
    public String secret() {
        return secret;
    }

    /** @return the UDP and TCP listening port */
    public int port() {
        return port;
    }

    /** @return the server's loopback address and port */
    public InetSocketAddress address() {
        return new InetSocketAddress(InetAddress.getLoopbackAddress(), port);
    }

    /** Polls with STUN Binding requests until coturn answers (it needs a moment to open listeners). */
    private void awaitReady() throws IOException, InterruptedException {
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            probe.setSoTimeout(100);
            for (int i = 0; i < 100; i++) {
                if (!process.isAlive()) {
                    fail("turnserver exited with " + process.exitValue() + ": " + Files.readString(dir.resolve("stdout")) + log());
                }
                // A STUN Binding request (RFC 8489): type 0x0001, length 0, magic cookie, transaction ID.
                ByteBuffer req = ByteBuffer.allocate(20).putShort((short) 0x0001).putShort((short) 0).putInt(0x2112A442);
                byte[] txid = new byte[12];
                new SecureRandom().nextBytes(txid);
                req.put(txid);
                probe.send(new DatagramPacket(req.array(), 20, address()));
                byte[] buf = new byte[1500];
                DatagramPacket answer = new DatagramPacket(buf, buf.length);
                try {
                    probe.receive(answer);
                    return;
                } catch (SocketTimeoutException notYet) {
                    Thread.sleep(50);
                }
            }
        }
        fail("turnserver did not answer STUN within 15 s: " + log());
    }

    /** @return coturn's log so far */
    public String log() {
        try {
            return Files.readString(dir.resolve("turn.log"));
        } catch (IOException e) {
            return "(no log: " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        process.destroy();
        try {
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
