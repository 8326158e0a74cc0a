package io.peerlink.natlab;

import io.peerlink.cli.Main;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The last resort behind an HTTP proxy (docs/relay.md, "Through an HTTP proxy"): two sites whose
 * NATs forward nothing but TCP to a real HTTP proxy (tinyproxy, in the core at 198.51.100.7:3128;
 * UDP, ICMP and TCP to the server itself dropped). One device is told the proxy with
 * {@code --proxy}, the other through {@code HTTP_PROXY}; both reach the rendezvous through
 * {@code CONNECT} tunnels, link over the WebSocket relay and move 1 MiB byte-exact; the proxy's log
 * holds both tunnels, and a capture of the proxy-to-server leg holds the relay frames but not the
 * payload's text (sealed end to end). A proxy that refuses the tunnel, and one that cannot be
 * reached, each end the command with one line naming the proxy.
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WsRelayProxyLabTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration OUTCOME = Duration.ofSeconds(90);
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final String PROXY = "198.51.100.7:3128";
    private static final String MAIN = Main.class.getName();

    private NatLab lab;
    private Path work;
    private LabProcess proxy;

    @BeforeAll
    void startLabProxyAndServer() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/tinyproxy"))) {
            if (NatLabEnvironment.underCi()) {
                throw new IllegalStateException("tinyproxy is missing (Debian package tinyproxy; .ci/run installs it)");
            }
            Assumptions.abort("tinyproxy is missing (apt-get install tinyproxy)");
        }
        lab = NatLab.builder().name("WsProxyLab")
                .site("px", NatKind.PORT_RESTRICTED).device("x1", "px")
                .site("py", NatKind.SYMMETRIC).device("y1", "py")
                .build();
        work = Files.createDirectories(lab.logDirectory());
        for (String site : List.of("px", "py")) {
            lab.onlyTcpTo(site, lab.coreAddress(7), 3128);
        }
        StringBuilder allow = new StringBuilder();
        for (String d : List.of("x1", "y1")) {
            allow.append(DeviceIdentity.loadOrCreate(work.resolve(d + ".key")).id()).append(" lab\n");
        }
        Path allowList = work.resolve("allow-list");
        Files.writeString(allowList, allow);
        // tinyproxy: CONNECT only to port 8080 (its ConnectPort list), logs every request.
        Path conf = work.resolve("tinyproxy.conf");
        Files.writeString(conf, String.join("\n", "Port 3128", "Listen 198.51.100.7", "Timeout 600", "MaxClients 50",
                "ConnectPort 8080", "LogLevel Connect", ""));
        proxy = lab.start(NatLab.CORE, "tinyproxy", List.of("tinyproxy", "-d", "-c", conf.toString()));
        lab.startJava(NatLab.CORE, MAIN, List.of("server", "--host", "198.51.100.1", "--http-port", "8080",
                "--stun-port", "3478", "--allow-list", allowList.toString()))
                .awaitLine(l -> l.startsWith("server "), STARTUP);
        awaitProxyListening();
    }

    private void awaitProxyListening() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (lab.exec(NatLab.CORE, "ss", "-Hltn", "sport = :3128").contains("3128")) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("tinyproxy does not listen on " + PROXY + ": " + proxy.lines() + " " + proxy.stderrFile());
    }

    @AfterAll
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    /** A device command whose HTTP_PROXY names the proxy (no --proxy flag). */
    private LabProcess startWithEnvProxy(String node, List<String> args) {
        List<String> command = new ArrayList<>(List.of("env", "HTTP_PROXY=http://" + PROXY + "/", "NO_PROXY=localhost"));
        command.addAll(NatLab.javaCommand(MAIN, List.of(), args));
        return lab.start(node, "java-http-proxy", command);
    }

    @Test
    void devicesWhoseOnlyWayOutIsAnHttpProxyLinkOverTheWebSocketRelay() throws Exception {
        boolean haveTshark = Files.isExecutable(Path.of("/usr/bin/tshark"));
        if (!haveTshark && NatLabEnvironment.underCi()) {
            throw new IllegalStateException("tshark is missing (Debian package tshark; .ci/run installs it)");
        }
        // Direct to the server is blocked: without the proxy the device cannot register.
        try (LabProcess direct = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                "-s", CONTROL, "--to", DeviceIdentity.loadOrCreate(work.resolve("y1.key")).id().toString(), "-f",
                work.resolve("allow-list").toString(), "--no-progress", "--timeout", "5"))) {
            String blocked = direct.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
            System.out.println("WsRelayProxyLabTest: without the proxy: " + blocked);
            assertFalse(blocked.startsWith("path "), "the site lets the device reach the server directly: " + blocked);
            direct.waitFor(OUTCOME);
        }

        String canary = "CANARY-wsproxy-" + Long.toHexString(System.nanoTime()) + "|";
        byte[] unit = canary.getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = unit[i % unit.length];
        }
        Path payload = work.resolve("payload.bin");
        Files.write(payload, data);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        String senderId = DeviceIdentity.loadOrCreate(work.resolve("x1.key")).id().toString();
        String receiverId = DeviceIdentity.loadOrCreate(work.resolve("y1.key")).id().toString();

        List<LabProcess> captures = new ArrayList<>();
        Path capture = work.resolve("core-8080.pcapng");
        if (haveTshark) {
            Files.deleteIfExists(capture);
            captures.add(lab.start(NatLab.CORE, "tshark", List.of("tshark", "-q", "-i", "any", "-f", "tcp port 8080",
                    "-w", capture.toString())));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!(Files.exists(capture) && Files.size(capture) > 0) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(capture) && Files.size(capture) > 0, "capture started: " + capture);
            Thread.sleep(500);
        }

        Path inbox = Files.createDirectories(work.resolve("inbox"));
        long start = System.nanoTime();
        try (LabProcess listener = startWithEnvProxy("y1", List.of("device", "listen", "-k", work.resolve("y1.key").toString(),
                "-s", CONTROL, "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k",
                    work.resolve("x1.key").toString(), "-s", CONTROL, "--proxy", PROXY, "--to", receiverId, "-f",
                    payload.toString(), "--no-progress", "--timeout", "20", "--linger", "3000"))) {
                String outcome = client.awaitLine(l -> l.startsWith("path ") || l.startsWith("unreachable")
                        || l.startsWith("error"), OUTCOME);
                System.out.println("WsRelayProxyLabTest: " + outcome);
                assertTrue(outcome.startsWith("path RELAY wsrelay://198.51.100.1:8080/" + senderId + " -> wsrelay://198.51.100.1:8080/"
                        + receiverId), "linked over the WebSocket relay: " + outcome);
                String sent = client.awaitLine(l -> l.startsWith("sent ") || l.startsWith("error"), OUTCOME);
                assertTrue(sent.contains("sha256=" + sha), sent);
                String received = listener.awaitLine(l -> l.startsWith("received ") || l.startsWith("error"), OUTCOME);
                assertTrue(received.contains(" 1048576 bytes sha256=" + sha), received);
                System.out.printf("WsRelayProxyLabTest: %s; %s; %.1f s from the listener's start%n", sent, received,
                        (System.nanoTime() - start) / 1e9);
                String finalPath = client.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
                String listenerFinal = listener.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
                assertTrue(finalPath.startsWith("path-final RELAY wsrelay://"), finalPath);
                assertTrue(listenerFinal.startsWith("path-final RELAY wsrelay://"), listenerFinal);
                assertEquals(0, client.waitFor(OUTCOME), "sender exit code");
            }
        }
        // Both control connections went through the proxy: two tunnels to the server in its log.
        List<String> log = proxyLog();
        long tunnels = log.stream().filter(l -> l.contains("CONNECT 198.51.100.1:8080")).count();
        System.out.println("WsRelayProxyLabTest: tinyproxy logged " + tunnels + " CONNECT 198.51.100.1:8080");
        assertTrue(tunnels >= 2, "tinyproxy tunnelled both devices' control connections: " + log);
        if (!haveTshark) {
            Assumptions.abort("tshark is missing (apt-get install tshark): the transfer passed, the capture check did not run");
        }
        Thread.sleep(500);
        captures.forEach(LabProcess::destroy);
        int packets = count(capture, "tcp.len > 0");
        int frames = count(capture, "frame contains \"" + senderId + "\"");
        int canaries = count(capture, "frame contains \"" + canary + "\"");
        System.out.println("WsRelayProxyLabTest: " + capture.getFileName() + ": " + packets
                + " TCP segments with data on port 8080 (proxy to server), " + frames + " holding the sender's ID, canary in " + canaries);
        assertTrue(packets >= 500, "the capture holds the relayed transfer: " + packets + " segments");
        assertTrue(frames >= 100, "relay frames are readable in the capture: " + frames);
        assertEquals(0, canaries, "the payload's text appears between the proxy and the server");
    }

    @Test
    void aProxyThatRefusesTheTunnelIsNamedInOneLine() throws Exception {
        // tinyproxy tunnels only to port 8080 (ConnectPort): CONNECT to 8081 is answered 403.
        try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                "-s", "ws://198.51.100.1:8081/peerlink/v1", "--proxy", PROXY, "--to",
                DeviceIdentity.loadOrCreate(work.resolve("y1.key")).id().toString(), "-f", work.resolve("allow-list").toString(),
                "--no-progress", "--timeout", "5"))) {
            String line = client.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
            System.out.println("WsRelayProxyLabTest: refused: " + line);
            assertTrue(line.contains("the HTTP proxy " + PROXY + " refused to tunnel to 198.51.100.1:8081 (HTTP 403 to CONNECT)"), line);
            assertEquals(3, client.waitFor(OUTCOME), "exit code: unreachable");
            assertFalse(String.join("\n", client.lines()).contains("\tat "), "no stack trace");
        }
    }

    @Test
    void anUnreachableProxyIsNamedInOneLine() throws Exception {
        // The site drops TCP to any other port: the proxy connect times out.
        try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                "-s", CONTROL, "--proxy", "198.51.100.7:3129", "--to",
                DeviceIdentity.loadOrCreate(work.resolve("y1.key")).id().toString(), "-f", work.resolve("allow-list").toString(),
                "--no-progress", "--timeout", "30"))) {
            String line = client.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
            System.out.println("WsRelayProxyLabTest: unreachable proxy: " + line);
            assertTrue(line.contains("no answer from the HTTP proxy 198.51.100.7:3129 within 10 s"), line);
            assertEquals(3, client.waitFor(OUTCOME), "exit code: unreachable");
        }
    }

    /** tinyproxy's log (it writes to stdout or stderr in the foreground, by version). */
    private List<String> proxyLog() throws java.io.IOException {
        List<String> all = new ArrayList<>(proxy.lines());
        if (Files.exists(proxy.stderrFile())) {
            all.addAll(Files.readAllLines(proxy.stderrFile(), StandardCharsets.UTF_8));
        }
        return all;
    }

    private int count(Path capture, String filter) {
        String out = lab.exec(NatLab.CORE, "tshark", "-r", capture.toString(), "-Y", filter, "-T", "fields", "-e", "frame.number");
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }
}
