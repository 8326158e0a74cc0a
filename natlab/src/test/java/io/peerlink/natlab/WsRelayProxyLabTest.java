package io.peerlink.natlab;

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

import static io.peerlink.natlab.WsRelayLab.MAIN;
import static io.peerlink.natlab.WsRelayLab.OUTCOME;
import static io.peerlink.natlab.WsRelayLab.STARTUP;
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
 * payload's text (sealed end to end). The proxy restarting in the middle of a 32 MiB transfer
 * does not break it. A proxy that refuses the tunnel, and one that cannot be reached, each end the
 * command with one line naming the proxy. A tinyproxy that wants Basic credentials, and a
 * microsocks (SOCKS5) that wants a user name and password, each swapped in on the same port: the
 * devices given the credentials (environment and {@code --proxy}) link and move data over the
 * relay; missing or wrong ones end in one line; the password appears in no output. The lab
 * set-up is {@link WsRelayLab}'s, shared with the other WebSocket relay labs.
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WsRelayProxyLabTest {
    private static final String PROXY_USER = "lab-user";
    private static final String PROXY_PASSWORD = "Pr0xy-s3cret";
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final String PROXY = "198.51.100.7:3128";

    private NatLab lab;
    private Path work;
    private LabProcess proxy;

    @BeforeAll
    void startLabProxyAndServer() throws Exception {
        WsRelayLab.requireTool("/usr/bin/tinyproxy", "tinyproxy");
        lab = WsRelayLab.onlyAProxyGetsOut("WsProxyLab", 3128);
        work = Files.createDirectories(lab.logDirectory());
        Path allowList = WsRelayLab.allowList(work, "x1", "y1");
        // tinyproxy: CONNECT only to port 8080 (its ConnectPort list), logs every request; the second
        // configuration (same port, swapped in by one test) wants Basic credentials.
        Files.writeString(work.resolve("tinyproxy.conf"), String.join("\n", "Port 3128", "Listen 198.51.100.7", "Timeout 600",
                "MaxClients 50", "ConnectPort 8080", "LogLevel Connect", ""));
        Files.writeString(work.resolve("tinyproxy-auth.conf"), String.join("\n", "Port 3128", "Listen 198.51.100.7", "Timeout 600",
                "MaxClients 50", "ConnectPort 8080", "LogLevel Connect", "BasicAuth " + PROXY_USER + " " + PROXY_PASSWORD, ""));
        proxy = startProxy("tinyproxy.conf");
        WsRelayLab.startServer(lab, List.of(), allowList, "--http-port", "8080");
        WsRelayLab.awaitListening(lab, 3128, proxy);
    }

    private LabProcess startProxy() {
        return startProxy("tinyproxy.conf");
    }

    private LabProcess startProxy(String conf) {
        return lab.start(NatLab.CORE, "tinyproxy", List.of("tinyproxy", "-d", "-c", work.resolve(conf).toString()));
    }

    /** Stops the proxy and waits until its port is free. */
    private void stopProxy() throws InterruptedException {
        proxy.destroy();
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (lab.exec(NatLab.CORE, "ss", "-Hltn", "sport = :3128").contains(":3128") && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
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

        WsRelayLab.Payload payload = WsRelayLab.canaryPayload(work, "payload.bin", "wsproxy", 1 << 20);
        String senderId = WsRelayLab.id(work, "x1");
        String receiverId = WsRelayLab.id(work, "y1");
        Path capture = work.resolve("core-8080.pcapng");
        LabProcess tshark = haveTshark ? WsRelayLab.startCapture(lab, capture, "tcp port 8080") : null;

        Path inbox = Files.createDirectories(work.resolve("inbox"));
        long start = System.nanoTime();
        try (LabProcess listener = startWithEnvProxy("y1", List.of("device", "listen", "-k", work.resolve("y1.key").toString(),
                "-s", CONTROL, "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k",
                    work.resolve("x1.key").toString(), "-s", CONTROL, "--proxy", PROXY, "--to", receiverId, "-f",
                    payload.file().toString(), "--no-progress", "--timeout", "20", "--linger", "3000"))) {
                String moved = WsRelayLab.relayedTransfer("WsRelayProxyLabTest", listener, client, "198.51.100.1:8080", senderId,
                        receiverId, payload);
                System.out.printf("WsRelayProxyLabTest: %s; %.1f s from the listener's start%n", moved, (System.nanoTime() - start) / 1e9);
            }
        }
        // Both control connections went through the proxy: two tunnels to the server in its log.
        List<String> log = proxyLog();
        long tunnels = log.stream().filter(l -> l.contains("CONNECT 198.51.100.1:8080")).count();
        System.out.println("WsRelayProxyLabTest: tinyproxy logged " + tunnels + " CONNECT 198.51.100.1:8080");
        assertTrue(tunnels >= 2, "tinyproxy tunnelled both devices' control connections: " + log);
        if (tshark == null) {
            Assumptions.abort("tshark is missing (apt-get install tshark): the transfer passed, the capture check did not run");
        }
        Thread.sleep(500);
        tshark.destroy();
        int packets = WsRelayLab.count(lab, capture, "tcp.len > 0");
        int frames = WsRelayLab.count(lab, capture, "frame contains \"" + senderId + "\"");
        int canaries = WsRelayLab.count(lab, capture, "frame contains \"" + payload.canary() + "\"");
        System.out.println("WsRelayProxyLabTest: " + capture.getFileName() + ": " + packets
                + " TCP segments with data on port 8080 (proxy to server), " + frames + " holding the sender's ID, canary in " + canaries);
        assertTrue(packets >= 500, "the capture holds the relayed transfer: " + packets + " segments");
        assertTrue(frames >= 100, "relay frames are readable in the capture: " + frames);
        assertEquals(0, canaries, "the payload's text appears between the proxy and the server");
    }

    /**
     * The proxy is stopped mid-transfer (both devices' control connections and with them the
     * WebSocket relay drop) and started again: both devices reconnect through it, report their
     * link, and the transfer completes byte-exact over the relay of the new connections.
     */
    @Test
    void aRelayedTransferSurvivesTheProxyRestarting() throws Exception {
        // 32 MiB: at the relay's default 8 MiB/s per link the transfer lasts at least 4 s.
        byte[] data = new byte[32 << 20];
        new java.util.Random(7).nextBytes(data);
        Path payload = work.resolve("payload-32m.bin");
        Files.write(payload, data);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        String receiverId = DeviceIdentity.loadOrCreate(work.resolve("y1.key")).id().toString();
        Path inbox = Files.createDirectories(work.resolve("inbox-restart"));
        try (LabProcess listener = startWithEnvProxy("y1", List.of("device", "listen", "-k", work.resolve("y1.key").toString(),
                "-s", CONTROL, "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k",
                    work.resolve("x1.key").toString(), "-s", CONTROL, "--proxy", PROXY, "--to", receiverId, "-f",
                    payload.toString(), "--no-progress", "--timeout", "20"))) {
                String outcome = client.awaitLine(l -> l.startsWith("path ") || l.startsWith("unreachable")
                        || l.startsWith("error"), OUTCOME);
                assertTrue(outcome.startsWith("path RELAY wsrelay://"), "linked over the WebSocket relay: " + outcome);
                Thread.sleep(1000);
                assertTrue(client.lines().stream().noneMatch(l -> l.startsWith("sent ")), "the transfer ended before the restart");
                long stopped = System.nanoTime();
                proxy.destroy();
                Thread.sleep(500);
                proxy = startProxy();
                WsRelayLab.awaitListening(lab, 3128, proxy);
                System.out.printf("WsRelayProxyLabTest: proxy down for %.0f ms mid-transfer%n", (System.nanoTime() - stopped) / 1e6);
                String sent = client.awaitLine(l -> l.startsWith("sent ") || l.startsWith("error"), OUTCOME);
                String received = listener.awaitLine(l -> l.startsWith("received ") || l.startsWith("error"), OUTCOME);
                System.out.printf("WsRelayProxyLabTest: after the proxy restart: %s; %s; %.1f s after the stop (load %s)%n", sent,
                        received, (System.nanoTime() - stopped) / 1e9, Files.readString(Path.of("/proc/loadavg")).trim());
                assertTrue(sent.contains("sha256=" + sha), sent);
                assertTrue(received.contains(" " + data.length + " bytes sha256=" + sha), received);
                assertEquals(0, client.waitFor(OUTCOME), "sender exit code");
            }
        }
        long tunnels = proxyLog().stream().filter(l -> l.contains("CONNECT 198.51.100.1:8080")).count();
        assertTrue(tunnels >= 2, "both devices reconnected through the restarted proxy: " + proxyLog());
    }

    /**
     * The proxy wants Basic credentials: without them, and with a wrong password, the command ends
     * with one line saying so (never printing the password); with them, given in
     * {@code HTTP_PROXY} to the listener and in {@code --proxy} to the sender, both register
     * through it and move 256 KiB over the WebSocket relay byte-exact.
     */
    @Test
    void aProxyThatWantsCredentialsGetsThem() throws Exception {
        stopProxy();
        proxy = startProxy("tinyproxy-auth.conf");
        try {
            WsRelayLab.awaitListening(lab, 3128, proxy);
            String receiverId = WsRelayLab.id(work, "y1");
            try (LabProcess none = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                    "-s", CONTROL, "--proxy", PROXY, "--to", receiverId, "-f", work.resolve("allow-list").toString(), "--no-progress",
                    "--timeout", "5"))) {
                String line = none.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
                System.out.println("WsRelayProxyLabTest: no credentials: " + line);
                assertTrue(line.contains("the HTTP proxy " + PROXY + " wants credentials (HTTP 407): give them as "
                        + "http://user:password@host:port in --proxy"), line);
                assertEquals(3, none.waitFor(OUTCOME), "exit code: unreachable");
            }
            List<String> wrongEnv = new ArrayList<>(List.of("env", "HTTP_PROXY=http://" + PROXY_USER + ":not-" + PROXY_PASSWORD + "@"
                    + PROXY + "/"));
            wrongEnv.addAll(NatLab.javaCommand(MAIN, List.of(), List.of("device", "send", "-v", "-k", work.resolve("x1.key").toString(),
                    "-s", CONTROL, "--to", receiverId, "-f", work.resolve("allow-list").toString(), "--no-progress", "--timeout", "5")));
            try (LabProcess wrong = lab.start("x1", "java-wrong-password", wrongEnv)) {
                String line = wrong.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
                System.out.println("WsRelayProxyLabTest: wrong password: " + line);
                assertTrue(line.contains("the HTTP proxy " + PROXY + " rejected the credentials of user '" + PROXY_USER + "' (HTTP 401 to "
                        + "CONNECT): check the user name and password"), line);
                assertEquals(3, wrong.waitFor(OUTCOME), "exit code: unreachable");
                assertFalse(allOutput(wrong).contains(PROXY_PASSWORD), "the password is printed: " + allOutput(wrong));
            }

            transferWithCredentials("HTTP_PROXY=http://", "http://", "auth");
            long tunnels = proxyLog().stream().filter(l -> l.contains("CONNECT 198.51.100.1:8080")).count();
            assertTrue(tunnels >= 2, "both devices tunnelled through the proxy that wants credentials: " + proxyLog());
        } finally {
            stopProxy();
            proxy = startProxy();
            WsRelayLab.awaitListening(lab, 3128, proxy);
        }
    }

    /**
     * y1 listens with its proxy and credentials in the environment ({@code envPrefix} +
     * user:password@proxy), x1 sends 256 KiB with them in {@code --proxy}; the transfer goes over
     * the WebSocket relay byte-exact and neither prints the password.
     */
    private void transferWithCredentials(String envPrefix, String flagScheme, String tag) throws Exception {
        String senderId = WsRelayLab.id(work, "x1");
        String receiverId = WsRelayLab.id(work, "y1");
        String credentials = PROXY_USER + ":" + PROXY_PASSWORD + "@" + PROXY;
        WsRelayLab.Payload payload = WsRelayLab.canaryPayload(work, "payload-" + tag + ".bin", "wsproxy-" + tag, 256 << 10);
        Path inbox = Files.createDirectories(work.resolve("inbox-" + tag));
        List<String> listen = new ArrayList<>(List.of("env", envPrefix + credentials));
        listen.addAll(NatLab.javaCommand(MAIN, List.of(), List.of("device", "listen", "-v", "-k", work.resolve("y1.key").toString(),
                "-s", CONTROL, "-d", inbox.toString(), "--links", "1")));
        try (LabProcess listener = lab.start("y1", "java-" + tag + "-listen", listen)) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-v", "-k", work.resolve("x1.key").toString(),
                    "-s", CONTROL, "--proxy", flagScheme + credentials, "--to", receiverId, "-f", payload.file().toString(),
                    "--no-progress", "--timeout", "20", "--linger", "2000"))) {
                String moved = WsRelayLab.relayedTransfer("WsRelayProxyLabTest (" + tag + ")", listener, client, "198.51.100.1:8080",
                        senderId, receiverId, payload);
                System.out.println("WsRelayProxyLabTest: " + tag + ": " + moved);
                assertFalse(allOutput(client).contains(PROXY_PASSWORD), "the password is printed");
            }
            assertFalse(allOutput(listener).contains(PROXY_PASSWORD), "the password is printed");
        }
    }

    /**
     * A SOCKS5 proxy (a real microsocks, user name and password required) swapped in on the same
     * port: y1 gets it from {@code ALL_PROXY=socks5://...}, x1 from {@code --proxy socks5://...};
     * both link over the WebSocket relay and move 256 KiB byte-exact; a wrong password ends in
     * one line.
     */
    @Test
    void aSocks5ProxyWithCredentials() throws Exception {
        WsRelayLab.requireTool("/usr/bin/microsocks", "microsocks");
        stopProxy();
        proxy = lab.start(NatLab.CORE, "microsocks", List.of("microsocks", "-i", "198.51.100.7", "-p", "3128", "-u", PROXY_USER, "-P",
                PROXY_PASSWORD));
        try {
            WsRelayLab.awaitListening(lab, 3128, proxy);
            try (LabProcess wrong = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                    "-s", CONTROL, "--proxy", "socks5://" + PROXY_USER + ":wrong@" + PROXY, "--to", WsRelayLab.id(work, "y1"), "-f",
                    work.resolve("allow-list").toString(), "--no-progress", "--timeout", "5"))) {
                String line = wrong.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
                System.out.println("WsRelayProxyLabTest: SOCKS5, wrong password: " + line);
                assertTrue(line.contains("the SOCKS5 proxy " + PROXY + " rejected the credentials of user '" + PROXY_USER + "'"), line);
                assertEquals(3, wrong.waitFor(OUTCOME), "exit code: unreachable");
            }
            transferWithCredentials("ALL_PROXY=socks5://", "socks5://", "socks5");
        } finally {
            stopProxy();
            proxy = startProxy();
            WsRelayLab.awaitListening(lab, 3128, proxy);
        }
    }

    private static String allOutput(LabProcess p) throws java.io.IOException {
        String err = Files.exists(p.stderrFile()) ? Files.readString(p.stderrFile()) : "";
        return String.join("\n", p.lines()) + "\n" + err;
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
}
