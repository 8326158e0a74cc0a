package io.peerlink.bench.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.mqtt.MqttOptions;
import io.peerlink.transport.mqtt.MqttTransportProvider;
import io.peerlink.transport.mqtt.MqttVersion;
import io.peerlink.transport.udp.UdpTransportProvider;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicLongArray;

/**
 * The MQTT path next to the direct UDP path, at the transport level, in one JVM and one run on
 * loopback (docs/benchmarks.md, "MQTT path vs direct UDP"). Starts its own Mosquitto
 * ({@code /usr/sbin/mosquitto}, Debian package {@code mosquitto}) on a free port.
 *
 * <p>For each path (UDP, MQTT 5, MQTT 3.1.1):
 * <ul>
 * <li><b>goodput</b>: one sender pushes {@code --count} datagrams of {@code --size} bytes as fast
 * as {@code send} accepts them (retrying when it returns false: a full socket buffer or a full
 * MQTT window); goodput is distinct bytes received divided by the time from the first send to
 * the last arrival. UDP may lose datagrams under this blast; the loss is reported, not resent.</li>
 * <li><b>latency</b>: {@code --pings} datagrams one at a time, each sent when the previous one
 * arrived; one-way latency from {@code send} to the receiver's handler (one clock: same JVM),
 * after {@code --warmup} unmeasured ones. For MQTT also the PUBACK time (send to completion).</li>
 * </ul>
 * Options: {@code --count N} (20000), {@code --size B} (1200), {@code --pings N} (2000),
 * {@code --warmup N} (500), {@code --runs N} (3; the table gives the median run of each figure).
 */
public final class MqttVsUdp {

    private static final String MOSQUITTO = "/usr/sbin/mosquitto";

    private MqttVsUdp() {
    }

