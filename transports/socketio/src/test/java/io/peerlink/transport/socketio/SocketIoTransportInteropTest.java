package io.peerlink.transport.socketio;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Our Java transport against the official npm {@code socket.io} server running the relay
 * protocol ({@code gateway/src/test/node/relay-server.js}). Needs node and {@code npm ci} in
 * {@code gateway/src/test/node}: skipped without them, failing under {@code CI=true}.
 */
class SocketIoTransportInteropTest {

    private static final Path NODE_DIR = Path.of("../../gateway/src/test/node").toAbsolutePath().normalize();

    private record Received(Endpoint source, byte[] data) {}

    private Process node;
    private int port;
    private final byte[] secret = new byte[32];

    @BeforeEach
    void startNpmServer() throws Exception {
        String problem = null;
        if (!Files.isDirectory(NODE_DIR.resolve("node_modules/socket.io"))) {
            problem = "npm packages missing: run `npm ci` in " + NODE_DIR;
        }
        if (problem == null) {
            try {
                new SecureRandom().nextBytes(secret);
                node = new ProcessBuilder("node", "relay-server.js",
                        "{\"secret\":\"" + Base64.getEncoder().encodeToString(secret) + "\"}")
                        .directory(NODE_DIR.toFile()).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            } catch (IOException e) {
                problem = "node is not installed: " + e.getMessage();
            }
        }
        if (problem != null) {
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError("CI=true but " + problem);
            }
            Assumptions.abort("skipped: " + problem);
        }
        String line = new BufferedReader(new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))
                .readLine();
        assertNotNull(line, "the npm socket.io relay did not start");
        Matcher m = Pattern.compile("\"port\":(\\d+)").matcher(line);
        assertTrue(m.find(), line);
        port = Integer.parseInt(m.group(1));
    }

    @AfterEach
    void stopNpmServer() throws Exception {
        if (node != null) {
            node.getOutputStream().close();
            if (!node.waitFor(10, TimeUnit.SECONDS)) {
                node.destroyForcibly();
            }
        }
    }

    private static DatagramHandler into(BlockingQueue<Received> q) {
        return (source, datagram) -> {
            byte[] b = new byte[datagram.remaining()];
            datagram.get(b);
            q.add(new Received(source, b));
        };
    }

    @Test
    void datagramsBothWaysThroughTheNpmServer() throws Exception {
        URI server = URI.create("http://127.0.0.1:" + port);
        SocketIoTransport a = new SocketIoTransport(server, "alice", secret);
        SocketIoTransport b = new SocketIoTransport(server, "bob", secret);
        BlockingQueue<Received> atA = new LinkedBlockingQueue<>();
        BlockingQueue<Received> atB = new LinkedBlockingQueue<>();
        try {
            a.start(into(atA));
            b.start(into(atB));
            byte[] payload = new byte[16 * 1024];
            new SecureRandom().nextBytes(payload);
            assertTrue(a.send(b.localEndpoint(), ByteBuffer.wrap(payload)));
            Received r = atB.poll(10, TimeUnit.SECONDS);
            assertNotNull(r);
            assertArrayEquals(payload, r.data());
            assertEquals(a.localEndpoint(), r.source());
            assertTrue(b.send(r.source(), ByteBuffer.wrap("pong".getBytes(StandardCharsets.UTF_8))));
            Received back = atA.poll(10, TimeUnit.SECONDS);
            assertNotNull(back);
            assertEquals("pong", new String(back.data(), StandardCharsets.UTF_8));
            assertEquals(b.localEndpoint(), back.source());
        } finally {
            a.destroy();
            b.destroy();
        }
    }

    @Test
    void wrongSecretIsRefusedByTheNpmServer() {
        byte[] wrong = secret.clone();
        wrong[0] ^= 1;
        SocketIoTransport t = new SocketIoTransport(URI.create("http://127.0.0.1:" + port), "mallory", wrong);
        IOException e = assertThrows(IOException.class, () -> t.start((s, d) -> { }));
        assertTrue(e.getMessage().contains("auth-failed"), e.getMessage());
        t.destroy();
    }
}
