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
 * datagrams through a channel, next to a direct UDP blast as the baseline. Run on demand:
 *
 * <pre>
 * java -cp "benchmarks/target/peerlink-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   io.peerlink.bench.relay.TurnBench [--allocations 2000] [--datagrams 50000] [--runs 3] [--window 256]
 * </pre>
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
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        String secret = randomSecret();
        TurnServer embedded = TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true)
                .maxAllocationsPerUser(1_000_000).maxAllocations(100_000).bytesPerSecondPerAllocation(1L << 40)
                .maxBytesPerAllocation(1L << 50).requestsPerSecondPerIp(1_000_000).maxLifetime(Duration.ofMinutes(10)).build());
        Process coturn = startCoturn(secret);
        try {
            InetSocketAddress coturnAddress = new InetSocketAddress("127.0.0.1", coturnPort);
            System.out.printf("# %d allocations per measurement, %d datagrams of %d bytes per goodput run, %d runs, window %s%n",
                    allocations, datagrams, SIZE, runs, window > 0 ? String.valueOf(window) : "none (unpaced)");
            System.out.println("run  server    allocs/s  relayed-MB/s  delivered%  direct-MB/s  direct-delivered%");
            for (int run = 1; run <= runs; run++) {
                for (String name : List.of("embedded", "coturn")) {
                    InetSocketAddress server = name.equals("embedded") ? embedded.udpAddress() : coturnAddress;
                    double allocRate = allocationsPerSecond(server, secret, allocations);
                    lostAllowance = 0;
                    double[] relayed = relayedGoodput(server, secret, datagrams);
                    lostAllowance = 0;
                    double[] direct = directGoodput(datagrams);
                    System.out.printf("%3d  %-8s  %8.0f  %12.1f  %10.1f  %11.1f  %17.1f  (437 retries: %d)%n", run, name, allocRate,
                            relayed[0], relayed[1], direct[0], direct[1], mismatches.getAndSet(0));
                }
            }
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
            return new double[] {received.get() / seconds / 1e6, 100.0 * received.get() / ((long) count * SIZE)};
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
     * would. Without it (window 0) the sender blasts unpaced.
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
            Thread.onSpinWait();
        }
    }

    private static int window;
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