    /**
     * @param args see the class comment
     * @throws Exception if the broker cannot be started or a run fails
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        int count = Integer.parseInt(a.getOrDefault("count", "20000"));
        int size = Integer.parseInt(a.getOrDefault("size", "1200"));
        int pings = Integer.parseInt(a.getOrDefault("pings", "2000"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "500"));
        int runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        if (!Files.isExecutable(Path.of(MOSQUITTO))) {
            throw new IllegalStateException(MOSQUITTO + " not found: apt-get install mosquitto");
        }
        System.out.printf("MqttVsUdp %s: %d datagrams of %d B, %d pings (+%d warm-up), %d runs; %s, %d CPUs, %s%n",
                Instant.now(), count, size, pings, warmup, runs, System.getProperty("java.vm.version"),
                Runtime.getRuntime().availableProcessors(), System.getProperty("os.name") + " " + System.getProperty("os.version"));

        Path dir = Files.createTempDirectory("mqtt-bench-");
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        // Defaults except: no cap on queued QoS 1 messages (Mosquitto drops beyond 1000 by default).
        Files.writeString(dir.resolve("mosquitto.conf"), "user root\nlistener " + port + " 127.0.0.1\nallow_anonymous true\n"
                + "max_queued_messages 0\nlog_dest none\n");
        Process broker = new ProcessBuilder(MOSQUITTO, "-c", dir.resolve("mosquitto.conf").toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("out.log").toFile()).start();
        try {
            awaitListening(port);
            List<String> paths = List.of("udp", "mqtt5", "mqtt311");
            Map<String, List<double[]>> results = new LinkedHashMap<>();
            for (String p : paths) {
                results.put(p, new ArrayList<>());
            }
            for (int run = 1; run <= runs; run++) {
                for (String p : paths) {
                    double[] r = runPath(p, port, run, count, size, pings, warmup);
                    results.get(p).add(r);
                    System.out.printf(Locale.ROOT, "run %d %-8s goodput %8.1f Mbit/s (%6d of %d delivered)  one-way p50 %7.1f us  p99 %7.1f us"
                                    + "  mean %7.1f us  puback p50 %7.1f us%n",
                            run, p, r[0], (long) r[1], count, r[2], r[3], r[4], r[5]);
                }
            }
            System.out.println();
            System.out.println("| path | goodput Mbit/s (median, min..max) | delivered | one-way p50 us | p99 us | mean us | PUBACK p50 us |");
            System.out.println("|---|---|---|---|---|---|---|");
            for (String p : paths) {
                List<double[]> rs = results.get(p);
                System.out.printf(Locale.ROOT, "| %s | %.1f (%.1f..%.1f) | %.0f of %d | %.1f | %.1f | %.1f | %s |%n", p,
                        median(rs, 0), min(rs, 0), max(rs, 0), median(rs, 1), count, median(rs, 2), median(rs, 3), median(rs, 4),
                        p.equals("udp") ? "-" : String.format(Locale.ROOT, "%.1f", median(rs, 5)));
            }
            double udp = median(results.get("udp"), 0);
            double udpLatency = median(results.get("udp"), 2);
            for (String p : List.of("mqtt5", "mqtt311")) {
                System.out.printf(Locale.ROOT, "%s / udp: goodput %.3f, one-way p50 latency %.1fx%n", p,
                        median(results.get(p), 0) / udp, median(results.get(p), 2) / udpLatency);
            }
        } finally {
            broker.destroy();
            broker.waitFor(10, TimeUnit.SECONDS);
            try (var files = Files.walk(dir)) {
                files.sorted(java.util.Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
            }
        }
    }

    /** @return {goodput Mbit/s, delivered, p50 us, p99 us, mean us, puback p50 us} */
    private static double[] runPath(String path, int port, int run, int count, int size, int pings, int warmup) throws Exception {
        Transport sender;
        Transport receiver;
        if (path.equals("udp")) {
            sender = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
            receiver = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
        } else {
            MqttVersion version = path.equals("mqtt5") ? MqttVersion.MQTT_5 : MqttVersion.MQTT_3_1_1;
            String tag = path + "-" + run;
            sender = new MqttTransportProvider().create(TransportConfig.bind(Endpoint.parse("mqtt://127.0.0.1:" + port + "/s-" + tag))
                    .set(MqttOptions.PROTOCOL_VERSION, version).set(MqttOptions.PERSISTENT_SESSION, false).build());
            receiver = new MqttTransportProvider().create(TransportConfig.bind(Endpoint.parse("mqtt://127.0.0.1:" + port + "/r-" + tag))
                    .set(MqttOptions.PROTOCOL_VERSION, version).set(MqttOptions.PERSISTENT_SESSION, false).build());
        }
        Sink sink = new Sink(count);
        receiver.start(sink);
        sender.start((source, datagram) -> { });
        try {
            Endpoint to = receiver.localEndpoint();
            // ---- goodput
            ByteBuffer buffer = ByteBuffer.allocate(size);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                buffer.clear();
                buffer.putInt(0, i);
                while (!sender.send(to, buffer)) {
                    buffer.position(0);
                    Thread.onSpinWait();
                }
            }
            // Wait for the tail: everything, or (UDP) until nothing more has come for 500 ms.
            long last = sink.distinct.get();
            long quietSince = System.nanoTime();
            while (sink.distinct.get() < count && System.nanoTime() - quietSince < TimeUnit.MILLISECONDS.toNanos(500)) {
                Thread.sleep(5);
                long now = sink.distinct.get();
                if (now != last) {
                    last = now;
                    quietSince = System.nanoTime();
                }
            }
            long delivered = sink.distinct.get();
            double seconds = (sink.lastArrival - start) / 1e9;
            double mbits = delivered * (double) size * 8 / 1e6 / seconds;

            // ---- latency, one at a time
            sink.pingMode(true);
            long[] oneWay = new long[pings];
            long[] puback = new long[pings];
            for (int i = -warmup; i < pings; i++) {
                buffer.clear();
                buffer.putInt(0, Integer.MIN_VALUE + 1 + (i + warmup));
                long t0 = System.nanoTime();
                long[] acked = {0};
                CountDownLatch ack = new CountDownLatch(1);
                while (!sender.send(to, buffer, new SendCallback() {
                    @Override
                    public void completed() {
                        acked[0] = System.nanoTime();
                        ack.countDown();
                    }

                    @Override
                    public void failed(Throwable cause) {
                        ack.countDown();
                    }
                })) {
                    buffer.position(0);
                    Thread.onSpinWait();
                }
                Long arrival = sink.pings.poll(10, TimeUnit.SECONDS);
                if (arrival == null) {
                    throw new IOException(path + ": ping " + i + " was lost (one at a time on loopback)");
                }
                ack.await(10, TimeUnit.SECONDS);
                if (i >= 0) {
                    oneWay[i] = arrival - t0;
                    puback[i] = acked[0] - t0;
                }
            }
            Arrays.sort(oneWay);
            Arrays.sort(puback);
            double mean = Arrays.stream(oneWay).average().orElse(0) / 1e3;
            return new double[] {mbits, delivered, oneWay[pings / 2] / 1e3, oneWay[(int) (pings * 0.99)] / 1e3, mean, puback[pings / 2] / 1e3};
        } finally {
            sender.destroy();
            receiver.destroy();
        }
    }

    /** Counts distinct sequence numbers (goodput phase), then reports arrival times (ping phase). */
    private static final class Sink implements DatagramHandler {
        final AtomicLongArray seen;
        final AtomicLong distinct = new AtomicLong();
        final BlockingQueue<Long> pings = new ArrayBlockingQueue<>(16);
        volatile long lastArrival;
        private volatile boolean pingMode;

        Sink(int count) {
            this.seen = new AtomicLongArray((count + 63) / 64);
        }

        void pingMode(boolean on) {
            pingMode = on;
        }

        @Override
        public void onDatagram(Endpoint source, ByteBuffer datagram) {
            long now = System.nanoTime();
            int seq = datagram.getInt(datagram.position());
            if (pingMode) {
                if (seq < 0) {
                    pings.offer(now);
                }
                return;
            }
            if (seq < 0 || seq / 64 >= seen.length()) {
                return;
            }
            long bit = 1L << (seq % 64);
            long old = seen.getAndAccumulate(seq / 64, bit, (x, y) -> x | y);
            if ((old & bit) == 0) {
                distinct.incrementAndGet();
                lastArrival = now;
            }
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
