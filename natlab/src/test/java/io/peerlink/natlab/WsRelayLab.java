package io.peerlink.natlab;

import io.peerlink.cli.Main;
import io.peerlink.protocol.identity.DeviceIdentity;

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
 * What the WebSocket relay's lab tests share ({@link WsRelayLabTest}, {@link WsRelayProxyLabTest},
 * {@link WsRelayTlsInspectionLabTest}): the allow list and the reference server in the core, a
 * payload of one repeated canary text, a tshark capture, and one relayed transfer from a sender to
 * a listener with its outcome checked (link on {@code wsrelay}, SHA-256 on both sides, final path
 * still the relay).
 */
final class WsRelayLab {
    static final Duration STARTUP = Duration.ofSeconds(60);
    static final Duration OUTCOME = Duration.ofSeconds(90);
    static final String MAIN = Main.class.getName();

    private WsRelayLab() {
    }

    /** Aborts the class if {@code executable} is missing, or fails under CI (where .ci/run installs {@code debianPackage}). */
    static void requireTool(String executable, String debianPackage) {
        if (!Files.isExecutable(Path.of(executable))) {
            String name = Path.of(executable).getFileName().toString();
            if (NatLabEnvironment.underCi()) {
                throw new IllegalStateException(name + " is missing (Debian package " + debianPackage + "; .ci/run installs it)");
            }
            org.junit.jupiter.api.Assumptions.abort(name + " is missing (apt-get install " + debianPackage + ")");
        }
    }

    /** Writes an allow list admitting {@code devices} (their keys under {@code work}, created if missing). */
    static Path allowList(Path work, String... devices) throws java.io.IOException {
        StringBuilder allow = new StringBuilder();
        for (String d : devices) {
            allow.append(id(work, d)).append(" lab\n");
        }
        Path allowList = work.resolve("allow-list");
        Files.writeString(allowList, allow);
        return allowList;
    }

    /** The device ID of {@code device}'s key under {@code work}. */
    static String id(Path work, String device) throws java.io.IOException {
        return DeviceIdentity.loadOrCreate(work.resolve(device + ".key")).id().toString();
    }

    /** Starts the reference server in the core on 198.51.100.1 and waits for its start line. */
    static LabProcess startServer(NatLab lab, List<String> envPrefix, Path allowList, String... extra) {
        List<String> args = new ArrayList<>(List.of("server", "--host", "198.51.100.1", "--stun-port", "3478",
                "--allow-list", allowList.toString()));
        args.addAll(List.of(extra));
        LabProcess server;
        if (envPrefix.isEmpty()) {
            server = lab.startJava(NatLab.CORE, MAIN, args);
        } else {
            List<String> command = new ArrayList<>(envPrefix);
            command.addAll(NatLab.javaCommand(MAIN, List.of(), args));
            server = lab.start(NatLab.CORE, "server", command);
        }
        server.awaitLine(l -> l.startsWith("server "), STARTUP);
        return server;
    }

    /** A payload of one text repeated (sent in clear, any segment of it would hold the text whole). */
    record Payload(Path file, String canary, String sha256, int size) {
    }

    static Payload canaryPayload(Path work, String name, String tag, int size) throws Exception {
        String canary = "CANARY-" + tag + "-" + Long.toHexString(System.nanoTime()) + "|";
        byte[] unit = canary.getBytes(StandardCharsets.US_ASCII);
        byte[] data = new byte[size];
        for (int i = 0; i < data.length; i++) {
            data[i] = unit[i % unit.length];
        }
        Path file = work.resolve(name);
        Files.write(file, data);
        return new Payload(file, canary, HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data)), size);
    }

    /** Starts tshark in the core writing {@code capture} and waits until it writes. */
    static LabProcess startCapture(NatLab lab, Path capture, String bpf) throws Exception {
        Files.deleteIfExists(capture);
        LabProcess tshark = lab.start(NatLab.CORE, "tshark", List.of("tshark", "-q", "-i", "any", "-f", bpf, "-w", capture.toString()));
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!(Files.exists(capture) && Files.size(capture) > 0) && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertTrue(Files.exists(capture) && Files.size(capture) > 0, "capture started: " + capture);
        Thread.sleep(500);
        return tshark;
    }

    /** Frames of {@code capture} matching a display filter. */
    static int count(NatLab lab, Path capture, String filter) {
        String out = lab.exec(NatLab.CORE, "tshark", "-r", capture.toString(), "-Y", filter, "-T", "fields", "-e", "frame.number");
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }

    /**
     * Waits for a registered {@code listener} and a started {@code sender} to link over the
     * WebSocket relay of {@code relayAuthority} and move {@code payload} byte-exact, and for both
     * to end on the relay; the sender exits 0.
     *
     * @return the sender's {@code sent} and the listener's {@code received} lines
     */
    static String relayedTransfer(String label, LabProcess listener, LabProcess sender, String relayAuthority, String senderId,
                                  String receiverId, Payload payload) {
        String outcome = sender.awaitLine(l -> l.startsWith("path ") || l.startsWith("unreachable") || l.startsWith("error"), OUTCOME);
        System.out.println(label + ": " + outcome);
        assertTrue(outcome.startsWith("path RELAY wsrelay://" + relayAuthority + "/" + senderId + " -> wsrelay://" + relayAuthority + "/"
                + receiverId), "linked over the WebSocket relay: " + outcome);
        String sent = sender.awaitLine(l -> l.startsWith("sent ") || l.startsWith("error"), OUTCOME);
        assertTrue(sent.contains("sha256=" + payload.sha256()), sent);
        String received = listener.awaitLine(l -> l.startsWith("received ") || l.startsWith("error"), OUTCOME);
        assertTrue(received.contains(" " + payload.size() + " bytes sha256=" + payload.sha256()), received);
        String finalPath = sender.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
        String listenerFinal = listener.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
        System.out.println(label + ": sender " + finalPath + "; receiver " + listenerFinal);
        assertTrue(finalPath.startsWith("path-final RELAY wsrelay://"), finalPath);
        assertTrue(listenerFinal.startsWith("path-final RELAY wsrelay://"), listenerFinal);
        assertEquals(0, sender.waitFor(OUTCOME), "sender exit code");
        return sent + "; " + received;
    }

    /**
     * Two sites whose NATs forward nothing but TCP to {@code 198.51.100.7:port} in the core (UDP,
     * ICMP and TCP to the server dropped): {@code x1} behind a port-restricted NAT at {@code px},
     * {@code y1} behind a symmetric NAT at {@code py}.
     */
    static NatLab onlyAProxyGetsOut(String name, int port) throws Exception {
        NatLab lab = NatLab.builder().name(name)
                .site("px", NatKind.PORT_RESTRICTED).device("x1", "px")
                .site("py", NatKind.SYMMETRIC).device("y1", "py")
                .build();
        for (String site : List.of("px", "py")) {
            lab.onlyTcpTo(site, lab.coreAddress(7), port);
        }
        return lab;
    }

    /** Waits until something in the core listens on TCP {@code port}. */
    static void awaitListening(NatLab lab, int port, LabProcess process) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (System.nanoTime() < deadline) {
            if (lab.exec(NatLab.CORE, "ss", "-Hltn", "sport = :" + port).contains(":" + port)) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError(process + " does not listen on port " + port + ": " + process.lines() + " " + process.stderrFile());
    }
}
