package io.peerlink.natlab;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static io.peerlink.natlab.WsRelayLab.MAIN;
import static io.peerlink.natlab.WsRelayLab.OUTCOME;
import static io.peerlink.natlab.WsRelayLab.STARTUP;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Behind a TLS-inspecting proxy (docs/relay.md, "Through a TLS-inspecting proxy"): the two sites
 * of {@link WsRelayLab#onlyAProxyGetsOut} reach only a real <b>mitmproxy</b> (Debian
 * {@code mitmproxy}, {@code mitmdump} in the core at 198.51.100.7:3128), which terminates every
 * {@code CONNECT}ed TLS connection with a certificate its own CA signs for the target, opens its
 * own TLS connection to the server ({@code wss://198.51.100.1:8443}, self-signed) and passes the
 * WebSocket on, message by message. An addon in the proxy appends every WebSocket message it
 * decrypted to a file: what the proxy can read.
 *
 * <ul>
 *   <li>Without {@code --rendezvous-ca} a device refuses the proxy's certificate and ends with one
 *       line naming the issuer and the flag.</li>
 *   <li>With the proxy's CA, both devices register through it, link over the WebSocket relay and
 *       move 1 MiB byte-exact; the proxy's decrypted view holds the signalling (the devices' IDs)
 *       and the relayed datagrams, but not the payload's text: link payloads stay sealed end to
 *       end (Noise), whatever the proxy decrypts.</li>
 * </ul>
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WsRelayTlsInspectionLabTest {
    private static final String CONTROL = "wss://198.51.100.1:8443/peerlink/v1";
    private static final String PROXY = "198.51.100.7:3128";
    private static final String STORE_PASSWORD = "lab-tls-password";

    private NatLab lab;
    private Path work;
    private Path proxyCa;
    private Path decrypted;

    @BeforeAll
    void startLabProxyAndServer() throws Exception {
        WsRelayLab.requireTool("/usr/bin/mitmdump", "mitmproxy");
        lab = WsRelayLab.onlyAProxyGetsOut("WsTlsLab", 3128);
        work = Files.createDirectories(lab.logDirectory());
        Path allowList = WsRelayLab.allowList(work, "x1", "y1");

        // The server's own self-signed certificate; only the proxy talks to it (and does not check it).
        Path keyStore = work.resolve("server.p12");
        Files.deleteIfExists(keyStore);
        Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
                "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "server", "-dname", "CN=peerlink-lab-rendezvous", "-validity", "2",
                "-storetype", "PKCS12", "-keystore", keyStore.toString(), "-storepass", STORE_PASSWORD, "-keypass", STORE_PASSWORD,
                "-ext", "SAN=ip:198.51.100.1").redirectErrorStream(true).start();
        String out = new String(keytool.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, keytool.waitFor(), "keytool: " + out);
        WsRelayLab.startServer(lab, List.of("env", "PEERLINK_TLS_PASSWORD=" + STORE_PASSWORD), allowList, "--http-port", "8443",
                "--tls-keystore", keyStore.toString());

        // mitmproxy: its CA (created in confdir at first start), upstream certificates not checked
        // (--ssl-insecure: the lab server is self-signed), every decrypted WebSocket message appended to a file.
        Path confdir = Files.createDirectories(work.resolve("mitmproxy"));
        decrypted = work.resolve("mitmproxy-decrypted-websocket.bin");
        Files.deleteIfExists(decrypted);
        Path addon = work.resolve("dump_websocket.py");
        Files.writeString(addon, String.join("\n",
                "# Appends the content of every WebSocket message mitmproxy decrypted, both directions.",
                "def websocket_message(flow):",
                "    with open(" + pythonString(decrypted.toString()) + ", 'ab') as f:",
                "        f.write(flow.websocket.messages[-1].content)",
                ""));
        LabProcess proxy = lab.start(NatLab.CORE, "mitmdump", List.of("env", "HOME=" + confdir, "mitmdump", "-q", "--listen-host",
                "198.51.100.7", "--listen-port", "3128", "--set", "confdir=" + confdir, "--ssl-insecure", "-s", addon.toString()));
        WsRelayLab.awaitListening(lab, 3128, proxy);
        proxyCa = confdir.resolve("mitmproxy-ca-cert.pem");
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (!Files.exists(proxyCa) && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertTrue(Files.exists(proxyCa), "mitmproxy wrote its CA: " + proxyCa + " " + proxy.lines());
    }

    private static String pythonString(String s) {
        return "'" + s.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    @AfterAll
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    /** A device command with HTTPS_PROXY naming the proxy. */
    private LabProcess startWithEnvProxy(String node, List<String> args) {
        List<String> command = new ArrayList<>(List.of("env", "HTTPS_PROXY=http://" + PROXY));
        command.addAll(NatLab.javaCommand(MAIN, List.of(), args));
        return lab.start(node, "java-https-proxy", command);
    }

    @Test
    void withoutTheProxysCaTheDeviceNamesTheCertificateProblemAndTheFlag() throws Exception {
        try (LabProcess client = startWithEnvProxy("x1", List.of("device", "send", "-k", work.resolve("x1.key").toString(), "-s",
                CONTROL, "--to", WsRelayLab.id(work, "y1"), "-f", work.resolve("allow-list").toString(), "--no-progress",
                "--timeout", "10"))) {
            String line = client.awaitLine(l -> l.startsWith("unreachable") || l.startsWith("error") || l.startsWith("path "), OUTCOME);
            System.out.println("WsRelayTlsInspectionLabTest: without the CA: " + line);
            assertTrue(line.contains("the TLS certificate 198.51.100.1 presented is not trusted (no trusted certificate authority "
                    + "issued it; issuer 'O=mitmproxy,CN=mitmproxy')"), line);
            assertTrue(line.contains("trust its CA with --rendezvous-ca <ca.pem>"), line);
            assertEquals(3, client.waitFor(OUTCOME), "exit code: unreachable");
            assertFalse(String.join("\n", client.lines()).contains("\tat "), "no stack trace");
        }
    }

    @Test
    void withTheProxysCaDevicesLinkOverTheRelayAndTheProxySeesNoPayload() throws Exception {
        WsRelayLab.Payload payload = WsRelayLab.canaryPayload(work, "payload.bin", "wstls", 1 << 20);
        String senderId = WsRelayLab.id(work, "x1");
        String receiverId = WsRelayLab.id(work, "y1");
        Path inbox = Files.createDirectories(work.resolve("inbox"));
        long start = System.nanoTime();
        try (LabProcess listener = startWithEnvProxy("y1", List.of("device", "listen", "-k", work.resolve("y1.key").toString(),
                "-s", CONTROL, "--rendezvous-ca", proxyCa.toString(), "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("x1", MAIN, List.of("device", "send", "-k", work.resolve("x1.key").toString(),
                    "-s", CONTROL, "--proxy", PROXY, "--rendezvous-ca", proxyCa.toString(), "--to", receiverId, "-f",
                    payload.file().toString(), "--no-progress", "--timeout", "20", "--linger", "3000"))) {
                String moved = WsRelayLab.relayedTransfer("WsRelayTlsInspectionLabTest", listener, client, "198.51.100.1:8443", senderId,
                        receiverId, payload);
                System.out.printf("WsRelayTlsInspectionLabTest: %s; %.1f s from the listener's start (load %s)%n", moved,
                        (System.nanoTime() - start) / 1e9, Files.readString(Path.of("/proc/loadavg")).trim());
            }
        }
        Thread.sleep(500);
        assertTrue(Files.exists(decrypted), "the proxy decrypted no WebSocket message: " + decrypted);
        String seen = Files.readString(decrypted, StandardCharsets.ISO_8859_1);
        int ids = occurrences(seen, senderId);
        int canaries = occurrences(seen, payload.canary());
        System.out.println("WsRelayTlsInspectionLabTest: the proxy decrypted " + seen.length() + " bytes of WebSocket messages; the "
                + "sender's ID in them " + ids + " times, the payload's canary " + canaries + " times");
        assertTrue(seen.length() >= payload.size(), "the relayed transfer passed through the proxy's decrypted view: " + seen.length());
        assertTrue(ids >= 2, "the proxy reads the signalling (the sender's device ID): " + ids);
        assertEquals(0, canaries, "the payload's text is readable inside the TLS-inspecting proxy");
    }

    private static int occurrences(String haystack, String needle) {
        int n = 0;
        for (int i = haystack.indexOf(needle); i >= 0; i = haystack.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }
}
