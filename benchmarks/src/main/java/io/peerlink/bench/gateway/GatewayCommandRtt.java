package io.peerlink.bench.gateway;

import io.peerlink.gateway.Command;
import io.peerlink.gateway.CommandResult;
import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayKeyStore;
import io.peerlink.gateway.GatewayLimits;
import io.peerlink.gateway.GatewayServer;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Socket.IO command round trip (platform → gateway → acknowledgement) with many concurrent
 * gateways on loopback, WebSocket and HTTP long-polling measured in the same run, each against
 * a fresh in-process {@link GatewayServer}. The gateways are the official npm socket.io-client
 * in one node process ({@code gateway/src/test/node/fleet.js}; run {@code npm ci} there first).
 * See docs/benchmarks.md, "Socket.IO gateway command round trip".
 */
public final class GatewayCommandRtt {

    private GatewayCommandRtt() {}

    public static void main(String[] args) throws Exception {
        int gateways = intArg(args, "--gateways", 1000);
        int samples = intArg(args, "--samples", 3000);
        int concurrency = intArg(args, "--concurrency", 32);
        int warmup = intArg(args, "--warmup", 500);
        Path nodeDir = Path.of(strArg(args, "--node-dir", "gateway/src/test/node")).toAbsolutePath();
        List<String> transports = Arrays.asList(strArg(args, "--transports", "websocket,polling").split(","));
        if (!Files.isDirectory(nodeDir.resolve("node_modules/socket.io-client"))) {
            throw new IllegalStateException("run `npm ci` in " + nodeDir + " first");
        }
        System.out.printf("gateways=%d samples=%d concurrency=%d warmup=%d cores=%d java=%s%n", gateways, samples,
                concurrency, warmup, Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"));
        for (String transport : transports) {
            run(transport, gateways, samples, concurrency, warmup, nodeDir);
        }
    }

    private static void run(String transport, int gateways, int samples, int concurrency, int warmup, Path nodeDir)
            throws Exception {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        GatewayKey key = new GatewayKey.HmacSha256(secret);
        // The fleet connects from one address: lift the per-address admission limit for the run.
        GatewayLimits limits = GatewayLimits.DEFAULTS.withConnectRate(100_000, 100_000)
                .withEventRate(10_000, 10_000);
        try (GatewayServer gateway = GatewayServer.builder(id -> id.startsWith("bench-") ? Optional.of(key)
                : Optional.empty()).limits(limits).build()) {
            Server jetty = new Server();
            ServerConnector connector = new ServerConnector(jetty);
            connector.setHost("127.0.0.1");
            connector.setPort(0);
            jetty.addConnector(connector);
            jetty.setHandler(new ContextHandlerCollection(gateway.contextHandler()));
            jetty.start();
            String config = "{\"url\":\"http://127.0.0.1:" + connector.getLocalPort() + "\",\"transport\":\""
                    + transport + "\",\"count\":" + gateways + ",\"parallel\":50,\"prefix\":\"bench-\",\"secret\":\""
                    + Base64.getEncoder().encodeToString(secret) + "\",\"heartbeatMs\":10000}";
            Process node = new ProcessBuilder("node", "fleet.js", config).directory(nodeDir.toFile())
                    .redirectError(ProcessBuilder.Redirect.INHERIT).start();
            try {
                long t0 = System.nanoTime();
                BufferedReader r = new BufferedReader(new InputStreamReader(node.getInputStream(),
                        StandardCharsets.UTF_8));
                String ready = r.readLine();
                System.out.printf("%s: fleet %s in %.1f s, online %d%n", transport, ready,
                        (System.nanoTime() - t0) / 1e9, gateway.platform().onlineGateways().size());
                int online = gateway.platform().onlineGateways().size();
                if (online == 0) {
                    throw new IllegalStateException("no gateway came online");
                }
                measure(gateway, online, warmup, concurrency, null);
                long[] rtt = new long[samples];
                long start = System.nanoTime();
                long errors = measure(gateway, online, samples, concurrency, rtt);
                double seconds = (System.nanoTime() - start) / 1e9;
                Arrays.sort(rtt);
                System.out.printf("%s: gateways=%d samples=%d errors=%d p50=%.2f ms p90=%.2f ms p99=%.2f ms "
                                + "max=%.2f ms mean=%.2f ms throughput=%.0f cmd/s%n", transport, online, samples, errors,
                        pct(rtt, 50), pct(rtt, 90), pct(rtt, 99), rtt[rtt.length - 1] / 1e6,
                        Arrays.stream(rtt).average().orElse(0) / 1e6, samples / seconds);
            } finally {
                node.getOutputStream().close();
                if (!node.waitFor(20, TimeUnit.SECONDS)) {
                    node.destroyForcibly();
                }
                jetty.stop();
            }
        }
    }

    /** Sends {@code n} commands to random gateways, at most {@code concurrency} in flight; returns the error count. */
    private static long measure(GatewayServer gateway, int gateways, int n, int concurrency, long[] rtt)
            throws InterruptedException {
        Semaphore inFlight = new Semaphore(concurrency);
        AtomicLong errors = new AtomicLong();
        List<CompletableFuture<?>> all = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            inFlight.acquire();
            int slot = i;
            String gw = "bench-" + ThreadLocalRandom.current().nextInt(gateways);
            long t = System.nanoTime();
            CompletableFuture<CommandResult> f = gateway.platform().sendCommand(new Command(gw, "d", "noop", "{}",
                    Duration.ofSeconds(10))).toCompletableFuture();
            all.add(f.whenComplete((res, e) -> {
                if (rtt != null) {
                    rtt[slot] = System.nanoTime() - t;
                }
                if (e != null || !res.ok()) {
                    errors.incrementAndGet();
                }
                inFlight.release();
            }));
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        return errors.get();
    }

    private static double pct(long[] sorted, int p) {
        int i = (int) Math.ceil(p / 100.0 * sorted.length) - 1;
        return sorted[Math.max(0, i)] / 1e6;
    }

    private static int intArg(String[] args, String name, int dflt) {
        return Integer.parseInt(strArg(args, name, Integer.toString(dflt)));
    }

    private static String strArg(String[] args, String name, String dflt) {
        for (int i = 0; i + 1 < args.length; i++) {
            if (args[i].equals(name)) {
                return args[i + 1];
            }
        }
        return dflt;
    }
}
