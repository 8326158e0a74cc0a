package io.peerlink.bench.e2e;

import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * How long a link takes to notice a peer that died (SIGKILL of its JVM): through the
 * rendezvous server's peer-offline message (a link made by {@code connect(DeviceId)}), next to
 * the baseline without it (a direct {@code connect(Endpoint)} link, which only the idle timeout
 * closes). Real reference server, real UDP on 127.0.0.1, the peer in its own JVM.
 *
 * <p>Usage: {@code PeerOfflineDetection [--runs 5] [--baseline-runs 1]}; docs/benchmarks.md.
 */
public final class PeerOfflineDetection {
    private PeerOfflineDetection() {
    }

    /**
     * @param args options, or {@code --peer <key> <uri> <stunHost> <stunPort>} for the child JVM
     * @throws Exception on failure
     */
    public static void main(String[] args) throws Exception {
        if (args.length > 0 && args[0].equals("--peer")) {
            peer(args);
            return;
        }
        int runs = 5;
        int baselineRuns = 1;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--baseline-runs" -> baselineRuns = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        Path dir = Files.createTempDirectory("peer-offline");
        Path aKey = dir.resolve("a.key");
        Path bKey = dir.resolve("b.key");
        DeviceId b = DeviceIdentity.loadOrCreate(bKey).id();
        Files.writeString(dir.resolve("allow"), DeviceIdentity.loadOrCreate(aKey).id() + " home\n" + b + " home\n");
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(0).coapPort(-1).allowListFile(dir.resolve("allow")).build());
             Device a = PeerLinks.device().identity(aKey).rendezvous(server.controlUri()).stunServer(server.stunAddress())
                     .udp(new InetSocketAddress("127.0.0.1", 0)).build()) {
            a.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
            System.out.println("idle timeout (ChannelOptions default): " + io.peerlink.ChannelOptions.defaults().idleTimeout());
            List<Double> offline = new ArrayList<>();
            for (int r = 0; r < runs; r++) {
                offline.add(run(server, a, bKey, b, true));
            }
            List<Double> baseline = new ArrayList<>();
            for (int r = 0; r < baselineRuns; r++) {
                baseline.add(run(server, a, bKey, b, false));
            }
            System.out.printf(Locale.ROOT, "peer-offline (rendezvous link): %s s, median %.3f s%n", offline, median(offline));
            if (!baseline.isEmpty()) {
                System.out.printf(Locale.ROOT, "baseline (direct link, idle timeout): %s s, median %.3f s%n", baseline, median(baseline));
            }
        }
    }

    private static double median(List<Double> values) {
        List<Double> s = new ArrayList<>(values);
        s.sort(null);
        return s.get(s.size() / 2);
    }

    /** @return seconds from SIGKILL of the peer to the link's close */
    private static double run(ReferenceServer server, Device a, Path bKey, DeviceId b, boolean viaRendezvous) throws Exception {
        ProcessBuilder pb = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), PeerOfflineDetection.class.getName(), "--peer", bKey.toString(),
                server.controlUri().toString(), server.stunAddress().getHostString(), String.valueOf(server.stunAddress().getPort()));
        pb.redirectErrorStream(true);
        Process p = pb.start();
        try {
            BufferedReader out = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
            String endpoint = null;
            for (String line; (line = out.readLine()) != null; ) {
                if (line.startsWith("ready ")) {
                    endpoint = line.substring(6);
                    break;
                }
            }
            if (endpoint == null) {
                throw new IllegalStateException("peer JVM ended before it was ready");
            }
            PeerLink link;
            if (viaRendezvous) {
                link = a.connect(b).toCompletableFuture().get(20, TimeUnit.SECONDS);
            } else {
                String[] hp = endpoint.split(":");
                link = a.connect(Endpoint.udp(new InetSocketAddress(hp[0], Integer.parseInt(hp[1]))))
                        .toCompletableFuture().get(20, TimeUnit.SECONDS);
            }
            link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS);
            CompletableFuture<CloseReason> closed = link.channel().closed().toCompletableFuture();
            long t0 = System.nanoTime();
            p.destroyForcibly();
            CloseReason reason = closed.get(120, TimeUnit.SECONDS);
            double seconds = (System.nanoTime() - t0) / 1e9;
            System.out.printf(Locale.ROOT, "%s link: closed %.3f s after SIGKILL: %s%n",
                    viaRendezvous ? "rendezvous" : "direct", seconds, reason);
            return seconds;
        } finally {
            p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static void peer(String[] args) throws Exception {
        Device d = PeerLinks.device().identity(Path.of(args[1])).rendezvous(URI.create(args[2]))
                .stunServer(new InetSocketAddress(args[3], Integer.parseInt(args[4])))
                .udp(new InetSocketAddress("127.0.0.1", 0)).build();
        List<PeerLink> keep = new java.util.concurrent.CopyOnWriteArrayList<>();
        d.onIncoming(request -> request.accept().thenAccept(keep::add));
        d.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
        InetSocketAddress local = d.localEndpoints().get(0).toSocketAddress();
        System.out.println("ready " + local.getHostString() + ":" + local.getPort());
        System.out.flush();
        Thread.sleep(TimeUnit.MINUTES.toMillis(5));   // bounded: the harness kills it
        d.abort();
    }
}
