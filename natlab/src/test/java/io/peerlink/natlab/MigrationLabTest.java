package io.peerlink.natlab;

import io.peerlink.cli.Main;
import io.peerlink.natlab.tools.MovingTransferPeer;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Migration during a bulk transfer on paths with a real round trip (docs/benchmarks.md, "Migration
 * during a bulk transfer"): the lab's core delays every packet ({@link NatLab#delay}, 20 ms by
 * default, {@code -Dnatlab.migration.delayMs}), so the direct path's round trip is 40 ms and the
 * relayed one's 80 ms, and twice the round trip is far above the machine's scheduling noise. One link
 * carries {@code -Dnatlab.migration.mib} (100) MiB of numbered 64 KiB messages from a device
 * behind a port-restricted NAT to one behind a full-cone NAT:
 * <ol>
 * <li>it opens on the TURN relay (direct UDP between the sites is dropped in the core); at 30 % of
 *     the transfer the block is lifted and the sender adds the direct path (PeerLink.addPath): the
 *     link moves relay → direct once the path validated;</li>
 * <li>at 65 % the sender's NAT rebinds ({@link NatLab#rebind}: mappings flushed, new random port):
 *     the receiver sees the sender's packets from a new port, validates it and follows.</li>
 * </ol>
 * The receiver timestamps every delivery; for each event the test prints the longest pause in
 * delivery in the second after the trigger (the stall), the longest pause in the second before it
 * (the same run's baseline) and the stall over twice the new path's round trip. Nothing may be
 * lost, duplicated or reordered; the stall target itself is reported, not asserted.
 */
@NatLabTest
class MigrationLabTest {
    private static final String CONTROL = "ws://198.51.100.1:8080/peerlink/v1";
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration TRANSFER = Duration.ofSeconds(300);
    private static final int SIZE = 64 * 1024;
    /** The window after (and before) a trigger in which pauses in delivery are looked at. */
    private static final long WINDOW_MICROS = 1_000_000L;
    /** A bound that catches a link waiting for a timeout; not the target (2 RTTs). */
    private static final double MAX_STALL_MILLIS = 5_000;
    private static final Pattern RTT = Pattern.compile("rtt-ms=([0-9.]+) at (\\d+)");

    @Test
    void aBulkTransferMovesFromTheRelayToADirectPathAndSurvivesANatRebinding(NatLab.Builder builder) throws Exception {
        int mib = Integer.getInteger("natlab.migration.mib", 100);
        int delayMs = Integer.getInteger("natlab.migration.delayMs", 20);
        int messages = mib * 16;
        try (NatLab lab = builder
                .site("home", NatKind.PORT_RESTRICTED).device("sender", "home")
                .site("peer", NatKind.FULL_CONE).device("receiver", "peer")
                .build()) {
            lab.delay(Duration.ofMillis(delayMs));
            double directRtt = 2.0 * delayMs;
            lab.blockUdpBetween("home", "peer");
            Path work = Files.createDirectories(lab.logDirectory());
            Path senderKey = work.resolve("sender.key");
            Path receiverKey = work.resolve("receiver.key");
            String receiverId = DeviceIdentity.loadOrCreate(receiverKey).id().toString();
            Path allow = work.resolve("allow-list");
            Files.writeString(allow, DeviceIdentity.loadOrCreate(senderKey).id() + " lab\n" + receiverId + " lab\n");
            lab.startJava(NatLab.CORE, Main.class.getName(), List.of("server", "--host", "198.51.100.1", "--http-port", "8080",
                    "--stun-port", "3478", "--allow-list", allow.toString())).awaitLine(l -> l.startsWith("server "), STARTUP);
            Path logging = work.resolve("logging.properties");
            Files.writeString(logging, String.join("\n", "handlers=java.util.logging.ConsoleHandler",
                    "java.util.logging.ConsoleHandler.level=ALL", ".level=INFO",
                    "io.peerlink.core.level=FINE",
                    "java.util.logging.SimpleFormatter.format=%1$tT.%1$tL %4$s %3$s: %5$s%n", ""));
            List<String> jvm = List.of("-Djava.util.logging.config.file=" + logging);
            String peerMain = MovingTransferPeer.class.getName();
            Path times = work.resolve("delivery-times");
            LabProcess receiver = lab.startJava("receiver", peerMain, jvm, List.of("listen", receiverKey.toString(), CONTROL,
                    times.toString()));
            receiver.awaitLine(l -> l.startsWith("registered "), STARTUP);
            String udp = receiver.awaitLine(l -> l.startsWith("udp "), STARTUP);
            int receiverPort = Integer.parseInt(udp.substring(udp.lastIndexOf(':') + 1).strip());
            LabProcess sender = lab.startJava("sender", peerMain, jvm, List.of("send", senderKey.toString(), CONTROL,
                    receiverId, String.valueOf(messages), String.valueOf(SIZE)));
            String opened = sender.awaitLine(l -> l.startsWith("path ") || l.startsWith("Exception"), STARTUP);
            assertTrue(opened.startsWith("path RELAY"), "the link opened on the relay: " + opened);

            // 1. relay -> direct.
            awaitProgress(receiver, messages * 30 / 100);
            long upgradeAt = nowMicros();
            lab.unblockUdpBetween("home", "peer");
            sender.writeLine("addpath udp://" + lab.publicAddress("peer").getHostAddress() + ":" + receiverPort);
            String added = sender.awaitLine(l -> l.startsWith("addpath-"), TRANSFER);
            assertTrue(added.startsWith("addpath-ok DIRECT"), added);
            String senderDirect = sender.awaitLine(l -> l.startsWith("path-changed DIRECT"), TRANSFER);
            String receiverDirect = receiver.awaitLine(l -> l.startsWith("path-changed DIRECT"), TRANSFER);

            // 2. NAT rebinding of the sender's NAT.
            awaitProgress(receiver, messages * 65 / 100);
            assertTrue(lastProgress(receiver) < messages, "the rebinding lands mid-transfer");
            long rebindAt = nowMicros();
            lab.rebind("home");
            long rebindMillis = (nowMicros() - rebindAt) / 1000;

            String received = receiver.awaitLine(l -> l.startsWith("received "), TRANSFER);
            String sent = sender.awaitLine(l -> l.startsWith("sent "), TRANSFER);
            String sha = sent.substring(sent.indexOf("sha256=") + 7);
            assertEquals("received " + messages + " bytes=" + (long) messages * SIZE + " sha256=" + sha
                    + " lost=0 duplicated=0 reordered=0", received);
            sender.awaitLine(l -> l.startsWith("path-final "), TRANSFER);
            assertEquals(0, sender.waitFor(Duration.ofSeconds(30)), "sender exit code");
            receiver.awaitLine(l -> l.startsWith("path-final "), TRANSFER);

            List<String> receiverChanges = receiver.lines().stream().filter(l -> l.startsWith("path-changed ")).toList();
            String followed = receiverChanges.stream().filter(l -> atMillis(l) * 1000 >= rebindAt).findFirst()
                    .orElseThrow(() -> new AssertionError("the receiver followed the rebinding: " + receiverChanges));

            long[] at = Files.readAllLines(times).stream().mapToLong(Long::parseLong).toArray();
            assertEquals(messages, at.length, "delivery times");
            String load = Files.readString(Path.of("/proc/loadavg")).strip();
            System.out.printf(Locale.ROOT, "MIGRATION-LAB %d MiB of %d-byte messages, %d ms one-way delay in the core "
                            + "(direct RTT %.0f ms, relayed %.0f ms), load average %s%n", mib, SIZE, delayMs, directRtt, 2 * directRtt, load);
            System.out.println("case             stall-ms  before-ms  median-gap-ms  rtt-ms(validation)  rtt-ms(lab)  "
                    + "stall/2RTT(lab)  changes");
            report("relay-to-direct", at, upgradeAt, receiverDirect, directRtt, List.of("sender " + senderDirect,
                    "receiver " + receiverDirect));
            report("rebinding", at, rebindAt, followed, directRtt, List.of("receiver " + followed,
                    "rebind took " + rebindMillis + " ms"));
            System.out.println("sender: " + sender.lines().stream().filter(l -> l.startsWith("path")).toList());
            System.out.println("receiver: " + receiver.lines().stream().filter(l -> l.startsWith("path")).toList());
        }
    }

    private static void report(String name, long[] at, long trigger, String change, double directRtt, List<String> notes) {
        double stall = longestGap(at, trigger, trigger + WINDOW_MICROS) / 1000.0;
        double before = longestGap(at, trigger - WINDOW_MICROS, trigger) / 1000.0;
        Matcher m = RTT.matcher(change);
        assertTrue(m.find(), change);
        System.out.printf(Locale.ROOT, "%-16s %8.1f  %9.1f  %13.3f  %18s  %13.0f  %17.2f  %s%n", name, stall, before,
                medianGap(at) / 1000.0, m.group(1), directRtt, stall / (2 * directRtt), notes);
        assertTrue(stall < MAX_STALL_MILLIS, name + ": delivery stalled " + stall + " ms");
    }

    /** @return the longest pause between two deliveries whose end lies in (from, to], microseconds */
    private static long longestGap(long[] at, long from, long to) {
        long longest = 0;
        for (int i = 1; i < at.length; i++) {
            if (at[i] > from && at[i] <= to) {
                // A pause that began before the window counts from the window's start.
                longest = Math.max(longest, at[i] - Math.max(at[i - 1], from));
            }
        }
        // Nothing delivered until the window's end: the pause lasts at least the whole window.
        int after = 0;
        while (after < at.length && at[after] <= from) {
            after++;
        }
        if (after < at.length && at[after] > to && after > 0) {
            longest = Math.max(longest, at[after] - from);
        }
        return longest;
    }

    private static long medianGap(long[] at) {
        long[] gaps = new long[at.length - 1];
        for (int i = 1; i < at.length; i++) {
            gaps[i - 1] = at[i] - at[i - 1];
        }
        Arrays.sort(gaps);
        return gaps[gaps.length / 2];
    }

    private static long nowMicros() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000L + now.getNano() / 1000;
    }

    private static long atMillis(String line) {
        return Long.parseLong(line.substring(line.lastIndexOf(" at ") + 4).strip());
    }

    private static void awaitProgress(LabProcess receiver, int count) {
        receiver.awaitLine(l -> l.startsWith("progress ") && Integer.parseInt(l.substring(9)) >= count, TRANSFER);
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
