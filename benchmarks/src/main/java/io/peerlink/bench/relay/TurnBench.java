package io.peerlink.bench.relay;

import io.peerlink.protocol.stun.StunClient;
import io.peerlink.relay.turn.TurnClient;
import io.peerlink.relay.turn.TurnCredentials;
import io.peerlink.relay.turn.TurnException;
import io.peerlink.relay.turn.TurnServer;
import io.peerlink.relay.turn.TurnServerConfig;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Embedded TURN server vs coturn on the same machine, in one invocation: allocations per second
 * (connect, Allocate with the 401 round trip, Refresh 0) and relayed goodput of 1,200-byte
 * datagrams through a channel, next to a direct UDP blast as the baseline; then two Devices with
 * one sealed link, direct (with and without the UDP transport's batching) and relayed through each
 * server ({@code --link-mib}, docs/benchmarks.md). Run on demand:
 *
 * <pre>
 * java -cp "benchmarks/target/peerlink-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   io.peerlink.bench.relay.TurnBench [--allocations 2000] [--datagrams 50000] [--runs 3] [--window 256]
 *   [--link-mib 32] [--servers embedded,coturn] [--turn-batching true]
 * </pre>
 *
 * <p>{@code --turn-batching false} runs the relayed cases without batched system calls on the
 * {@code turn} transport's UDP leg ({@code turn.batching=false}) and on the embedded server's UDP
 * listener (system property {@code peerlink.turnServer.batching=false}): the before/after
 * comparison with one build.
 */
public final class TurnBench {
    private static final int SIZE = 1200;
    private static final AtomicInteger mismatches = new AtomicInteger();

    private TurnBench() {
    }

    public static void main(String[] args) throws Exception {
        int allocations = 2000;
        int datagrams = 50_000;
        int runs = 3;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--allocations" -> allocations = Integer.parseInt(args[i + 1]);
                case "--datagrams" -> datagrams = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--window" -> window = Integer.parseInt(args[i + 1]);
                case "--link-mib" -> linkMib = Integer.parseInt(args[i + 1]);
                case "--servers" -> servers = List.of(args[i + 1].split(","));
                case "--relayed-only" -> relayedOnly = Boolean.parseBoolean(args[i + 1]);
                case "--turn-batching" -> turnBatching = Boolean.parseBoolean(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String secret = randomSecret();
        if (!turnBatching) {
            System.setProperty("peerlink.turnServer.batching", "false");
        }
        TurnServer embedded = TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true)
                .maxAllocationsPerUser(1_000_000).maxAllocations(100_000).bytesPerSecondPerAllocation(1L << 40)
                .maxBytesPerAllocation(1L << 50).requestsPerSecondPerIp(1_000_000).maxLifetime(Duration.ofMinutes(10)).build());
        Process coturn = startCoturn(secret);
        ServerCpu cpu = new ServerCpu(coturn.pid());
        try {
            InetSocketAddress coturnAddress = new InetSocketAddress("127.0.0.1", coturnPort);
            System.out.printf("# %d allocations per measurement, %d datagrams of %d bytes per goodput run, %d runs, window %s, "
                            + "turn batching %s; %s%n", allocations, datagrams, SIZE, runs, window > 0 ? String.valueOf(window) : "none (unpaced)",
                    turnBatching ? "on" : "off", loadAverage());
            System.out.println("run  server    allocs/s  relayed-MB/s  delivered%  direct-MB/s  direct-delivered%  relayed/direct  server-CPU-s/GiB");
            for (int run = 1; run <= runs; run++) {
                for (String name : servers) {
                    InetSocketAddress server = name.equals("embedded") ? embedded.udpAddress() : coturnAddress;
                    double allocRate = allocationsPerSecond(server, secret, allocations);
                    lostAllowance = 0;
                    long cpuBefore = cpu.nanos(name);
                    double[] relayed = relayedGoodputRetrying(server, secret, datagrams);
                    double serverCpu = (cpu.nanos(name) - cpuBefore) / 1e9 / (relayed[2] / (double) (1L << 30));
                    lostAllowance = 0;
                    double[] direct = directGoodput(datagrams);
                    System.out.printf("%3d  %-8s  %8.0f  %12.1f  %10.1f  %11.1f  %17.1f  %14.2f  %16.2f  (437 retries: %d)%n", run, name,
                            allocRate, relayed[0], relayed[1], direct[0], direct[1], relayed[0] / direct[0], serverCpu,
                            mismatches.getAndSet(0));
                }
            }
            if (linkMib > 0) {
                linkRuns(runs, secret, embedded.udpAddress(), coturnAddress, cpu);
            }
            System.out.println("# " + loadAverage());
        } finally {
            embedded.close();
            coturn.destroy();
            coturn.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private static String randomSecret() {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        return HexFormat.of().formatHex(raw);
    }

    private static int coturnPort;

    private static Process startCoturn(String secret) throws IOException, InterruptedException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        coturnPort = port;
        Path dir = Files.createTempDirectory("coturn-bench");
        Process p = new ProcessBuilder("turnserver", "-n", "--use-auth-secret", "--static-auth-secret=" + secret,
                "--realm=bench", "--listening-ip=127.0.0.1", "--listening-port=" + port, "--relay-ip=127.0.0.1",
                "--allow-loopback-peers", "--no-cli", "--no-tls", "--no-dtls", "--no-rfc5780", "--no-software-attribute",
                "--db=" + dir.resolve("turndb"), "--pidfile=" + dir.resolve("pid"), "--log-file=" + dir.resolve("turn.log"),
                "--simple-log", "--no-stdout-log")
                .redirectErrorStream(true).redirectOutput(dir.resolve("stdout").toFile()).start();
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            probe.setSoTimeout(100);
            for (int i = 0; i < 100; i++) {
                ByteBuffer req = StunClient.request(StunClient.newTransactionId());
                probe.send(new DatagramPacket(req.array(), req.remaining(), new InetSocketAddress("127.0.0.1", port)));
                try {
                    probe.receive(new DatagramPacket(new byte[1500], 1500));
                    return p;
                } catch (SocketTimeoutException notYet) {
                    Thread.sleep(50);
                }
            }
        }
        p.destroy();
        throw new IOException("coturn did not start; see " + dir);
    }

    /** Four threads each connect, allocate (401 challenge + authenticated retry) and release. */
    private static double allocationsPerSecond(InetSocketAddress server, String secret, int count) throws Exception {
        int threads = 4;
        AtomicInteger next = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        long start = System.nanoTime();
        List<Future<?>> futures = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            futures.add(pool.submit(() -> {
                int i;
                while ((i = next.getAndIncrement()) < count) {
                    TurnCredentials c = TurnCredentials.mint(secret, "bench" + i, Instant.now().plusSeconds(600));
                    for (int attempt = 0; ; attempt++) {
                        try (TurnClient client = TurnClient.connect(TurnClient.Protocol.UDP, server, c, null)) {
                            client.allocate();
                            break;
                        } catch (TurnException e) {
                            // 437: the OS reused a local port whose allocation was not yet released
                            // (RFC 8656 7.3: retry from another 5-tuple); counted as a retry, not an allocation.
                            if (e.code() != 437 || attempt == 3) {
                                throw e;
                            }
                            mismatches.incrementAndGet();
                        }
                    }
                }
                return null;
            }));
        }
        for (Future<?> f : futures) {
            f.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        return count / seconds;
    }

    /**
     * {@link #relayedGoodput}, tried again (up to 3 times) when the server answers 437 because the OS reused a
     * local port whose allocation from the previous measurement was not yet released (RFC 8656 7.3: retry from
     * another 5-tuple), as the allocation measurement does.
     */
    private static double[] relayedGoodputRetrying(InetSocketAddress server, String secret, int count) throws Exception {
        for (int attempt = 0; ; attempt++) {
            try {
                return relayedGoodput(server, secret, count);
            } catch (TurnException e) {
                if (e.code() != 437 || attempt == 3) {
                    throw e;
                }
                System.out.println("# 437 from " + server + " at the goodput measurement's allocation: retried from new ports");
            }
        }
    }

    /** A blasts datagrams through its channel to B's relay; goodput = bytes at B / (last receive - first send). */
    private static double[] relayedGoodput(InetSocketAddress server, String secret, int count) throws Exception {
        Instant expiry = Instant.now().plusSeconds(600);
        try (TurnClient a = TurnClient.connect(TurnClient.Protocol.UDP, server, TurnCredentials.mint(secret, "gp-a", expiry), null);
             TurnClient b = TurnClient.connect(TurnClient.Protocol.UDP, server, TurnCredentials.mint(secret, "gp-b", expiry), null)) {
            AtomicLong received = new AtomicLong();
            AtomicLong lastAt = new AtomicLong();
            b.onData((peer, data) -> {
                received.addAndGet(data.remaining());
                lastAt.set(System.nanoTime());
            });
            InetSocketAddress relayA = a.allocate();
            InetSocketAddress relayB = b.allocate();
            b.bindChannel(relayA);
            a.bindChannel(relayB);
            ByteBuffer payload = ByteBuffer.allocate(SIZE);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                pace(i, received);
                a.send(relayB, payload);
            }
            awaitQuiet(lastAt);
            double seconds = (lastAt.get() - start) / 1e9;
            return new double[] {received.get() / seconds / 1e6, 100.0 * received.get() / ((long) count * SIZE), received.get()};
        }
    }

    private static double[] directGoodput(int count) throws Exception {
        try (DatagramChannel rx = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0));
             DatagramChannel tx = DatagramChannel.open().bind(new InetSocketAddress("127.0.0.1", 0))) {
            rx.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
            tx.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
            tx.connect(rx.getLocalAddress());
            AtomicLong received = new AtomicLong();
            AtomicLong lastAt = new AtomicLong();
            Thread reader = new Thread(() -> {
                ByteBuffer buf = ByteBuffer.allocate(2048);
                try {
                    while (true) {
                        rx.receive(buf.clear());
                        received.addAndGet(buf.position());
                        lastAt.set(System.nanoTime());
                    }
                } catch (IOException closed) {
                    // The channel closed: the run is over.
                }
            });
            reader.setDaemon(true);
            reader.start();
            ByteBuffer payload = ByteBuffer.allocate(SIZE);
            long start = System.nanoTime();
            for (int i = 0; i < count; i++) {
                pace(i, received);
                tx.write(payload.clear());
            }
            awaitQuiet(lastAt);
            double seconds = (lastAt.get() - start) / 1e9;
            return new double[] {received.get() / seconds / 1e6, 100.0 * received.get() / ((long) count * SIZE)};
        }
    }

    /**
     * With {@code --window N}, at most N datagrams are in flight: the sender waits (up to 20 ms,
     * then counts the rest as lost) until the receiver has caught up, as a window-limited link
     * would; it parks while it waits. Without it (window 0) the sender blasts unpaced.
     */
    private static void pace(int sent, AtomicLong receivedBytes) throws InterruptedException {
        if (window <= 0) {
            return;
        }
        long deadline = System.nanoTime() + 20_000_000L;
        while (sent - receivedBytes.get() / SIZE - lostAllowance > window) {
            if (System.nanoTime() > deadline) {
                lostAllowance = sent - receivedBytes.get() / SIZE - window;
                return;
            }
            // Parked, not spinning: a spinning sender takes a whole core from the relay and the
            // receiver on a small machine (JFR: 96 % of samples in this loop when it spun), which
            // measured the harness rather than the relay. A window-limited link sender blocks too.
            java.util.concurrent.locks.LockSupport.parkNanos(20_000);
        }
    }

    private static int window;
    private static int linkMib = 32;
    /** {@code --relayed-only true}: the link section runs the relayed cases only (e.g. to count their system calls). */
    private static boolean relayedOnly;
    /** {@code --turn-batching false}: the turn transport's leg and the embedded server's listener without batched system calls. */
    private static boolean turnBatching = true;
    private static List<String> servers = List.of("embedded", "coturn");

    // ------------------------------------------------------------------ two Devices: direct vs relayed link

    /**
     * Two Devices in this JVM, one sealed link, {@code --link-mib} MiB of 16 KiB ordered messages
     * (checked: none lost, duplicated or reordered): over a direct UDP path, then relayed through
     * each server with the {@code turn} transport (both devices allocate on the same server, UDP
     * legs). Device CPU = this process's CPU time minus the embedded server thread's, per MiB.
     */
    private static void linkRuns(int runs, String secret, InetSocketAddress embedded, InetSocketAddress coturn, ServerCpu cpu)
            throws Exception {
        BenchTurnTransports.configure(secret, "udp", turnBatching);
        System.out.printf("# links: %d MiB of 16 KiB ordered messages per case; %s%n", linkMib, loadAverage());
        System.out.println("run  path           MiB/s  x-direct  device-CPU-ms/MiB  x-direct  server-CPU-s/GiB  lost  dup  errors"
                + "  pkts-lost  retx-%  srtt-ms");
        // Warm-up of every path measured, so that no case's first run pays for JIT compilation alone.
        if (!relayedOnly) {
            link("warmup", null, 0, cpu, 0, 0, false);
            link("warmup", UNBATCHED, 0, cpu, 0, 0, false);
        }
        for (String name : servers) {
            link("warmup", name.equals("embedded") ? embedded : coturn, 0, cpu, 0, 0, false);
        }
        for (int run = 1; run <= runs; run++) {
            double[] direct = {-1, -1};
            if (!relayedOnly) {
                direct = link("direct", null, run, cpu, 0, 0, true);
                link("direct-unbatch", UNBATCHED, run, cpu, direct[0], direct[1], true);
            }
            for (String name : servers) {
                link("turn-" + name, name.equals("embedded") ? embedded : coturn, run, cpu, direct[0], direct[1], true);
            }
        }
        System.out.printf("# the seed paper's energy per 1 MB: relayed 12.716 mWh / direct 4.25 mWh = %.2f x%n", 12.716 / 4.25);
    }

    private static double[] link(String name, InetSocketAddress turn, int run, ServerCpu cpu, double directMibs, double directCpu,
            boolean print) throws Exception {
        io.peerlink.Device a = device(turn);
        io.peerlink.Device b = device(turn);
        try {
            LinkTransfer transfer = new LinkTransfer(print ? (long) linkMib << 20 : 8L << 20, 16 << 10);
            java.util.concurrent.CompletableFuture<io.peerlink.PeerLink> accepted = new java.util.concurrent.CompletableFuture<>();
            b.onIncoming(req -> req.accept().whenComplete((l, e) -> {
                if (e != null) {
                    accepted.completeExceptionally(e);
                } else {
                    transfer.receiveOn(l.channel());
                    accepted.complete(l);
                }
            }));
            io.peerlink.PeerLink la = a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(20, TimeUnit.SECONDS);
            accepted.get(20, TimeUnit.SECONDS);
            String server = turn == null || turn == UNBATCHED ? "none" : turn.getPort() == coturnPort ? "coturn" : "embedded";
            long processBefore = processCpu();
            long embeddedBefore = cpu.nanos("embedded");
            long serverBefore = cpu.nanos(server);
            transfer.sendOn(la.channel()).get(300, TimeUnit.SECONDS);
            transfer.await(60);
            long serverNanos = cpu.nanos(server) - serverBefore;
            io.peerlink.ChannelStats stats = la.channel().stats();
            long deviceNanos = processCpu() - processBefore - (cpu.nanos("embedded") - embeddedBefore);
            double mib = (double) transfer.messages * transfer.size / (1 << 20);
            double mibs = transfer.mibPerSecond();
            double cpuPerMib = deviceNanos / 1e6 / mib;
            if (print) {
                System.out.printf("%3d  %-13s  %6.1f  %8s  %17.2f  %8s  %16s  %4d  %3d  %6d  %9d  %7.2f  %7.2f%n", run, name, mibs,
                        directMibs > 0 ? String.format("%.2f", mibs / directMibs) : directMibs < 0 ? "-" : "1.00", cpuPerMib,
                        directCpu > 0 ? String.format("%.2f", cpuPerMib / directCpu) : directCpu < 0 ? "-" : "1.00",
                        turn == null || turn == UNBATCHED ? "-" : String.format("%.2f", serverNanos / 1e9 / (mib / 1024)),
                        transfer.lost(), transfer.duplicates(), transfer.errors(), stats.packetsLost(),
                        100.0 * stats.retransmittedBytes() / Math.max(1, stats.payloadBytesSent()),
                        stats.smoothedRtt().toNanos() / 1e6);
            }
            return new double[] {mibs, cpuPerMib};
        } finally {
            a.close();
            b.close();
        }
    }

    /**
     * Marks the direct case with the UDP transport's batching off ({@code udp.batching=false}: one
     * system call per datagram sent and received, no segmentation offload, no receive bursts), as
     * the {@code turn} transport's UDP leg sends: how much of the relayed link's gap to the direct
     * one the direct path's batching explains.
     */
    private static final InetSocketAddress UNBATCHED = InetSocketAddress.createUnresolved("unbatched", 1);

    private static io.peerlink.Device device(InetSocketAddress turn) {
        io.peerlink.Device.Builder b = io.peerlink.PeerLinks.device().ephemeralIdentity();
        if (turn == null) {
            b.udp(new InetSocketAddress("127.0.0.1", 0));
        } else if (turn == UNBATCHED) {
            b.transport(io.peerlink.Endpoint.parse("udp://127.0.0.1:0"), java.util.Map.of("udp.batching", false));
        } else {
            b.transport(io.peerlink.Endpoint.parse("turn://127.0.0.1:" + turn.getPort()), BenchTurnTransports.class.getName());
        }
        return b.build();
    }

    private static long processCpu() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    static String loadAverage() {
        try {
            return "load average " + Files.readString(Path.of("/proc/loadavg")).trim();
        } catch (IOException e) {
            return "load average unknown (" + e.getMessage() + ")";
        }
    }

    /** CPU time of a relay: the embedded server's one thread (this JVM), or the coturn process (/proc). */
    static final class ServerCpu {
        private final long coturnPid;
        private final long ticksPerSecond;

        ServerCpu(long coturnPid) throws IOException, InterruptedException {
            this.coturnPid = coturnPid;
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.US_ASCII).trim();
            p.waitFor();
            this.ticksPerSecond = Long.parseLong(out);
        }

        long nanos(String server) throws IOException {
            return switch (server) {
                case "embedded" -> embeddedThreadCpu();
                case "coturn" -> coturnCpu();
                default -> 0;
            };
        }

        private static long embeddedThreadCpu() {
            java.lang.management.ThreadMXBean mx = java.lang.management.ManagementFactory.getThreadMXBean();
            for (Thread t : Thread.getAllStackTraces().keySet()) {
                if (t.getName().equals("turn-server")) {
                    return mx.getThreadCpuTime(t.getId());
                }
            }
            throw new IllegalStateException("no turn-server thread");
        }

        private long coturnCpu() throws IOException {
            String stat = Files.readString(Path.of("/proc/" + coturnPid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            // Fields 14 and 15 of proc(5) (utime, stime), counted from the state field (3rd).
            long ticks = Long.parseLong(f[11]) + Long.parseLong(f[12]);
            return ticks * 1_000_000_000L / ticksPerSecond;
        }
    }
    private static long lostAllowance;

    private static void awaitQuiet(AtomicLong lastAt) throws InterruptedException {
        long seen = -1;
        for (int idle = 0; lastAt.get() != seen || (lastAt.get() == 0 && idle < 30); idle++) {
            seen = lastAt.get();
            Thread.sleep(300);
        }
        if (lastAt.get() == 0) {
            throw new IllegalStateException("nothing was received");
        }
    }
}
