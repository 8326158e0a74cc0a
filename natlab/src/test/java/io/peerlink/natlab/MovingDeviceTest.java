package io.peerlink.natlab;

import io.peerlink.cli.Main;
import io.peerlink.natlab.tools.MovingTransferPeer;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A device moves to another network in the middle of a transfer ({@link NatLab#moveDevice}): its
 * interface, address and NAT change while a 16 MiB transfer of 256 numbered messages runs over a
 * rendezvous link. The transfer completes byte-exact with nothing lost, duplicated or reordered,
 * and the link's path changes (docs/protocol-paths.md, "A device changes its address"); the
 * mover registers with the rendezvous again and publishes candidates from the new network. The
 * receiver timestamps every pause in delivery: the one spanning the move is the stall, printed next
 * to the RTT of the path the link ended on.
 */
@NatLabTest
class MovingDeviceTest {
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration TRANSFER = Duration.ofSeconds(180);
    private static final int MESSAGES = 256;
    private static final int SIZE = 64 * 1024;
    /** The move happens once the receiver has this many messages (2 MiB of 16). */
    private static final int MOVE_AFTER = 32;
    private static final Pattern GAP = Pattern.compile("gap ([0-9.]+) before (\\d+) at (\\d+)");
    /** The longest pause in delivery the test accepts at the move. */
    private static final double MAX_STALL_MILLIS = 5_000;
    private static final Pattern RTT = Pattern.compile("rtt-ms=([0-9.]+)");
    /** The longest the link may take from the move to the direct path again. */
    private static final long MAX_MOVE_TO_DIRECT_MILLIS = 10_000;

    @Test
    void aDeviceMovingToAnotherNatSiteKeepsItsTransferToAFullConePeer(NatLab.Builder builder) throws Exception {
        moveDuringTransfer(builder, NatKind.FULL_CONE);
    }

    /**
     * The peer's port-restricted NAT filters the mover's new address, so the link fails over to the
     * relay; the mover sends its fresh candidates over the link, both re-punch towards them
     * (docs/protocol-punching.md, "Fresh candidates") and the link ends on the direct path again,
     * within {@link #MAX_MOVE_TO_DIRECT_MILLIS} of the move.
     */
    @Test
    void aDeviceMovingToAnotherNatSiteKeepsItsTransferToAPortRestrictedPeerAndGetsBackToADirectPath(NatLab.Builder builder)
            throws Exception {
        moveDuringTransfer(builder, NatKind.PORT_RESTRICTED);
    }

    /**
     * The longest the link may take from the new interface being up to the direct path again when
     * the move falls inside the initial direct check. A re-punch that waited for that check would
     * start only after it ended (about 2.5 s after the move here) and the next repetition of the
     * candidates (3.2 s after their announcement); superseding it, the links were direct again
     * 0.40-0.53 s after the interface was up at load average 15-23 on 2 cores, once 2.1 s at 22.
     */
    private static final long MAX_UP_TO_DIRECT_IN_CHECK_MILLIS = 2_500;

    /**
     * The move falls inside the link's initial direct check: the mover starts behind a symmetric
     * NAT, so the punch at introduction cannot succeed and its check runs its whole schedule (3 s
     * after the synchronised start) while the link opens on the relay; the mover moves as soon as
     * the link is open, to a port-restricted site. The fresh candidates it sends over the link
     * supersede that check on both sides (docs/protocol-punching.md, "Fresh candidates"): the
     * re-punch starts at once instead of after the stale check, and both sides run on the direct
     * path within {@link #MAX_UP_TO_DIRECT_IN_CHECK_MILLIS} of the new interface being up.
     */
    @Test
    void aMoveDuringTheInitialDirectCheckRepunchesTowardsTheFreshCandidatesAtOnce(NatLab.Builder builder) throws Exception {
        try (NatLab lab = builder
                .site("home", NatKind.SYMMETRIC).device("mover", "home")
                .site("cafe", NatKind.PORT_RESTRICTED)
                .site("peer", NatKind.PORT_RESTRICTED).device("fixed", "peer")
                .build()) {
            Devices d = startDevices(lab, 64, 16 * 1024);
            String opened = d.sender().awaitLine(l -> l.startsWith("path ") || l.startsWith("Exception"), STARTUP);
            long openedAt = System.currentTimeMillis();
            // A symmetric NAT cannot be punched: the link opens relayed while the direct check runs on.
            assertTrue(opened.startsWith("path RELAY "), "linked on the relay: " + opened);

            long movedAt = System.currentTimeMillis();
            InetAddress moved = lab.moveDevice("mover", "cafe");
            long upAgain = System.currentTimeMillis();
            System.out.println("moved the sender to " + moved + " in " + (upAgain - movedAt) + " ms, "
                    + (movedAt - openedAt) + " ms after the link opened");

            String senderFinal = d.sender().awaitLine(l -> l.startsWith("path-final "), TRANSFER);
            assertEquals(0, d.sender().waitFor(Duration.ofSeconds(30)), "sender exit code");
            String receiverFinal = d.receiver().awaitLine(l -> l.startsWith("path-final "), TRANSFER);
            List<String> changes = new ArrayList<>();
            d.receiver().lines().stream().filter(l -> l.startsWith("path-changed ")).forEach(l -> changes.add("fixed: " + l));
            d.sender().lines().stream().filter(l -> l.startsWith("path-changed ")).forEach(l -> changes.add("mover: " + l));
            assertTrue(changes.stream().noneMatch(l -> l.contains("path-changed DIRECT_PUBLIC ") && !after(l, movedAt)),
                    "no direct path before the move (the move fell inside the initial direct check): " + changes);
            assertTrue(senderFinal.startsWith("path-final DIRECT_PUBLIC "), "the mover's link ends direct: " + senderFinal);
            assertTrue(receiverFinal.startsWith("path-final DIRECT_PUBLIC "), "the fixed device's link ends direct: " + receiverFinal);
            long moverDirect = lastDirectChange(d.sender(), movedAt);
            long fixedDirect = lastDirectChange(d.receiver(), movedAt);
            System.out.printf(Locale.ROOT, "DIRECT-AGAIN-IN-CHECK mover-ms-after-move=%d fixed-ms-after-move=%d "
                            + "(ms after up: %d, %d) move-ms=%d %s%n  changes %s%n",
                    moverDirect - movedAt, fixedDirect - movedAt, moverDirect - upAgain, fixedDirect - upAgain,
                    upAgain - movedAt, loadAverage(), changes);
            assertTrue(moverDirect - upAgain < MAX_UP_TO_DIRECT_IN_CHECK_MILLIS && fixedDirect - upAgain < MAX_UP_TO_DIRECT_IN_CHECK_MILLIS,
                    "direct again " + (moverDirect - upAgain) + " / " + (fixedDirect - upAgain)
                            + " ms after the new interface was up (the re-punch waited for the initial direct check?): " + changes);
        }
    }

    /** The two lab devices, linked through the lab's rendezvous; the sender sends {@code messages} of {@code size} bytes. */
    private record Devices(LabProcess receiver, LabProcess sender) {
    }

    private static Devices startDevices(NatLab lab, int messages, int size) throws Exception {
        Path work = Files.createDirectories(lab.logDirectory());
        Path moverKey = work.resolve("mover.key");
        Path fixedKey = work.resolve("fixed.key");
        String fixedId = DeviceIdentity.loadOrCreate(fixedKey).id().toString();
        Path allow = work.resolve("allow-list");
        Files.writeString(allow, DeviceIdentity.loadOrCreate(moverKey).id() + " lab\n" + fixedId + " lab\n");
        lab.startJava(NatLab.CORE, Main.class.getName(), List.of("server", "--host", "198.51.100.1", "--http-port", "8080",
                "--stun-port", "3478", "--allow-list", allow.toString())).awaitLine(l -> l.startsWith("server "), STARTUP);
        String peerMain = MovingTransferPeer.class.getName();
        // The core's set-up and path events of both devices (validation, failover, moves) go to their .err logs.
        Path logging = work.resolve("logging.properties");
        Files.writeString(logging, String.join("\n", "handlers=java.util.logging.ConsoleHandler",
                "java.util.logging.ConsoleHandler.level=ALL", ".level=INFO",
                "io.peerlink.core.level=FINE", "io.peerlink.relay.level=FINE",
                "java.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%n", ""));
        List<String> jvm = List.of("-Djava.util.logging.config.file=" + logging);
        LabProcess receiver = lab.startJava("fixed", peerMain, jvm, List.of("listen", fixedKey.toString(), CONTROL));
        receiver.awaitLine(l -> l.startsWith("registered "), STARTUP);
        LabProcess sender = lab.startJava("mover", peerMain, jvm, List.of("send", moverKey.toString(), CONTROL, fixedId,
                String.valueOf(messages), String.valueOf(size)));
        return new Devices(receiver, sender);
    }

    private void moveDuringTransfer(NatLab.Builder builder, NatKind peerKind) throws Exception {
        try (NatLab lab = builder
                .site("home", NatKind.PORT_RESTRICTED).device("mover", "home")
                .site("cafe", NatKind.PORT_RESTRICTED)
                .site("peer", peerKind).device("fixed", "peer")
                .build()) {
            Devices devices = startDevices(lab, MESSAGES, SIZE);
            LabProcess receiver = devices.receiver();
            LabProcess sender = devices.sender();
            String opened = sender.awaitLine(l -> l.startsWith("path ") || l.startsWith("Exception"), STARTUP);
            assertTrue(opened.startsWith("path "), "linked: " + opened);
            receiver.awaitLine(l -> l.startsWith("progress ") && Integer.parseInt(l.substring(9)) >= MOVE_AFTER, TRANSFER);

            long movedAt = System.currentTimeMillis();
            InetAddress moved = lab.moveDevice("mover", "cafe");
            long upAgain = System.currentTimeMillis();
            long moveMillis = upAgain - movedAt;
            int receivedAtMove = lastProgress(receiver);
            System.out.println("moved the sender to " + moved + " in " + moveMillis + " ms, after " + receivedAtMove
                    + " of " + MESSAGES + " messages");
            assertTrue(receivedAtMove < MESSAGES, "the move landed mid-transfer: " + receivedAtMove);

            String received = receiver.awaitLine(l -> l.startsWith("received "), TRANSFER);
            String sent = sender.awaitLine(l -> l.startsWith("sent "), TRANSFER);
            String sha = sent.substring(sent.indexOf("sha256=") + 7);
            assertEquals("received " + MESSAGES + " bytes=" + (long) MESSAGES * SIZE + " sha256=" + sha
                    + " lost=0 duplicated=0 reordered=0", received);
            String senderFinal = sender.awaitLine(l -> l.startsWith("path-final "), TRANSFER);
            assertEquals(0, sender.waitFor(Duration.ofSeconds(30)), "sender exit code");
            String receiverFinal = receiver.awaitLine(l -> l.startsWith("path-final "), TRANSFER);

            List<String> changes = new ArrayList<>();
            receiver.lines().stream().filter(l -> l.startsWith("path-changed ")).forEach(l -> changes.add("fixed: " + l));
            sender.lines().stream().filter(l -> l.startsWith("path-changed ")).forEach(l -> changes.add("mover: " + l));
            assertTrue(changes.stream().anyMatch(l -> l.startsWith("fixed: ") && after(l, movedAt)),
                    "the fixed device's link moved after the move: " + changes);

            // The mover's control connection was bound to its old address: it re-registered from the new one.
            assertTrue(sender.lines().stream().anyMatch(l -> l.startsWith("rendezvous REGISTERED at ") && after(l, movedAt)),
                    "the mover registered again after the move: " + sender.lines().stream().filter(l -> l.startsWith("rendezvous ")).toList());

            // It gathered its candidates again from the new network: its new LAN address and, through
            // STUN, its mapping on the new site's NAT (the core's FINE log line of each gathering,
            // written right before the candidates go to the rendezvous).
            String newReflexive = "endpoint=udp://" + lab.publicAddress("cafe").getHostAddress() + ":";
            String newHost = "endpoint=udp://" + moved.getHostAddress() + ":";
            assertTrue(Files.readAllLines(sender.stderrFile()).stream().anyMatch(l -> l.contains(" candidates [")
                            && l.contains(newHost) && l.contains(newReflexive) && l.contains("type=SERVER_REFLEXIVE")),
                    "the mover published candidates from the new network (" + newHost + ", " + newReflexive + ")");

            // The stall: the longest pause in delivery that ended after the move began; and how long
            // after the new interface was up delivery resumed (the part the device's reaction owns).
            // The baseline of the same run: the longest pause before the move (after the first 8
            // messages, which include the link's start).
            double stall = 0;
            double before = 0;
            long resumedAt = 0;
            for (String l : receiver.lines()) {
                Matcher m = GAP.matcher(l);
                if (!m.matches()) {
                    continue;
                }
                double gap = Double.parseDouble(m.group(1));
                if (Long.parseLong(m.group(3)) >= movedAt) {
                    if (gap > stall) {
                        stall = gap;
                        resumedAt = Long.parseLong(m.group(3));
                    }
                } else if (Integer.parseInt(m.group(2)) >= 8) {
                    before = Math.max(before, gap);
                }
            }
            Matcher rtt = RTT.matcher(receiverFinal);
            assertTrue(rtt.find(), receiverFinal);
            System.out.printf(Locale.ROOT, "MOVE peer=%s move-ms=%d stall-ms=%.1f resumed-ms-after-up=%d longest-gap-before-ms=%.1f "
                            + "final-rtt-ms=%s%n  final paths: mover %s%n  fixed %s%n  changes %s%n",
                    peerKind, moveMillis, stall, resumedAt == 0 ? 0 : resumedAt - upAgain, before, rtt.group(1), senderFinal,
                    receiverFinal, changes);
            // Both devices end on the direct path: a full-cone peer follows the new mapping; a
            // port-restricted one gets there by the re-punch towards the candidates the mover sent
            // over the link. The time from the move to each side's last change to DIRECT_PUBLIC:
            assertTrue(senderFinal.startsWith("path-final DIRECT_PUBLIC "), "the mover's link ends direct: " + senderFinal);
            assertTrue(receiverFinal.startsWith("path-final DIRECT_PUBLIC "), "the fixed device's link ends direct: " + receiverFinal);
            long moverDirect = lastDirectChange(sender, movedAt);
            long fixedDirect = lastDirectChange(receiver, movedAt);
            System.out.printf(Locale.ROOT, "DIRECT-AGAIN peer=%s mover-ms-after-move=%d fixed-ms-after-move=%d "
                            + "(ms after up: %d, %d; 0 = stayed or was back on the direct path before the lab's ip commands returned) %s%n",
                    peerKind, moverDirect - movedAt, fixedDirect - movedAt, moverDirect - upAgain, fixedDirect - upAgain, loadAverage());
            assertTrue(moverDirect - movedAt < MAX_MOVE_TO_DIRECT_MILLIS && fixedDirect - movedAt < MAX_MOVE_TO_DIRECT_MILLIS,
                    "direct again " + (moverDirect - movedAt) + " / " + (fixedDirect - movedAt) + " ms after the move: " + changes);
            // Not the target (2 RTTs, not met: docs/benchmarks.md); a bound that catches a link
            // waiting for a periodic check or a backed-off probe timeout (65 s before the device reacted).
            assertTrue(stall < MAX_STALL_MILLIS, "delivery stalled " + stall + " ms at the move");
        }
    }

    /**
     * @return when the process's link last changed to DIRECT_PUBLIC after {@code epochMillis}, or
     *         {@code epochMillis} if it never changed after it (it stayed on the direct path)
     */
    private static long lastDirectChange(LabProcess p, long epochMillis) {
        long last = epochMillis;
        for (String l : p.lines()) {
            if (l.startsWith("path-changed DIRECT_PUBLIC ") && after(l, epochMillis)) {
                last = Long.parseLong(l.substring(l.lastIndexOf(" at ") + 4).strip());
            }
        }
        return last;
    }

    private static String loadAverage() {
        try {
            return "load " + Files.readString(Path.of("/proc/loadavg")).strip();
        } catch (java.io.IOException e) {
            return "load unknown";
        }
    }

    private static boolean after(String pathChanged, long epochMillis) {
        String at = pathChanged.substring(pathChanged.lastIndexOf(" at ") + 4).strip();
        return Long.parseLong(at) >= epochMillis;
    }

    private static int lastProgress(LabProcess p) {
        int last = 0;
        for (String l : p.lines()) {
            if (l.startsWith("progress ")) {
                last = Integer.parseInt(l.substring(9));
            }
        }
        return last;
    }
}
