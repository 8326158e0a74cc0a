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
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The last resort (docs/relay.md, "WebSocket relay"): a site whose NAT forwards only TCP to the
 * server's HTTP/WebSocket port — all UDP dropped (no STUN, no punch, no TURN over UDP) and TCP to the
 * TURN port blocked — links to a device behind a cone NAT through the rendezvous WebSocket. Both
 * devices are CLI processes in their own namespaces; the rendezvous server (TURN on) runs in the
 * core. The link opens and ends on RELAY over {@code wsrelay}, 1 MiB arrives byte-exact (SHA-256),
 * and a capture on the server's side holds the relay frames (the sender's device ID in the clear
 * frame header) but never the payload's text: the server relays ciphertext only.
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class WsRelayLabTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration OUTCOME = Duration.ofSeconds(90);
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final String MAIN = Main.class.getName();

    private NatLab lab;
    private Path work;

    @BeforeAll
    void startLabAndServer() throws Exception {
        lab = NatLab.builder().name("WsRelayLab")
                .site("web", NatKind.PORT_RESTRICTED).device("w1", "web")
                .site("cone", NatKind.PORT_RESTRICTED).device("c1", "cone")
                .build();
        lab.onlyTcpPort("web", 8080);
        work = Files.createDirectories(lab.logDirectory());
        StringBuilder allow = new StringBuilder();
        for (String d : List.of("w1", "c1")) {
            allow.append(DeviceIdentity.loadOrCreate(work.resolve(d + ".key")).id()).append(" lab\n");
        }
        Path allowList = work.resolve("allow-list");
        Files.writeString(allowList, allow);
        lab.startJava(NatLab.CORE, MAIN, List.of("server", "--host", "198.51.100.1", "--http-port", "8080",
                "--stun-port", "3478", "--allow-list", allowList.toString()))
                .awaitLine(l -> l.startsWith("server "), STARTUP);
    }

    @AfterAll
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    @Test
    void aSiteWhereOnlyTheWebSocketGetsOutLinksAndMovesOneMebibyteThroughIt() throws Exception {
        boolean haveTshark = Files.isExecutable(Path.of("/usr/bin/tshark"));
        if (!haveTshark && NatLabEnvironment.underCi()) {
            throw new IllegalStateException("tshark is missing (Debian package tshark; .ci/run installs it)");
        }
        // The payload is one text repeated: sent in clear, any frame of it would hold the text whole.
        String canary = "CANARY-wsrelay-" + Long.toHexString(System.nanoTime()) + "|";
        byte[] unit = canary.getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[1 << 20];
        for (int i = 0; i < data.length; i++) {
            data[i] = unit[i % unit.length];
        }
        Path payload = work.resolve("payload.bin");
        Files.write(payload, data);
        String sha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        String senderId = DeviceIdentity.loadOrCreate(work.resolve("w1.key")).id().toString();
        String receiverId = DeviceIdentity.loadOrCreate(work.resolve("c1.key")).id().toString();

        List<LabProcess> captures = new ArrayList<>();
        Path capture = work.resolve("core.pcapng");
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
        try (LabProcess listener = lab.startJava("c1", MAIN, List.of("device", "listen", "-v", "-k",
                work.resolve("c1.key").toString(), "-s", CONTROL, "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("w1", MAIN, List.of("device", "send", "-v", "-k",
                    work.resolve("w1.key").toString(), "-s", CONTROL, "--to", receiverId, "-f", payload.toString(),
                    "--no-progress", "--timeout", "20", "--linger", "4000"))) {
                String outcome = client.awaitLine(l -> l.startsWith("path ") || l.startsWith("unreachable")
                        || l.startsWith("error"), OUTCOME);
                System.out.println("WsRelayLabTest: " + outcome);
                assertTrue(outcome.startsWith("path RELAY wsrelay://198.51.100.1:8080/" + senderId + " -> wsrelay://198.51.100.1:8080/"
                        + receiverId), "linked over the WebSocket relay: " + outcome);
                String sent = client.awaitLine(l -> l.startsWith("sent ") || l.startsWith("error"), OUTCOME);
                assertTrue(sent.contains("sha256=" + sha), sent);
                String received = listener.awaitLine(l -> l.startsWith("received ") || l.startsWith("error"), OUTCOME);
                assertTrue(received.contains(" 1048576 bytes sha256=" + sha), received);
                String finalPath = client.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
                String listenerFinal = listener.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
                System.out.println("WsRelayLabTest: sender " + finalPath + "; receiver " + listenerFinal);
                assertTrue(finalPath.startsWith("path-final RELAY wsrelay://"), finalPath);
                assertTrue(listenerFinal.startsWith("path-final RELAY wsrelay://"), listenerFinal);
                assertEquals(0, client.waitFor(OUTCOME), "sender exit code");
            }
        }
        if (!haveTshark) {
            Assumptions.abort("tshark is missing (apt-get install tshark): the transfer passed, the capture check did not run");
        }
        Thread.sleep(500);
        captures.forEach(LabProcess::destroy);
        int packets = count(capture, "tcp.len > 0");
        int frames = count(capture, "frame contains \"" + senderId + "\"");
        int canaries = count(capture, "frame contains \"" + canary + "\"");
        System.out.println("WsRelayLabTest: " + capture.getFileName() + ": " + packets + " TCP segments with data on port 8080, "
                + frames + " holding the sender's device ID (relay frame headers, hello), canary in " + canaries);
        assertTrue(packets >= 500, "the capture holds the relayed transfer: " + packets + " segments");
        assertTrue(frames >= 100, "relay frames to the receiver (unmasked, server to device) are readable in the capture: " + frames);
        assertEquals(0, canaries, "the payload's text appears in the server's capture");
    }

    private int count(Path capture, String filter) {
        String out = lab.exec(NatLab.CORE, "tshark", "-r", capture.toString(), "-Y", filter, "-T", "fields", "-e", "frame.number");
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }
}
