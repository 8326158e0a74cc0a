package io.peerlink.natlab;

import io.peerlink.PathKind;
import io.peerlink.natlab.tools.BrokerLinkPeer;
import io.peerlink.natlab.tools.GatewayRelay;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.testkit.MosquittoAcl;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * A {@code PeerLink} when nothing but a broker gets through: both devices sit behind NATs whose
 * firewall drops all UDP and all TCP except to one port of the core (the broker or the gateway).
 * Devices are separate JVMs ({@link BrokerLinkPeer}, public API only, transports configured by
 * option name) that link with {@code connect(brokerEndpoint, expectedPeerId)}; the Noise handshake
 * proves both identities, 4 MiB arrive byte-exact (SHA-256), and what the broker or gateway relays
 * never contains the canary text sent over the link.
 *
 * <ul>
 *   <li>MQTT: a real Mosquitto 2 in the core namespace with a {@code password_file} and the
 *       documented {@code acl_file} (device IDs are the user names and inbox topics); an admin
 *       {@code mosquitto_sub -t '#'} records every relayed payload byte for byte.</li>
 *   <li>Socket.IO: the gateway's datagram relay on a standalone Jetty in the core namespace;
 *       {@code tshark} records the gateway's traffic to the receiving device (server-to-client
 *       WebSocket frames are not masked, so a relayed plaintext would appear verbatim).</li>
 * </ul>
 */
@NatLabTest
class BrokerLinkTest {
    private static final Duration STARTUP = Duration.ofSeconds(60);
    private static final Duration TRANSFER = Duration.ofSeconds(300);
    private static final int BYTES = 4 * 1024 * 1024;
    private static final String CORE_HOST = "198.51.100.1";
    private static final int BROKER_PORT = 1883;
    /** A second listener of the same broker, behind the firewall: proves the rule is per port. */
    private static final int BLOCKED_PORT = 1884;
    private static final int GATEWAY_PORT = 8443;
    private static final int RENDEZVOUS_PORT = 8080;
    private static final String MAIN = BrokerLinkPeer.class.getName();

    private static NatLab lab(NatLab.Builder builder) {
        return builder.site("a", NatKind.PORT_RESTRICTED).device("dev1", "a")
                .site("b", NatKind.SYMMETRIC).device("dev2", "b")
                .build();
    }

