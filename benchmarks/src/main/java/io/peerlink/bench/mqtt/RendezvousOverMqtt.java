package io.peerlink.bench.mqtt;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import io.peerlink.testkit.MosquittoAcl;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Control-channel set-up over the rendezvous's MQTT carrier next to the WebSocket, in one JVM and
 * one run on loopback (docs/benchmarks.md, "Rendezvous over MQTT"): a reference server serving both
 * (its {@code mqtt.rendezvous.*} settings) and a Mosquitto this harness starts with a password file
 * and the documented ACL. One device identity, the same transports each time (UDP and an inbox on
 * the broker); only the control URI differs. A sample is the time from {@code build()} to
 * {@code registered()}; the two kinds alternate, the first two samples are warm-up.
 * Options: {@code --samples N} (50).
 */
public final class RendezvousOverMqtt {
    private static final String MOSQUITTO = "/usr/sbin/mosquitto";

    private RendezvousOverMqtt() {
    }

    /**
     * @param args see the class comment
     * @throws Exception if a server cannot be started or a registration fails
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int samples = Integer.parseInt(a.getOrDefault("samples", "50"));
        System.out.printf("RendezvousOverMqtt %s: %d samples each; %s, %d CPUs, %s%n", Instant.now(), samples,
                System.getProperty("java.vm.version"), Runtime.getRuntime().availableProcessors(),
                System.getProperty("os.name") + " " + System.getProperty("os.version"));
        Path dir = Files.createTempDirectory("rendezvous-over-mqtt-");
        SecureRandom random = new SecureRandom();
        DeviceIdentity device = DeviceIdentity.loadOrCreate(dir.resolve("device.key"));
        String id = device.id().value();
        String devicePassword = Base64.getEncoder().encodeToString(random.generateSeed(18));
        String serverPassword = Base64.getEncoder().encodeToString(random.generateSeed(18));
        int port = freePort();
        Path passwd = dir.resolve("passwd");
        run(List.of("/usr/bin/mosquitto_passwd", "-b", "-c", passwd.toString(), id, devicePassword));
        run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), "rendezvous", serverPassword));
        Files.writeString(dir.resolve("acl"), MosquittoAcl.inboxes().rendezvous("rendezvous").build());
        Files.writeString(dir.resolve("mosquitto.conf"), "user root\nlistener " + port + " 127.0.0.1\nallow_anonymous false\n"
                + "password_file " + passwd + "\nacl_file " + dir.resolve("acl") + "\nlog_dest none\nset_tcp_nodelay true\n");
        Files.writeString(dir.resolve("server.password"), serverPassword);
        Process broker = new ProcessBuilder(MOSQUITTO, "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        String host = "127.0.0.1:" + port;
        try {
            awaitListening(port);
            try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0)
                    .coapPort(-1).open(true).settings(Map.of("mqtt.rendezvous.broker", "mqtt://" + host,
                            "mqtt.rendezvous.username", "rendezvous", "mqtt.rendezvous.password-file",
                            dir.resolve("server.password").toString())).build())) {
                long[] mqtt = new long[samples];
                long[] ws = new long[samples];
                for (int i = 0; i < 2 * samples + 2; i++) {
                    boolean overMqtt = i % 2 == 0;
                    URI control = overMqtt ? URI.create("mqtt://" + host) : server.controlUri();
                    long start = System.nanoTime();
                    try (Device d = PeerLinks.device().identity(dir.resolve("device.key")).rendezvous(control)
                            .stunServer(server.stunAddress()).udp(new InetSocketAddress("127.0.0.1", 0))
                            .transport(Endpoint.parse("mqtt://" + host + "/" + id), Map.of("mqtt.username", id, "mqtt.password", devicePassword))
                            .build()) {
                        d.rendezvous().registered().toCompletableFuture().get(30, TimeUnit.SECONDS);
                        long micros = (System.nanoTime() - start) / 1000;
                        if (i >= 2) {
                            (overMqtt ? mqtt : ws)[(i - 2) / 2] = micros;
                        }
                    }
                }
                Arrays.sort(mqtt);
                Arrays.sort(ws);
                System.out.println("| control channel | p50 ms | p90 ms | min ms | max ms |");
                System.out.println("|---|---|---|---|---|");
                row("WebSocket (baseline)", ws);
                row("MQTT carrier", mqtt);
                System.out.printf(Locale.ROOT, "MQTT / WebSocket p50: %.2f%n", (double) mqtt[samples / 2] / ws[samples / 2]);
            }
        } finally {
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    private static void row(String name, long[] sorted) {
        int n = sorted.length;
        System.out.printf(Locale.ROOT, "| %s | %.1f | %.1f | %.1f | %.1f |%n", name, sorted[n / 2] / 1000.0, sorted[n * 9 / 10] / 1000.0,
                sorted[0] / 1000.0, sorted[n - 1] / 1000.0);
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private static void run(List<String> command) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IOException(String.join(" ", command) + " failed: " + out);
        }
    }

    private static void awaitListening(int port) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (System.nanoTime() < deadline) {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress("127.0.0.1", port), 200);
                return;
            } catch (IOException notYet) {
                Thread.sleep(20);
            }
        }
        throw new IOException("mosquitto did not listen on " + port);
    }
}
