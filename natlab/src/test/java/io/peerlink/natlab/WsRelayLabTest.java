package io.peerlink.natlab;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static io.peerlink.natlab.WsRelayLab.MAIN;
import static io.peerlink.natlab.WsRelayLab.OUTCOME;
import static io.peerlink.natlab.WsRelayLab.STARTUP;
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
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";

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
        WsRelayLab.startServer(lab, List.of(), WsRelayLab.allowList(work, "w1", "c1"), "--http-port", "8080");
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
        WsRelayLab.Payload payload = WsRelayLab.canaryPayload(work, "payload.bin", "wsrelay", 1 << 20);
        String senderId = WsRelayLab.id(work, "w1");
        String receiverId = WsRelayLab.id(work, "c1");
        Path capture = work.resolve("core.pcapng");
        LabProcess tshark = haveTshark ? WsRelayLab.startCapture(lab, capture, "tcp port 8080") : null;

        Path inbox = Files.createDirectories(work.resolve("inbox"));
        try (LabProcess listener = lab.startJava("c1", MAIN, List.of("device", "listen", "-v", "-k",
                work.resolve("c1.key").toString(), "-s", CONTROL, "-d", inbox.toString(), "--links", "1"))) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            try (LabProcess client = lab.startJava("w1", MAIN, List.of("device", "send", "-v", "-k",
                    work.resolve("w1.key").toString(), "-s", CONTROL, "--to", receiverId, "-f", payload.file().toString(),
                    "--no-progress", "--timeout", "20", "--linger", "4000"))) {
                WsRelayLab.relayedTransfer("WsRelayLabTest", listener, client, "198.51.100.1:8080", senderId, receiverId, payload);
            }
        }
        if (tshark == null) {
            Assumptions.abort("tshark is missing (apt-get install tshark): the transfer passed, the capture check did not run");
        }
        Thread.sleep(500);
        tshark.destroy();
        int packets = WsRelayLab.count(lab, capture, "tcp.len > 0");
        int frames = WsRelayLab.count(lab, capture, "frame contains \"" + senderId + "\"");
        int canaries = WsRelayLab.count(lab, capture, "frame contains \"" + payload.canary() + "\"");
        System.out.println("WsRelayLabTest: " + capture.getFileName() + ": " + packets + " TCP segments with data on port 8080, "
                + frames + " holding the sender's device ID (relay frame headers, hello), canary in " + canaries);
        assertTrue(packets >= 500, "the capture holds the relayed transfer: " + packets + " segments");
        assertTrue(frames >= 100, "relay frames to the receiver (unmasked, server to device) are readable in the capture: " + frames);
        assertEquals(0, canaries, "the payload's text appears in the server's capture");
    }
}
