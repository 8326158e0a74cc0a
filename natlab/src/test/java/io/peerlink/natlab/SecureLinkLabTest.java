package io.peerlink.natlab;

import io.peerlink.natlab.tools.CorruptingForwarder;
import io.peerlink.natlab.tools.SecureLinkPeer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Secure links through a real NAT under hostile network conditions (issue 6's lab targets): a
 * device behind a port-restricted NAT dials a listener on the lab's public core, through
 * {@code iptables -m statistic} loss on the NAT's WAN, through a corrupting forwarder, and under a
 * {@code tshark} capture of every interface on the path. Devices are separate JVMs on the public
 * API ({@link SecureLinkPeer}).
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SecureLinkLabTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final String PEER = SecureLinkPeer.class.getName();
    private static final Pattern DONE = Pattern.compile("handshakes ok=(\\d+) failed=(\\d+) ms=(\\d+)");

    private NatLab lab;
    private LabProcess listener;
    private String listenerAt;
    private String listenerId;

    @BeforeAll
    void startLabAndListener() {
        lab = NatLab.builder().name("SecureLinkLab")
                .site("a", NatKind.PORT_RESTRICTED).device("dev1", "a")
                .build();
        listener = lab.startJava(NatLab.CORE, PEER, List.of("listen", lab.coreAddress(2).getHostAddress()));
        String line = listener.awaitLine(l -> l.startsWith("listening "), STARTUP);
        String[] parts = line.split(" ");
        listenerAt = parts[1];
        listenerId = parts[2];
    }

    @AfterAll
    void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    @BeforeEach
    void noLoss() {
        lab.dropProbability("a", 0);
    }

    /** @return min / p50 / p90 / max of the "link N handshake MS" lines */
    private static String spread(LabProcess dialer) {
        long[] ms = dialer.lines().stream().filter(l -> l.startsWith("link ") && l.contains(" handshake "))
                .mapToLong(l -> Long.parseLong(l.substring(l.lastIndexOf(' ') + 1))).sorted().toArray();
        if (ms.length == 0) {
            return "none";
        }
        return "min " + ms[0] + " / p50 " + ms[ms.length / 2] + " / p90 " + ms[(int) (ms.length * 0.9)]
                + " / max " + ms[ms.length - 1] + " ms";
    }

    private long lossDrops() {
        long drops = 0;
        Matcher m = Pattern.compile("^\\s*(\\d+)\\s+\\d+\\s+DROP", Pattern.MULTILINE)
                .matcher(lab.exec("a", "iptables", "-w", "-L", "NATLAB_LOSS", "-v", "-n", "-x"));
        while (m.find()) {
            drops += Long.parseLong(m.group(1));
        }
        return drops;
    }

    @Test
    void fiftyHandshakesCompleteWithoutLoss() {
        // The baseline of the next test, same lab and listener.
        LabProcess dialer = lab.startJava("dev1", PEER, List.of("dial", lab.deviceAddress("dev1").getHostAddress(),
                listenerAt, listenerId, "50", "50", "30"));
        String done = dialer.awaitLine(l -> l.startsWith("handshakes "), Duration.ofSeconds(120));
        System.out.println("SecureLinkLabTest: 50 handshakes without loss: " + done + ", per link " + spread(dialer));
        assertTrue(done.startsWith("handshakes ok=50 failed=0 "), done);
        dialer.writeLine("echo");
        assertEquals("echoes ok=50 of 50", dialer.awaitLine(l -> l.startsWith("echoes "), Duration.ofSeconds(60)));
        assertEquals(0, dialer.waitFor(Duration.ofSeconds(30)));
    }

    @Test
    void fiftyHandshakesCompleteUnderThirtyPercentLossEachWay() {
        lab.dropProbability("a", 0.30);
        // All fifty at once, a 30-second connect timeout each: the phase lasts as long as the slowest.
        LabProcess dialer = lab.startJava("dev1", PEER, List.of("dial", lab.deviceAddress("dev1").getHostAddress(),
                listenerAt, listenerId, "50", "50", "30"));
        String done = dialer.awaitLine(l -> l.startsWith("handshakes "), Duration.ofSeconds(120));
        long drops = lossDrops();
        Matcher m = DONE.matcher(done);
        assertTrue(m.matches(), done);
        System.out.println("SecureLinkLabTest: 50 handshakes under 30 % loss each way: " + done + ", per link " + spread(dialer) + ", " + drops
                + " datagrams dropped by the NAT's loss rules");
        assertEquals("50", m.group(1), "links completed: " + done + "\n" + String.join("\n", dialer.lines()));
        assertEquals("0", m.group(2), done);
        assertTrue(drops > 50, "the loss rules dropped " + drops + " datagrams");
        // Every link is a working session. (Without the loss: a message's retransmissions back off
        // exponentially, so at 30 % loss each way a few of fifty echoes would take tens of seconds.)
        lab.dropProbability("a", 0);
        dialer.writeLine("echo");
        assertEquals("echoes ok=50 of 50", dialer.awaitLine(l -> l.startsWith("echoes "), Duration.ofSeconds(60)));
        assertEquals(0, dialer.waitFor(Duration.ofSeconds(30)));
    }

    private void transferTwoMebibytes(String to, String what) {
        LabProcess sender = lab.startJava("dev1", PEER, List.of("send", lab.deviceAddress("dev1").getHostAddress(),
                to, listenerId, String.valueOf(2 << 20), "60"));
        String sent = sender.awaitLine(l -> l.startsWith("sent "), STARTUP);
        String sha = sent.substring(sent.indexOf("sha256=") + 7);
        String confirmed = sender.awaitLine(l -> l.startsWith("confirmed "), Duration.ofSeconds(180));
        System.out.println("SecureLinkLabTest: 2 MiB " + what + ": " + confirmed);
        assertTrue(confirmed.startsWith("confirmed " + (2 << 20) + " " + sha + " "), what + ": sent " + sha + ", " + confirmed);
        // The answer is the listener's own count and hash of what the link delivered to it.
        listener.awaitLine(l -> l.startsWith("received " + (2 << 20) + " sha256=" + sha + " from "), Duration.ofSeconds(10));
        assertEquals(0, sender.waitFor(Duration.ofSeconds(30)));
    }

    @Test
    void twoMebibytesArriveByteExactWithoutImpairment() {
        transferTwoMebibytes(listenerAt, "without impairment (baseline)");
    }

    @Test
    void twoMebibytesArriveByteExactAtTwoPercentLoss() {
        lab.dropProbability("a", 0.02);
        transferTwoMebibytes(listenerAt, "at 2 % loss each way");
        assertTrue(lossDrops() > 0, "the loss rules dropped datagrams");
    }

    @Test
    void twoMebibytesArriveByteExactAtTwoPercentCorruption() {
        LabProcess forwarder = lab.startJava(NatLab.CORE, CorruptingForwarder.class.getName(),
                List.of(lab.coreAddress(3).getHostAddress() + ":0", listenerAt, "0.02", "6"));
        String at = forwarder.awaitLine(l -> l.startsWith("forwarding "), STARTUP).substring("forwarding ".length());
        transferTwoMebibytes(at, "at 2 % corruption each way");
        forwarder.awaitLine(l -> l.startsWith("stats ") && !l.endsWith("corrupted=0"), Duration.ofSeconds(5));
        try {
            Thread.sleep(1500); // the next once-a-second line counts the whole transfer
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        String stats = forwarder.lines().stream().filter(l -> l.startsWith("stats ")).reduce((x, y) -> y).orElseThrow();
        System.out.println("SecureLinkLabTest: corrupting forwarder " + stats);
        forwarder.destroy();
    }

    @Test
    void aCanarySentOverALinkNeverAppearsInACaptureOfTheLab() throws Exception {
        boolean haveTshark = Files.isExecutable(Path.of("/usr/bin/tshark"));
        if (!haveTshark) {
            if (NatLabEnvironment.underCi()) {
                throw new IllegalStateException("tshark is missing (Debian package tshark; .ci/run installs it)");
            }
            Assumptions.abort("tshark is missing: apt-get install tshark");
        }
        String canary = "CANARY-peerlink-" + Long.toHexString(System.nanoTime());
        String control = "PLAINTEXT-CONTROL-" + Long.toHexString(System.nanoTime());
        Path dir = Files.createDirectories(lab.logDirectory().resolve("captures"));
        List<LabProcess> captures = new ArrayList<>();
        List<Path> files = new ArrayList<>();
        for (String node : List.of(NatLab.CORE, "a", "dev1")) {
            Path file = dir.resolve(node + ".pcapng");
            Files.deleteIfExists(file);
            files.add(file);
            captures.add(lab.start(node, "tshark", List.of("tshark", "-q", "-i", "any", "-w", file.toString())));
        }
        for (Path file : files) {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (!(Files.exists(file) && Files.size(file) > 0) && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertTrue(Files.exists(file) && Files.size(file) > 0, "capture started: " + file);
        }
        Thread.sleep(500);
        LabProcess sender = lab.startJava("dev1", PEER, List.of("canary", lab.deviceAddress("dev1").getHostAddress(),
                listenerAt, listenerId, canary, "20", "30"));
        assertEquals("canary echoed 20", sender.awaitLine(l -> l.startsWith("canary "), STARTUP));
        assertEquals(0, sender.waitFor(Duration.ofSeconds(30)));
        // The positive control: the same capture and search find a string sent in clear.
        lab.exec("dev1", "bash", "-c", "printf %s " + control + " > /dev/udp/" + listenerAt.replace(':', '/'));
        Thread.sleep(1000);
        captures.forEach(LabProcess::destroy);
        for (Path file : files) {
            int packets = count(file, "udp");
            int canaries = count(file, "frame contains \"" + canary + "\"");
            int controls = count(file, "frame contains \"" + control + "\"");
            System.out.println("SecureLinkLabTest: " + file.getFileName() + ": " + packets + " UDP packets, canary in "
                    + canaries + ", clear-text control in " + controls);
            assertTrue(packets >= 40, file + " captured the link: " + packets + " UDP packets");
            assertEquals(0, canaries, "the canary appears in " + file);
            assertTrue(controls >= 1, "the clear-text control appears in " + file);
        }
    }

    private int count(Path capture, String filter) {
        String out = lab.exec(NatLab.CORE, "tshark", "-r", capture.toString(), "-Y", filter, "-T", "fields", "-e", "frame.number");
        return (int) out.lines().filter(l -> !l.isBlank()).count();
    }
}
