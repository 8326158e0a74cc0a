package io.peerlink.natlab;

import io.peerlink.PathKind;
import io.peerlink.cli.Main;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The NAT matrix: for every pair of NAT kinds, two devices — separate JVMs driven through the
 * {@code peerlink} CLI in their own namespaces — link through the rendezvous server in the core
 * namespace and move 1 MiB, checked by SHA-256. Every pair links, in every trial: paths race
 * (docs/protocol-punching.md, "Path racing"), the link opens on the first that completes, and the
 * test asserts the path it ends on once the background checks concluded — direct where a punch
 * works, the embedded TURN relay otherwise (symmetric pairs, and a site whose NAT drops all UDP,
 * which allocates over TCP) — in every trial. A punch that loses (its timing on a loaded machine)
 * leaves the link on the relay, which re-punches in the background about 40 s later and moves to
 * the direct path (docs/protocol-punching.md, "Re-punch"): the sender of a punchable pair lingers
 * up to {@value #DIRECT_LINGER_MS} ms, until 1 s after its link runs directly. {@code
 * -Dnatlab.trials=N} sets the trials per pair (default 2 in the test suite).
 */
@NatLabTest
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class NatMatrixTest {
    private static final int TRIALS = Integer.getInteger("natlab.trials", 2);
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration OUTCOME = Duration.ofSeconds(60);
    /** The sender's linger for a punchable pair: long enough for two re-punch rounds (35 s and 70 s after the lost punch). */
    private static final long DIRECT_LINGER_MS = 120_000;
    /** The devices' -v logs carry the time of day (ms), to read a punch's timing. */
    private static final List<String> JVM_FLAGS = List.of("-Djava.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s: %5$s%6$s%n");
    private static final Duration FINAL = OUTCOME.plusMillis(DIRECT_LINGER_MS);
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final String MAIN = Main.class.getName();

    private NatLab lab;
    private Path work;
    private Path payload;
    private String payloadSha;
    private final Map<String, Path> keys = new LinkedHashMap<>();
    private final Map<String, String> ids = new LinkedHashMap<>();

    @BeforeAll
    void startLabAndServer() throws Exception {
        lab = NatLab.builder().name("NatMatrix")
                .site("conea", NatKind.PORT_RESTRICTED).device("c1", "conea")
                .site("coneb", NatKind.PORT_RESTRICTED).device("c2", "coneb")
                .site("syma", NatKind.SYMMETRIC).device("s1", "syma")
                .site("symb", NatKind.SYMMETRIC).device("s2", "symb")
                .site("fulla", NatKind.FULL_CONE).device("f1", "fulla")
                .site("fullb", NatKind.FULL_CONE).device("f2", "fullb")
                .site("dbla", NatKind.DOUBLE_NAT).device("d1", "dbla")
                .site("dblb", NatKind.DOUBLE_NAT).device("d2", "dblb")
                .site("lan", NatKind.PORT_RESTRICTED).device("l1", "lan").device("l2", "lan")
                .site("hp", NatKind.HAIRPIN).device("h1", "hp").device("h2", "hp")
                .site("udpb", NatKind.PORT_RESTRICTED).device("u1", "udpb")
                .build();
        lab.dropUdp("udpb");
        work = Files.createDirectories(lab.logDirectory());
        StringBuilder allow = new StringBuilder("# NAT matrix devices\n");
        for (String d : List.of("c1", "c2", "s1", "s2", "f1", "f2", "d1", "d2", "l1", "l2", "h1", "h2", "u1")) {
            Path key = work.resolve(d + ".key");
            keys.put(d, key);
            String id = DeviceIdentity.loadOrCreate(key).id().toString();
            ids.put(d, id);
            allow.append(id).append(" lab\n");
        }
        Path allowList = work.resolve("allow-list");
        Files.writeString(allowList, allow);
        payload = work.resolve("payload.bin");
        byte[] data = new byte[1 << 20];
        new Random(2026).nextBytes(data);
        Files.write(payload, data);
        payloadSha = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
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

    /** name, sender, receiver, expected final path, publish host candidates. */
    Stream<Arguments> pairs() {
        String only = System.getProperty("natlab.only", "");
        return allPairs().filter(a -> ((String) a.get()[0]).contains(only));
    }

    private static Stream<Arguments> allPairs() {
        return Stream.of(
                Arguments.of("same LAN", "l1", "l2", PathKind.DIRECT_PRIVATE, true),
                Arguments.of("cone <-> cone", "c1", "c2", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("cone <-> full cone", "c1", "f1", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("full cone <-> full cone", "f1", "f2", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("symmetric <-> full cone", "s1", "f2", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("cone <-> double NAT", "c2", "d1", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("double NAT <-> double NAT", "d1", "d2", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("full cone <-> double NAT", "f2", "d2", PathKind.DIRECT_PUBLIC, true),
                Arguments.of("hairpin, public candidates only", "h1", "h2", PathKind.DIRECT_PUBLIC, false),
                Arguments.of("symmetric <-> symmetric", "s1", "s2", PathKind.RELAY, true),
                Arguments.of("symmetric <-> port-restricted cone", "s2", "c1", PathKind.RELAY, true),
                Arguments.of("symmetric <-> double NAT", "s1", "d2", PathKind.RELAY, true),
                Arguments.of("UDP blocked <-> cone", "u1", "c2", PathKind.RELAY, true),
                Arguments.of("symmetric <-> UDP blocked", "s2", "u1", PathKind.RELAY, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("pairs")
    void linksAndTransfersOneMebibyte(String name, String sender, String receiver, PathKind expected, boolean hosts)
            throws IOException {
        for (int trial = 1; trial <= TRIALS; trial++) {
            transfer(name + " trial " + trial + ": ", sender, receiver, expected, hosts, () -> { }, outcome -> { });
        }
    }

    /**
     * The punch loses for certain, and in the way docs/natlab.md describes: until the link is up,
     * coneb's NAT drops everything its device sends towards another site (its openers and
     * probes), so c1's probes reach that NAT unsolicited and leave the clashing UNREPLIED conntrack
     * entry; the filter is lifted as soon as the link opens, on the relay, while the first check
     * still runs. The link must re-punch in the background once the entry expired, move to the
     * direct path (path-changed) and end there on both sides, the 1 MiB intact.
     */
    @org.junit.jupiter.api.Test
    void aLostPunchIsRetriedInTheBackgroundAndTheLinkMovesToTheDirectPath() throws IOException {
        String[] filter = {"FORWARD", "-o", "wan", "-p", "udp", "-d", "203.0.113.0/24", "-j", "DROP"};
        long[] dropped = new long[1];
        try {
            String changes = transfer("lost punch, cone <-> cone: ", "c1", "c2", PathKind.DIRECT_PUBLIC, true,
                    () -> iptables("coneb", "-I", filter),
                    outcome -> {
                        dropped[0] = packets(lab.exec("coneb", "iptables", "-w", "-L", "FORWARD", "-v", "-n", "-x"), "203.0.113.0/24");
                        iptables("coneb", "-D", filter);
                        assertTrue(outcome.startsWith("path RELAY "), "the punch was meant to lose: " + outcome);
                    });
            System.out.println("natlab matrix: lost punch: coneb dropped " + dropped[0] + " datagrams towards c1's site before the link opened");
            assertTrue(dropped[0] > 0, "the filter dropped nothing");
            assertTrue(changes.contains("path-changed DIRECT_PUBLIC "), "no move to the direct path: " + changes);
        } finally {
            List<String> delete = new ArrayList<>(List.of("iptables", "-w", "-D"));
            delete.addAll(List.of(filter));
            lab.tryExec("coneb", delete.toArray(String[]::new)); // already gone unless the test failed early
        }
    }

    /**
     * The lossy case: 5 % random loss in both directions on conea's WAN ({@code iptables -m
     * statistic}, {@link NatLab#dropProbability}); the pair still links directly and moves 1 MiB
     * byte-exact (SHA-256 on both sides), and the drop counters prove the loss happened.
     */
    @org.junit.jupiter.api.Test
    void fivePercentLossStillGivesAByteExactTransfer() throws IOException {
        lab.dropProbability("conea", 0.05);
        try {
            transfer("5 % loss, cone <-> cone: ", "c1", "c2", PathKind.DIRECT_PUBLIC, true, () -> { }, outcome -> { });
            long drops = packets(lab.exec("conea", "iptables", "-w", "-L", "NATLAB_LOSS", "-v", "-n", "-x"), "");
            System.out.println("natlab matrix: 5 % loss: conea's loss rules dropped " + drops + " datagrams");
            assertTrue(drops > 0, "no datagram was dropped");
        } finally {
            lab.dropProbability("conea", 0);
        }
    }

    /**
     * Diagnosis of a punch that lost: every 2 s, the conntrack tables of both devices' NATs (the
     * carrier-grade NAT too behind a double NAT), appended to {@code conntrack-*.log} in the lab's
     * log directory, until interrupted.
     */
    private Thread recordConntrack(String where, String sender, String receiver) throws IOException {
        List<String> nodes = new ArrayList<>();
        for (String device : List.of(sender, receiver)) {
            String site = lab.siteOf(device);
            nodes.add(site);
            if (lab.kind(site) == NatKind.DOUBLE_NAT) {
                nodes.add(site + ".cgn");
            }
        }
        Path log = Files.createTempFile(work, "conntrack-" + sender + "-" + receiver + "-", ".log");
        Thread t = new Thread(() -> {
            long start = System.nanoTime();
            while (!Thread.currentThread().isInterrupted()) {
                StringBuilder b = new StringBuilder("== " + where + (System.nanoTime() - start) / 1_000_000 + " ms\n");
                for (String node : nodes) {
                    b.append("-- ").append(node).append('\n')
                            .append(lab.tryExec(node, "cat", "/proc/net/nf_conntrack").stdout());
                }
                try {
                    Files.writeString(log, b, java.nio.file.StandardOpenOption.APPEND);
                    Thread.sleep(2000);
                } catch (IOException | InterruptedException e) {
                    return;
                }
            }
        }, "conntrack-" + sender);
        t.setDaemon(true);
        t.start();
        return t;
    }

    private void iptables(String node, String op, String[] rule) {
        List<String> cmd = new ArrayList<>(List.of("iptables", "-w", op));
        cmd.addAll(List.of(rule));
        lab.exec(node, cmd.toArray(String[]::new));
    }

    /** @return the packet count summed over the DROP lines of {@code iptables -L -v -n -x} that contain {@code match} */
    private static long packets(String listing, String match) {
        long sum = 0;
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("^\\s*(\\d+)\\s+\\d+\\s+DROP\\b.*$", java.util.regex.Pattern.MULTILINE)
                .matcher(listing);
        while (m.find()) {
            if (m.group().contains(match)) {
                sum += Long.parseLong(m.group(1));
            }
        }
        return sum;
    }

    /**
     * One trial: a listener on {@code receiver}, a sender on {@code sender}, 1 MiB checked on both
     * sides, both ending on {@code expected}.
     *
     * @param afterRegistered runs once the listener registered, before the sender starts
     * @param afterOpened gets the sender's {@code path} line
     * @return the sender's path-changed lines, joined
     */
    private String transfer(String where, String sender, String receiver, PathKind expected, boolean hosts,
                              Runnable afterRegistered, java.util.function.Consumer<String> afterOpened) throws IOException {
        Path inbox = Files.createTempDirectory(work, "inbox-" + receiver + "-" + sender + "-");
        List<String> listen = new ArrayList<>(List.of("device", "listen", "-v", "-k", keys.get(receiver).toString(),
                "-s", CONTROL, "-d", inbox.toString(), "--links", "1"));
        List<String> send = new ArrayList<>(List.of("device", "send", "-v", "-k", keys.get(sender).toString(), "-s", CONTROL,
                "--to", ids.get(receiver), "-f", payload.toString(), "--no-progress", "--timeout", "10"));
        if (expected == PathKind.RELAY) {
            send.addAll(List.of("--linger", "4000"));
        } else {
            send.addAll(List.of("--linger", Long.toString(DIRECT_LINGER_MS), "--until-direct"));
        }
        if (!hosts) {
            listen.add("--no-host-candidates");
            send.add("--no-host-candidates");
        }
        try (LabProcess listener = lab.startJava(receiver, MAIN, JVM_FLAGS, listen)) {
            listener.awaitLine(l -> l.startsWith("registered"), STARTUP);
            afterRegistered.run();
            try (LabProcess client = lab.startJava(sender, MAIN, JVM_FLAGS, send)) {
                String outcome = client.awaitLine(l -> l.startsWith("path ") || l.startsWith("unreachable")
                        || l.startsWith("error"), OUTCOME);
                afterOpened.accept(outcome);
                Thread conntrack = null;
                if (expected != PathKind.RELAY && outcome.startsWith("path RELAY ")) {
                    conntrack = recordConntrack(where, sender, receiver);
                }
                try {
                    assertTrue(outcome.startsWith("path "), where + "expected a link, got: " + outcome);
                    String sent = client.awaitLine(l -> l.startsWith("sent ") || l.startsWith("error"), OUTCOME);
                    assertTrue(sent.contains("sha256=" + payloadSha), where + sent);
                    String received = listener.awaitLine(l -> l.startsWith("received ") || l.startsWith("error"), OUTCOME);
                    assertTrue(received.contains(" 1048576 bytes sha256=" + payloadSha), where + received);
                    String finalPath = client.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), FINAL);
                    String listenerFinal = listener.awaitLine(l -> l.startsWith("path-final ") || l.startsWith("error"), OUTCOME);
                    String changes = String.join("; ", client.lines().stream().filter(l -> l.startsWith("path-changed ")).toList());
                    System.out.println("natlab matrix: " + where + "opened " + kind(outcome) + ", "
                            + (changes.isEmpty() ? "no path change" : changes) + ", ended " + kind(finalPath)
                            + " / receiver " + kind(listenerFinal));
                    assertTrue(finalPath.startsWith("path-final " + expected + " "), where + "expected to end on " + expected
                            + ", opened on: " + outcome + ", ended on: " + finalPath);
                    assertTrue(listenerFinal.startsWith("path-final " + expected + " "), where + "receiver ended on " + listenerFinal);
                    assertEquals(0, client.waitFor(OUTCOME), where + "sender exit code");
                    return changes;
                } finally {
                    if (conntrack != null) {
                        conntrack.interrupt();
                    }
                }
            }
        }
    }

    /** @return the second word of a {@code path}/{@code path-final} line (the kind), or the line */
    private static String kind(String line) {
        String[] words = line.split(" ");
        return words.length > 1 ? words[1] : line;
    }
}
