package io.peerlink.bench.mqtt;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.ReliableChannel;
import io.peerlink.SendBufferFullException;
import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An end-to-end encrypted {@code PeerLink} (Noise handshake, AES-GCM channel) over brokered paths
 * next to the direct UDP path, in one JVM and one run on loopback (docs/benchmarks.md, "PeerLink
 * over MQTT and Socket.IO vs direct UDP"). Public API only: devices are built with
 * {@code Device.Builder.transport(bind, options)} and linked with {@code connect(endpoint, expectedId)}.
 *
 * <p>Paths: {@code udp} (two devices on 127.0.0.1), {@code mqtt5} and {@code mqtt311} (through a
 * Mosquitto this harness starts, with a password file), {@code socketio} (through the gateway's
 * datagram relay on an embedded Jetty). For each path and run:
 * <ul>
 * <li><b>goodput</b>: {@code --mib} MiB as 64 KiB messages, at most 16 unacknowledged, time from
 * the first send to the last byte delivered to the receiver's handler;</li>
 * <li><b>latency</b>: {@code --pings} messages of 64 bytes echoed by the peer, one at a time, after
 * {@code --warmup} unmeasured ones; the round trip from {@code send} to the echo's arrival.</li>
 * </ul>
 * Options: {@code --mib N} (16), {@code --pings N} (500), {@code --warmup N} (100), {@code --runs N}
 * (3), {@code --paths udp,mqtt5,mqtt311,socketio}, {@code --broker-nodelay true|false} (true: Mosquitto's
 * {@code set_tcp_nodelay}, off in Mosquitto's defaults).
 */
public final class LinkOverBrokers {
    private static final String MOSQUITTO = "/usr/sbin/mosquitto";
    private static final int MESSAGE = 64 * 1024;

    private LinkOverBrokers() {
    }

    /**
     * @param args see the class comment
     * @throws Exception if a server cannot be started or a run fails
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            a.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        int mib = Integer.parseInt(a.getOrDefault("mib", "16"));
        int pings = Integer.parseInt(a.getOrDefault("pings", "500"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "100"));
        int runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        List<String> paths = List.of(a.getOrDefault("paths", "udp,mqtt5,mqtt311,socketio").split(","));
        boolean nodelay = Boolean.parseBoolean(a.getOrDefault("broker-nodelay", "true"));
        if (!Files.isExecutable(Path.of(MOSQUITTO))) {
            throw new IllegalStateException(MOSQUITTO + " not found: apt-get install mosquitto");
        }
        System.out.printf("LinkOverBrokers %s: %d MiB as 64 KiB messages, %d pings (+%d warm-up), %d runs, Mosquitto set_tcp_nodelay %s; %s, %d CPUs, %s%n",
                Instant.now(), mib, pings, warmup, runs, nodelay, System.getProperty("java.vm.version"),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name") + " " + System.getProperty("os.version"));

        SecureRandom random = new SecureRandom();
        String password = Base64.getEncoder().encodeToString(random.generateSeed(18));
        byte[] secretA = random.generateSeed(32);
        byte[] secretB = random.generateSeed(32);
        Path dir = Files.createTempDirectory("link-over-brokers-");
        int mqttPort = freePort();
        Path passwd = dir.resolve("passwd");
        run(List.of("/usr/bin/mosquitto_passwd", "-b", "-c", passwd.toString(), "alice", password));
        run(List.of("/usr/bin/mosquitto_passwd", "-b", passwd.toString(), "bob", password));
        Files.writeString(dir.resolve("mosquitto.conf"), "user root\nlistener " + mqttPort + " 127.0.0.1\nallow_anonymous false\n"
                + "password_file " + passwd + "\nmax_queued_messages 0\nlog_dest none\nset_tcp_nodelay " + nodelay + "\n");
        Process broker = new ProcessBuilder(MOSQUITTO, "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        Map<String, GatewayKey> keys = Map.of("alice", new GatewayKey.HmacSha256(secretA), "bob", new GatewayKey.HmacSha256(secretB));
        GatewayServer gateway = GatewayServer.builder(id -> Optional.ofNullable(keys.get(id))).datagramRelay(true).build();
        Server jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        jetty.setHandler(new ContextHandlerCollection(gateway.contextHandler()));
        try {
            awaitListening(mqttPort);
            jetty.start();
            int gatewayPort = connector.getLocalPort();
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            for (String p : paths) {
                results.put(p, new ArrayList<>());
            }
            for (int r = 1; r <= runs; r++) {
                for (String p : paths) {
                    Map<String, Object> optionsA;
                    Map<String, Object> optionsB;
                    String bindA;
                    String bindB;
                    switch (p) {
                        case "udp" -> {
                            bindA = "udp://127.0.0.1:0";
                            bindB = "udp://127.0.0.1:0";
                            optionsA = Map.of();
                            optionsB = Map.of();
                        }
                        case "mqtt5", "mqtt311" -> {
                            String base = "mqtt://127.0.0.1:" + mqttPort + "/";
                            bindA = base + "alice";
                            bindB = base + "bob";
                            String version = p.equals("mqtt5") ? "MQTT_5" : "MQTT_3_1_1";
                            optionsA = Map.of("mqtt.username", "alice", "mqtt.password", password, "mqtt.protocolVersion", version,
                                    "mqtt.persistentSession", "false");
                            optionsB = Map.of("mqtt.username", "bob", "mqtt.password", password, "mqtt.protocolVersion", version,
                                    "mqtt.persistentSession", "false");
                        }
                        case "socketio" -> {
                            String base = "socketio://127.0.0.1:" + gatewayPort + "/";
                            bindA = base + "alice";
                            bindB = base + "bob";
                            optionsA = Map.of("socketio.hmacSecret", Base64.getEncoder().encodeToString(secretA));
                            optionsB = Map.of("socketio.hmacSecret", Base64.getEncoder().encodeToString(secretB));
                        }
                        default -> throw new IllegalArgumentException("unknown path " + p);
                    }
                    double[] m = measure(bindA, optionsA, bindB, optionsB, mib, pings, warmup);
                    results.get(p).add(m);
                    System.out.printf(Locale.ROOT, "run %d %-8s goodput %7.2f MiB/s (%7.1f Mbit/s)  rtt p50 %7.3f ms  p99 %7.3f ms  mean %7.3f ms%n",
                            r, p, m[0], m[0] * 8 * 1.048576, m[1], m[2], m[3]);
                }
            }
            System.out.println();
            System.out.println("| path | goodput MiB/s, median (min..max) | Mbit/s | round trip p50 ms | p99 ms | mean ms |");
            System.out.println("|---|---|---|---|---|---|");
            for (String p : paths) {
                List<double[]> rs = results.get(p);
                System.out.printf(Locale.ROOT, "| %s | %.2f (%.2f..%.2f) | %.1f | %.3f | %.3f | %.3f |%n", p, median(rs, 0), min(rs, 0), max(rs, 0),
                        median(rs, 0) * 8 * 1.048576, median(rs, 1), median(rs, 2), median(rs, 3));
            }
            if (results.containsKey("udp")) {
                for (String p : paths) {
                    if (!p.equals("udp")) {
                        System.out.printf(Locale.ROOT, "%s / udp: goodput %.3f, round trip p50 %.1fx%n", p,
                                median(results.get(p), 0) / median(results.get("udp"), 0), median(results.get(p), 1) / median(results.get("udp"), 1));
                    }
                }
            }
        } finally {
            gateway.close();
            jetty.stop();
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** @return {goodput MiB/s, rtt p50 ms, rtt p99 ms, rtt mean ms} */
    private static double[] measure(String bindA, Map<String, Object> optionsA, String bindB, Map<String, Object> optionsB,
                                    int mib, int pings, int warmup) throws Exception {
        try (Device a = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(bindA), optionsA).build();
             Device b = PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse(bindB), optionsB).build()) {
            long bytes = (long) mib * 1024 * 1024;
            AtomicLong delivered = new AtomicLong();
            CompletableFuture<Long> done = new CompletableFuture<>();
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(request -> request.accept().thenAccept(link -> {
                link.channel().onMessage((message, delivery) -> {
                    int n = message.remaining();
                    if (n < 100) {
                        link.channel().send(message); // echo a ping
                    } else if (delivered.addAndGet(n) == bytes) {
                        done.complete(System.nanoTime());
                    }
                });
                accepted.complete(link);
            }));
            PeerLink link = a.connect(b.localEndpoints().get(0), b.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            accepted.get(30, TimeUnit.SECONDS);
            ReliableChannel tx = link.channel();
            LinkedBlockingQueue<Long> echoes = new LinkedBlockingQueue<>();
            tx.onMessage((message, delivery) -> echoes.add(System.nanoTime()));

            byte[] pattern = new byte[MESSAGE];
            new SecureRandom().nextBytes(pattern);
            Semaphore window = new Semaphore(16);
            long start = System.nanoTime();
            for (long sent = 0; sent < bytes; sent += MESSAGE) {
                window.acquire();
                while (true) {
                    CompletableFuture<Void> f = tx.send(ByteBuffer.wrap(pattern)).toCompletableFuture();
                    if (f.isCompletedExceptionally()) {
                        try {
                            f.join();
                        } catch (CompletionException e) {
                            if (!(e.getCause() instanceof SendBufferFullException)) {
                                throw e;
                            }
                        }
                        tx.whenWritable().toCompletableFuture().get(60, TimeUnit.SECONDS);
                        continue;
                    }
                    f.whenComplete((v, e) -> window.release());
                    break;
                }
            }
            long end = done.get(600, TimeUnit.SECONDS);
            double goodput = bytes / 1048576.0 / ((end - start) / 1e9);

            double[] rtt = new double[pings];
            byte[] ping = new byte[64];
            for (int i = -warmup; i < pings; i++) {
                long t0 = System.nanoTime();
                tx.send(ByteBuffer.wrap(ping));
                Long t1 = echoes.poll(30, TimeUnit.SECONDS);
                if (t1 == null) {
                    throw new IOException("no echo within 30 s");
                }
                if (i >= 0) {
                    rtt[i] = (t1 - t0) / 1e6;
                }
            }
            Arrays.sort(rtt);
            link.close().toCompletableFuture().get(30, TimeUnit.SECONDS);
            return new double[]{goodput, rtt[pings / 2], rtt[(int) Math.min(pings - 1, Math.ceil(pings * 0.99) - 1)],
                    Arrays.stream(rtt).average().orElse(0)};
        }
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

    private static double median(List<double[]> rs, int i) {
        double[] v = rs.stream().mapToDouble(r -> r[i]).sorted().toArray();
        return v[v.length / 2];
    }

    private static double min(List<double[]> rs, int i) {
        return rs.stream().mapToDouble(r -> r[i]).min().orElse(0);
    }

    private static double max(List<double[]> rs, int i) {
        return rs.stream().mapToDouble(r -> r[i]).max().orElse(0);
    }
}