    @Test
    void linkOverMosquittoWhenUdpAndDirectTcpAreBlocked(NatLab.Builder builder) throws Exception {
        try (NatLab lab = lab(builder)) {
            Path work = Files.createDirectories(lab.logDirectory());
            Identities ids = Identities.create(work);
            SecureRandom random = new SecureRandom();
            String adminPassword = Base64.getEncoder().encodeToString(random.generateSeed(18));
            String p1 = Base64.getEncoder().encodeToString(random.generateSeed(18));
            String p2 = Base64.getEncoder().encodeToString(random.generateSeed(18));

            Path passwd = work.resolve("passwd");
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", "-c", passwd.toString(), "admin", adminPassword)).requireSuccess();
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), ids.id1, p1)).requireSuccess();
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), ids.id2, p2)).requireSuccess();
            Path acl = work.resolve("acl");
            // docs/transports.md: every device reads its own inbox and writes only as itself; the operator's observer reads all
            Files.writeString(acl, MosquittoAcl.inboxes().read("admin", "#").build());
            Path conf = work.resolve("mosquitto.conf");
            Files.writeString(conf, "user root\nper_listener_settings false\n"
                    + "listener " + BROKER_PORT + " " + CORE_HOST + "\nlistener " + BLOCKED_PORT + " " + CORE_HOST + "\n"
                    + "allow_anonymous false\npassword_file " + passwd + "\nacl_file " + acl + "\n"
                    + "max_queued_messages 200000\nlog_dest file " + work.resolve("broker.log") + "\nlog_type all\nconnection_messages true\n");
            // The log directory outlives a run: an old log would satisfy the waits below before this broker is up.
            Files.deleteIfExists(work.resolve("broker.log"));
            lab.start(NatLab.CORE, "mosquitto", List.of("/usr/sbin/mosquitto", "-c", conf.toString()));
            // Mosquitto buffers its stdout; its log file is flushed per line.
            awaitInFile(work.resolve("broker.log"), " running");

            Path relayed = work.resolve("relayed-by-broker.bin");
            // Raw payload bytes straight into a file (LabProcess would re-encode stdout as text lines).
            lab.start(NatLab.CORE, "watcher", List.of("sh", "-c", "exec /usr/bin/mosquitto_sub -h " + CORE_HOST + " -p " + BROKER_PORT
                    + " -u admin -P '" + adminPassword + "' -i watcher -q 1 -t '#' -v > " + relayed));
            awaitInFile(work.resolve("broker.log"), "watcher 1 #");

            firewall(lab, "a", BROKER_PORT);
            firewall(lab, "b", BROKER_PORT);
            assertBlocked(lab, "dev1", "a", BROKER_PORT, BLOCKED_PORT);
            assertBlocked(lab, "dev2", "b", BROKER_PORT, BLOCKED_PORT);

            String base = "mqtt://" + CORE_HOST + ":" + BROKER_PORT + "/";
            Path o1 = options(work, "dev1", Map.of("mqtt.username", ids.id1, "mqtt.password", p1, "mqtt.brokerEnforcesSender", "true"));
            Path o2 = options(work, "dev2", Map.of("mqtt.username", ids.id2, "mqtt.password", p2, "mqtt.brokerEnforcesSender", "true"));
            String canary = "CANARY-" + HexFormat.of().formatHex(random.generateSeed(8)) + "-plaintext";
            Result r = transfer(lab, ids, base + ids.id1, o1, base + ids.id2, o2, canary);

            byte[] seen = Files.readAllBytes(relayed);
            String seenText = new String(seen, StandardCharsets.ISO_8859_1);
            assertTrue(seen.length > BYTES, "the admin saw the relayed datagrams (" + seen.length + " bytes)");
            assertTrue(seenText.contains("peerlink/in/" + ids.id2 + "/" + ids.id1), "dev1 -> dev2 went through dev2's inbox");
            assertTrue(seenText.contains("peerlink/in/" + ids.id1 + "/" + ids.id2), "dev2 -> dev1 went through dev1's inbox");
            assertEquals(-1, seenText.indexOf(canary), "the broker relayed plaintext of the link");
            assertEquals(-1, seenText.indexOf("ACK " + canary), "the broker relayed plaintext of the reply");
            System.out.println("MQTT in the NAT lab: " + r);
        }
    }

    @Test
    void linkOverTheSocketIoGatewayWhenUdpAndDirectTcpAreBlocked(NatLab.Builder builder) throws Exception {
        try (NatLab lab = lab(builder)) {
            Path work = Files.createDirectories(lab.logDirectory());
            Identities ids = Identities.create(work);
            SecureRandom random = new SecureRandom();
            String s1 = Base64.getEncoder().encodeToString(random.generateSeed(32));
            String s2 = Base64.getEncoder().encodeToString(random.generateSeed(32));
            Path keys = work.resolve("gateway-keys.properties");
            Files.writeString(keys, ids.id1 + "=" + s1 + "\n" + ids.id2 + "=" + s2 + "\n");
            LabProcess gateway = lab.startJava(NatLab.CORE, GatewayRelay.class.getName(),
                    List.of(CORE_HOST, Integer.toString(GATEWAY_PORT), keys.toString()));
            gateway.awaitLine(l -> l.startsWith("LISTENING"), STARTUP);

            // The core's link towards site b (s1): everything the gateway sends to dev2 crosses it.
            Path capture = work.resolve("gateway-to-dev2.pcap");
            LabProcess tshark = lab.start(NatLab.CORE, "tshark", List.of("sh", "-c", "exec /usr/bin/tshark -i s1 -n -q -f 'tcp src port "
                    + GATEWAY_PORT + "' -w " + capture + " 2>&1"));
            tshark.awaitLine(l -> l.contains("Capturing on"), STARTUP);

            firewall(lab, "a", GATEWAY_PORT);
            firewall(lab, "b", GATEWAY_PORT);
            // The gateway port is open, another TCP port of the same host is not (BLOCKED_PORT has no listener: a refusal would
            // come back as RST if the firewall let it through, so "blocked" here means no answer at all).
            assertBlocked(lab, "dev1", "a", GATEWAY_PORT, BLOCKED_PORT);

            String base = "socketio://" + CORE_HOST + ":" + GATEWAY_PORT + "/";
            Path o1 = options(work, "dev1", Map.of("socketio.hmacSecret", s1));
            Path o2 = options(work, "dev2", Map.of("socketio.hmacSecret", s2));
            String canary = "CANARY-" + HexFormat.of().formatHex(random.generateSeed(8)) + "-plaintext";
            Result r = transfer(lab, ids, base + ids.id1, o1, base + ids.id2, o2, canary);

            tshark.destroy();
            byte[] seen = Files.readAllBytes(capture);
            String seenText = new String(seen, StandardCharsets.ISO_8859_1);
            assertTrue(seen.length > BYTES, "the capture holds the relayed traffic (" + seen.length + " bytes)");
            // Positive control: the relay's event header, sent by the gateway in the clear, is visible in the capture.
            assertTrue(seenText.contains("\"datagram\",\"" + ids.id1 + "\""), "relay frames to dev2 are readable in the capture");
            assertEquals(-1, seenText.indexOf(canary), "the gateway relayed plaintext of the link");
            System.out.println("Socket.IO in the NAT lab: " + r);
        }
    }

    /**
     * Rendezvous over MQTT (docs/protocol-rendezvous.md, "The MQTT carrier"): dev1's site lets through nothing but TCP to
     * the broker port — not the rendezvous WebSocket port, not UDP. dev1's only transport and its control channel are the
     * broker; it registers through it (reference server with {@code mqtt.rendezvous.*}), asks for dev2 by device ID, is
     * introduced, and links over the broker path its introduction carried. dev2 is an ordinary device (WebSocket
     * rendezvous, UDP) that also has an inbox on the broker.
     */
    @Test
    void deviceThatReachesOnlyTheBrokerRegistersAndLinksThroughIt(NatLab.Builder builder) throws Exception {
        try (NatLab lab = lab(builder)) {
            Path work = Files.createDirectories(lab.logDirectory());
            Identities ids = Identities.create(work);
            SecureRandom random = new SecureRandom();
            String adminPassword = Base64.getEncoder().encodeToString(random.generateSeed(18));
            String serverPassword = Base64.getEncoder().encodeToString(random.generateSeed(18));
            String p1 = Base64.getEncoder().encodeToString(random.generateSeed(18));
            String p2 = Base64.getEncoder().encodeToString(random.generateSeed(18));
            Path passwd = work.resolve("passwd");
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", "-c", passwd.toString(), "admin", adminPassword)).requireSuccess();
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), "rendezvous", serverPassword)).requireSuccess();
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), ids.id1, p1)).requireSuccess();
            Commands.run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), ids.id2, p2)).requireSuccess();
            Path acl = work.resolve("acl");
            // docs/transports.md and docs/protocol-rendezvous.md: inboxes, each device's own rendezvous topics, the status topic
            Files.writeString(acl, MosquittoAcl.inboxes().rendezvous("rendezvous").read("admin", "#").build());
            Path conf = work.resolve("mosquitto.conf");
            Files.writeString(conf, "user root\nper_listener_settings false\nlistener " + BROKER_PORT + " " + CORE_HOST + "\n"
                    + "allow_anonymous false\npassword_file " + passwd + "\nacl_file " + acl + "\n"
                    + "max_queued_messages 200000\nset_tcp_nodelay true\nlog_dest file " + work.resolve("broker.log")
                    + "\nlog_type all\nconnection_messages true\n");
            // The log directory outlives a run: an old log would satisfy the waits below before this broker is up.
            Files.deleteIfExists(work.resolve("broker.log"));
            lab.start(NatLab.CORE, "mosquitto", List.of("/usr/sbin/mosquitto", "-c", conf.toString()));
            awaitInFile(work.resolve("broker.log"), " running");
            Path relayed = work.resolve("relayed-by-broker.bin");
            lab.start(NatLab.CORE, "watcher", List.of("sh", "-c", "exec /usr/bin/mosquitto_sub -h " + CORE_HOST + " -p " + BROKER_PORT
                    + " -u admin -P '" + adminPassword + "' -i watcher -q 1 -t '#' -v > " + relayed));
            awaitInFile(work.resolve("broker.log"), "watcher 1 #");

            Path serverPasswordFile = work.resolve("rendezvous.password");
            Files.writeString(serverPasswordFile, serverPassword + "\n");
            Files.writeString(work.resolve("allow-list"), ids.id1 + " lab\n" + ids.id2 + " lab\n");
            lab.startJava(NatLab.CORE, io.peerlink.cli.Main.class.getName(), List.of("server", "--host", CORE_HOST,
                    "--http-port", Integer.toString(RENDEZVOUS_PORT), "--stun-port", "3478", "--allow-list", work.resolve("allow-list").toString(),
                    "--set", "mqtt.rendezvous.broker=mqtt://" + CORE_HOST + ":" + BROKER_PORT,
                    "--set", "mqtt.rendezvous.username=rendezvous",
                    "--set", "mqtt.rendezvous.password-file=" + serverPasswordFile))
                    .awaitLine(l -> l.startsWith("server "), STARTUP);
            awaitInFile(work.resolve("broker.log"), "peerlink-rendezvous 1 peerlink/rv/+/up");

            firewall(lab, "a", BROKER_PORT);
            // Only the broker: the rendezvous WebSocket port of the same host does not answer, nor does UDP.
            assertBlocked(lab, "dev1", "a", BROKER_PORT, RENDEZVOUS_PORT);

            String base = "mqtt://" + CORE_HOST + ":" + BROKER_PORT + "/";
            Path o1 = options(work, "dev1", Map.of("mqtt.username", ids.id1, "mqtt.password", p1, "mqtt.brokerEnforcesSender", "true",
                    "peerlink.rendezvous", "mqtt://" + CORE_HOST + ":" + BROKER_PORT));
            Path o2 = options(work, "dev2", Map.of("mqtt.username", ids.id2, "mqtt.password", p2, "mqtt.brokerEnforcesSender", "true",
                    "peerlink.rendezvous", "ws://" + CORE_HOST + ":" + RENDEZVOUS_PORT + "/peerlink/v1", "peerlink.udp", "0.0.0.0:0"));
            String canary = "CANARY-" + HexFormat.of().formatHex(random.generateSeed(8)) + "-plaintext";
            Result r = transfer(lab, ids, base + ids.id1, o1, base + ids.id2, o2, canary, "-");

            byte[] seen = Files.readAllBytes(relayed);
            String seenText = new String(seen, StandardCharsets.ISO_8859_1);
            assertTrue(seenText.contains("peerlink/rv/" + ids.id1 + "/down {\"type\":\"welcome\""), "dev1 was admitted over its down-topic");
            assertTrue(seenText.contains("peerlink/rv/" + ids.id1 + "/down {\"type\":\"introduce\""), "dev1 was introduced over MQTT");
            assertTrue(seenText.contains("peerlink/in/" + ids.id2 + "/" + ids.id1), "dev1 -> dev2 went through dev2's inbox");
            assertTrue(seen.length > BYTES, "the admin saw the relayed datagrams (" + seen.length + " bytes)");
            assertEquals(-1, seenText.indexOf(canary), "the broker relayed plaintext of the link");
            assertEquals(-1, seenText.indexOf("ACK " + canary), "the broker relayed plaintext of the reply");
            System.out.println("MQTT rendezvous in the NAT lab: " + r);
        }
    }

    private static void awaitInFile(Path file, String text) throws IOException, InterruptedException {
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (Files.exists(file) && Files.readString(file, StandardCharsets.ISO_8859_1).contains(text)) {
                return;
            }
            Thread.sleep(50);
        }
        fail("'" + text + "' not in " + file + " within " + STARTUP);
    }

    /** Key files made here, so the test knows both device IDs (the MQTT user names and inboxes) in advance. */
    private record Identities(Path key1, String id1, Path key2, String id2) {
        static Identities create(Path work) {
            Path k1 = work.resolve("dev1.key");
            Path k2 = work.resolve("dev2.key");
            return new Identities(k1, DeviceIdentity.loadOrCreate(k1).id().toString(), k2, DeviceIdentity.loadOrCreate(k2).id().toString());
        }
    }

    private record Result(String linked, long millis, String registered2, String registered1) {
        @Override
        public String toString() {
            return linked + "; " + BYTES + " bytes in " + millis + " ms (" + (BYTES / 1024 * 1000L / Math.max(1, millis)) + " KiB/s)"
                    + (registered1.isEmpty() ? "" : "; dev1 " + registered1 + " ms, dev2 " + registered2 + " ms");
        }
    }

    /** @return the registration time a peer printed ("REGISTERED <ms>"), or "" */
    private static String registered(LabProcess p) {
        String line = lastLine(p, "REGISTERED");
        return line.isEmpty() ? "" : line.substring("REGISTERED ".length());
    }

    private Result transfer(NatLab lab, Identities ids, String bind1, Path o1, String bind2, Path o2, String canary) throws Exception {
        return transfer(lab, ids, bind1, o1, bind2, o2, canary, bind2);
    }

    /** @param peerArg what the sender dials: the listener's endpoint, or "-" for {@code connect(peerId)} through the rendezvous */
    private Result transfer(NatLab lab, Identities ids, String bind1, Path o1, String bind2, Path o2, String canary, String peerArg)
            throws Exception {
        LabProcess listener = lab.startJava("dev2", MAIN, List.of("listen", ids.key2.toString(), bind2, o2.toString()));
        listener.awaitLine(l -> l.startsWith("READY") || l.startsWith("error"), STARTUP);
        assertEquals("READY " + ids.id2, lastLine(listener, "READY", "error"));
        LabProcess sender = lab.startJava("dev1", MAIN, List.of("connect", ids.key1.toString(), bind1, o1.toString(), peerArg, ids.id2,
                Integer.toString(BYTES), canary));
        String linked = sender.awaitLine(l -> l.startsWith("LINKED") || l.startsWith("error"), STARTUP);
        assertTrue(linked.startsWith("LINKED " + ids.id2 + " " + PathKind.BROKERED + " " + bind2), linked);
        String accepted = listener.awaitLine(l -> l.startsWith("ACCEPTED") || l.startsWith("error"), STARTUP);
        assertTrue(accepted.startsWith("ACCEPTED " + ids.id1 + " " + PathKind.BROKERED + " " + bind1), accepted);
        String sent = sender.awaitLine(l -> l.startsWith("SENT") || l.startsWith("error"), TRANSFER);
        String received = listener.awaitLine(l -> l.startsWith("RECEIVED") || l.startsWith("error"), TRANSFER);
        Matcher s = Pattern.compile("SENT (\\d+) ([0-9a-f]{64}) (\\d+)").matcher(sent);
        if (!s.matches()) {
            fail("sender: " + sent);
        }
        assertEquals("RECEIVED " + s.group(1) + " " + s.group(2), received, "byte-exact");
        assertEquals(Integer.toString(BYTES), s.group(1));
        String reply = sender.awaitLine(l -> l.startsWith("REPLY") || l.startsWith("error"), STARTUP);
        assertEquals("REPLY ACK " + canary, reply);
        assertEquals(0, sender.waitFor(STARTUP), "sender exit code");
        assertEquals(0, listener.waitFor(STARTUP), "listener exit code");
        return new Result(linked, Long.parseLong(s.group(3)), registered(listener), registered(sender));
    }

    private static String lastLine(LabProcess p, String... prefixes) {
        List<String> lines = p.lines();
        for (int i = lines.size() - 1; i >= 0; i--) {
            for (String prefix : prefixes) {
                if (lines.get(i).startsWith(prefix)) {
                    return lines.get(i);
                }
            }
        }
        return "";
    }

    private static Path options(Path work, String device, Map<String, String> options) throws IOException {
        StringBuilder text = new StringBuilder();
        options.forEach((k, v) -> text.append(k).append('=').append(v).append('\n'));
        Path file = work.resolve(device + "-options.properties");
        Files.writeString(file, text);
        return file;
    }

    /**
     * The site NAT forwards only TCP to the one allowed port of the core host and its answers;
     * everything else — all UDP, every other TCP port — is dropped.
     */
    private static void firewall(NatLab lab, String site, int allowedTcpPort) {
        String port = Integer.toString(allowedTcpPort);
        lab.exec(site, "iptables", "-I", "FORWARD", "1", "-j", "DROP");
        lab.exec(site, "iptables", "-I", "FORWARD", "1", "-o", "lan", "-p", "tcp", "-s", CORE_HOST, "--sport", port,
                "-m", "conntrack", "--ctstate", "ESTABLISHED", "-j", "ACCEPT");
        lab.exec(site, "iptables", "-I", "FORWARD", "1", "-i", "lan", "-p", "tcp", "-d", CORE_HOST, "--dport", port, "-j", "ACCEPT");
    }

    /** The allowed port answers; another TCP port and UDP do not get through (the DROP rule counts them). */
    private static void assertBlocked(NatLab lab, String device, String site, int allowed, int blocked) {
        long before = dropped(lab, site);
        assertEquals(0, lab.tryExec(device, "timeout", "5", "bash", "-c", "exec 3<>/dev/tcp/" + CORE_HOST + "/" + allowed).exitCode(),
                "TCP to the allowed port " + allowed + " connects");
        assertNotEquals(0, lab.tryExec(device, "timeout", "3", "bash", "-c", "exec 3<>/dev/tcp/" + CORE_HOST + "/" + blocked).exitCode(),
                "TCP to port " + blocked + " must not connect");
        lab.exec(device, "bash", "-c", "echo probe > /dev/udp/" + CORE_HOST + "/3478");
        long after = dropped(lab, site);
        assertTrue(after >= before + 2, "the firewall dropped the TCP SYN(s) and the UDP probe: " + before + " -> " + after);
    }

    /** Packets counted by the firewall's DROP rule, the third of the chain after {@link #firewall}. */
    private static long dropped(NatLab lab, String site) {
        String line = lab.exec(site, "iptables", "-L", "FORWARD", "3", "-v", "-n", "-x").trim();
        String[] f = line.split("\\s+");
        if (f.length < 3 || !f[2].equals("DROP")) {
            throw new AssertionError("rule 3 of site " + site + "'s FORWARD chain is not the firewall's DROP: " + line);
        }
        return Long.parseLong(f[0]);
    }
}
