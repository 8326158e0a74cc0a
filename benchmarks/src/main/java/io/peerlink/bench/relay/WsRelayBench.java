package io.peerlink.bench.relay;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Goodput of one sealed link through the reference server's relays on loopback, in one JVM and
 * one invocation (docs/benchmarks.md, "WebSocket relay"): two Devices introduced by the
 * rendezvous move M MiB of ordered messages over the direct path (baseline) and relayed over the
 * rendezvous WebSockets ({@code -Dpeerlink.race=relay}, no TURN server); for comparison two Devices
 * with a {@code turn} transport each ({@link BenchTurnTransports}, UDP legs) move the same through
 * an embedded {@code TurnServer} (the benchmarks' class path has two {@code turn} providers, so
 * rendezvous-minted TURN cannot be used here). Every transfer is checked for loss, duplication,
 * reordering and corruption. The relay limits are raised to 1 GiB/s so that they do not cap the
 * figure. Process CPU per MiB (devices and server together) is printed next to each.
 *
 * <pre>java -cp ... io.peerlink.bench.relay.WsRelayBench --mib 16 --runs 3 --message 16384</pre>
 */
public final class WsRelayBench {
    private static io.peerlink.relay.turn.TurnServer turn;

    private WsRelayBench() {
    }

    /** @param args {@code --mib M --runs R --message BYTES} */
    public static void main(String[] args) throws Exception {
        int mib = 16;
        int runs = 3;
        int message = 16384;
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mib" -> mib = Integer.parseInt(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--message" -> message = Integer.parseInt(args[i + 1]);
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        System.out.printf(Locale.ROOT, "%d MiB of %d-byte ordered messages per case, %d runs, load average %.1f%n", mib, message, runs,
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.println("| run | direct MiB/s | TURN MiB/s | x direct | WebSocket relay MiB/s | x direct | x TURN | CPU ms/MiB direct / TURN / ws |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        String secret = "wsrelay-bench-secret-0123456789";
        BenchTurnTransports.configure(secret, "udp");
        turn = io.peerlink.relay.turn.TurnServer.start(io.peerlink.relay.turn.TurnServerConfig.builder(secret).allowLoopbackPeers(true)
                .tcpPort(-1).bytesPerSecondPerAllocation(1L << 40).maxBytesPerAllocation(1L << 50).build());
        // Warm-up, not recorded: the JIT compiles the link and relay paths.
        run("direct", 4, message);
        run("turn", 4, message);
        run("ws", 4, message);
        for (int r = 1; r <= runs; r++) {
            double[] direct = run("direct", mib, message);
            double[] turn = run("turn", mib, message);
            double[] ws = run("ws", mib, message);
            System.out.printf(Locale.ROOT, "| %d | %.1f | %.1f | %.2f | %.1f | %.2f | %.2f | %.1f / %.1f / %.1f |%n", r, direct[0], turn[0],
                    turn[0] / direct[0], ws[0], ws[0] / direct[0], ws[0] / turn[0], direct[1], turn[1], ws[1]);
        }
        System.out.printf(Locale.ROOT, "load average at the end %.1f%n", ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.exit(0);
    }

    /** @return {MiB/s, process CPU ms per MiB} */
    private static double[] run(String mode, int mib, int message) throws Exception {
        if ("turn".equals(mode)) {
            return runTurn(mib, message);
        }
        System.setProperty("peerlink.race", "direct".equals(mode) ? "all" : "relay");
        System.setProperty("peerlink.wsrelay", String.valueOf("ws".equals(mode)));
        Path dir = Files.createTempDirectory("wsrelay-bench");
        Path aKey = dir.resolve("a.key");
        Path bKey = dir.resolve("b.key");
        DeviceId b = DeviceIdentity.loadOrCreate(bKey).id();
        Files.writeString(dir.resolve("allow"), DeviceIdentity.loadOrCreate(aKey).id() + "\n" + b + "\n");
        ServerConfig config = ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .turnPort(-1).relayLimits(1L << 40, 1L << 30, 4)
                .allowListFile(dir.resolve("allow")).build();
        InetSocketAddress lo = new InetSocketAddress("127.0.0.1", 0);
        try (ReferenceServer server = ReferenceServer.start(config);
             Device da = PeerLinks.device().identity(aKey).rendezvous(server.controlUri()).stunServer(server.stunAddress()).udp(lo).build();
             Device db = PeerLinks.device().identity(bKey).rendezvous(server.controlUri()).stunServer(server.stunAddress()).udp(lo).build()) {
            da.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
            db.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
            LinkTransfer transfer = new LinkTransfer((long) mib << 20, message);
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            db.onIncoming(req -> req.accept().thenAccept(l -> {
                transfer.receiveOn(l.channel());
                accepted.complete(l);
            }));
            PeerLink la = da.connect(b).toCompletableFuture().get(30, TimeUnit.SECONDS);
            accepted.get(10, TimeUnit.SECONDS);
            String expected = "ws".equals(mode) ? "wsrelay" : "udp";
            if (!expected.equals(la.path().local().scheme())) {
                throw new IllegalStateException(mode + ": the link runs on " + la.path() + ", not " + expected);
            }
            return measure(mode, transfer, la, expected, mib);
        } finally {
            System.clearProperty("peerlink.race");
            System.clearProperty("peerlink.wsrelay");
        }
    }

    private static double[] measure(String mode, LinkTransfer transfer, PeerLink la, String expected, int mib) throws Exception {
        long cpu0 = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
        transfer.sendOn(la.channel()).get(600, TimeUnit.SECONDS);
        transfer.await(120);
        long cpu = ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime() - cpu0;
        if (transfer.errors() > 0 || transfer.lost() > 0 || transfer.duplicates() > 0) {
            throw new IllegalStateException(mode + ": " + transfer.errors() + " errors, first: " + transfer.firstError());
        }
        if (!expected.equals(la.path().local().scheme())) {
            throw new IllegalStateException(mode + ": the link moved to " + la.path());
        }
        return new double[] {transfer.mibPerSecond(), cpu / 1e6 / mib};
    }

    /** Two Devices whose second transport is a TURN allocation each, linked relay to relay. */
    private static double[] runTurn(int mib, int message) throws Exception {
        io.peerlink.Endpoint server = io.peerlink.Endpoint.parse("turn://127.0.0.1:" + turn.udpAddress().getPort());
        InetSocketAddress lo = new InetSocketAddress("127.0.0.1", 0);
        try (Device a = PeerLinks.device().ephemeralIdentity().udp(lo).transport(server, BenchTurnTransports.class.getName()).build();
             Device b = PeerLinks.device().ephemeralIdentity().udp(lo).transport(server, BenchTurnTransports.class.getName()).build()) {
            LinkTransfer transfer = new LinkTransfer((long) mib << 20, message);
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(l -> {
                transfer.receiveOn(l.channel());
                accepted.complete(l);
            }));
            PeerLink la = a.connect(b.localEndpoints().get(1)).toCompletableFuture().get(30, TimeUnit.SECONDS);
            accepted.get(10, TimeUnit.SECONDS);
            return measure("turn", transfer, la, "turn", mib);
        }
    }
}
