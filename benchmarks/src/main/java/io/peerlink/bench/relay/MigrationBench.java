package io.peerlink.bench.relay;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.relay.turn.TurnServer;
import io.peerlink.relay.turn.TurnServerConfig;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * Migration during a bulk transfer between two Devices (sealed link, ordered messages checked for
 * loss, duplication, reordering and corruption), on loopback:
 *
 * <ul>
 *   <li>{@code relay-to-direct}: both devices have a UDP and a {@code turn} transport (embedded
 *       TURN server); the link starts on the relayed path; at {@code --at} of the transfer the
 *       dialer adds the direct UDP path, which validates, and the session moves (relay to direct
 *       upgrade).</li>
 *   <li>{@code rebinding}: the dialer reaches the listener through a {@link LoopbackNat}; at
 *       {@code --at} the NAT rebinds (new outside port, old one closed); the listener sees the
 *       dialer's packets from the new port, validates it and moves.</li>
 * </ul>
 *
 * <p>Delivery stall = the longest time without a delivered message from the trigger to 500 ms after
 * the last PathChanged of either side, next to the longest gap in an equally long window just
 * before the trigger (same run, old path) and to 2 RTTs of the new path (its validation RTT, and
 * the median of 20 pings on it after the transfer).
 *
 * <pre>
 * java -cp "benchmarks/target/peerlink-benchmarks-0.1.0-SNAPSHOT.jar:benchmarks/target/lib/*" \
 *   io.peerlink.bench.relay.MigrationBench [--mib 100] [--message 4096] [--at 0.3] [--runs 1] [--cases relay-to-direct,rebinding]
 * </pre>
 */
public final class MigrationBench {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);

    private MigrationBench() {
    }

    public static void main(String[] args) throws Exception {
        int mib = 100;
        int message = 4096;
        double at = 0.3;
        int runs = 1;
        List<String> cases = List.of("relay-to-direct", "rebinding");
        for (int i = 0; i + 1 < args.length; i += 2) {
            switch (args[i]) {
                case "--mib" -> mib = Integer.parseInt(args[i + 1]);
                case "--message" -> message = Integer.parseInt(args[i + 1]);
                case "--at" -> at = Double.parseDouble(args[i + 1]);
                case "--runs" -> runs = Integer.parseInt(args[i + 1]);
                case "--cases" -> cases = List.of(args[i + 1].split(","));
                default -> throw new IllegalArgumentException("unknown option " + args[i]);
            }
        }
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String secret = HexFormat.of().formatHex(raw);
        BenchTurnTransports.configure(secret, "udp");
        try (TurnServer turn = TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true).tcpPort(-1)
                .bytesPerSecondPerAllocation(1L << 40).maxBytesPerAllocation(1L << 50).build())) {
            System.out.printf(Locale.ROOT, "# %d MiB of %d-byte ordered messages per case, trigger at %.0f %%; %s%n",
                    mib, message, at * 100, TurnBench.loadAverage());
            System.out.println("run  case             MiB/s  lost  dup  errors  stall-ms  before-ms  median-gap-ms  new-path  rtt-ms(validation)  rtt-ms(ping)  stall/2RTT(ping)");
            // Warm-up, not recorded: the JIT compiles the link, relay and NAT paths.
            for (String c : cases) {
                run(c, 0, 8, message, at, turn, false);
            }
            for (int r = 1; r <= runs; r++) {
                for (String c : cases) {
                    run(c, r, mib, message, at, turn, true);
                }
            }
            System.out.println("# " + TurnBench.loadAverage());
        }
    }

    private static void run(String name, int run, int mib, int message, double at, TurnServer turn, boolean print) throws Exception {
        List<AutoCloseable> closeables = new ArrayList<>();
        try {
            Endpoint turnServer = Endpoint.parse("turn://127.0.0.1:" + turn.udpAddress().getPort());
            boolean relay = name.equals("relay-to-direct");
            if (!relay && !name.equals("rebinding")) {
                throw new IllegalArgumentException("unknown case " + name);
            }
            Device.Builder ab = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK);
            Device.Builder bb = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK);
            if (relay) {
                ab.transport(turnServer, BenchTurnTransports.class.getName());
                bb.transport(turnServer, BenchTurnTransports.class.getName());
            }
            Device a = ab.build();
            closeables.add(a);
            Device b = bb.build();
            closeables.add(b);
            LoopbackNat nat = null;
            Endpoint target;
            if (relay) {
                target = b.localEndpoints().get(1);
            } else {
                nat = new LoopbackNat(b.localEndpoints().get(0).toSocketAddress());
                closeables.add(nat);
                target = Endpoint.udp(nat.front());
            }
            LinkTransfer transfer = new LinkTransfer((long) mib << 20, message);
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().thenAccept(l -> {
                transfer.receiveOn(l.channel());
                accepted.complete(l);
            }));
            PeerLink la = a.connect(target).toCompletableFuture().get(20, TimeUnit.SECONDS);
            PeerLink lb = accepted.get(20, TimeUnit.SECONDS);
            long[] changedAt = new long[2];
            LinkEvent.PathChanged[] change = new LinkEvent.PathChanged[2];
            la.addListener(e -> {
                if (e instanceof LinkEvent.PathChanged c) {
                    changedAt[0] = System.nanoTime();
                    change[0] = c;
                }
            });
            lb.addListener(e -> {
                if (e instanceof LinkEvent.PathChanged c) {
                    changedAt[1] = System.nanoTime();
                    change[1] = c;
                }
            });
            String before = la.path().kind() + "";
            CompletableFuture<Void> sending = transfer.sendOn(la.channel());
            int trigger = (int) (transfer.messages * at);
            while (transfer.delivered() < trigger) {
                if (sending.isDone()) {
                    sending.get();
                }
                Thread.sleep(1);
            }
            long t0 = System.nanoTime();
            if (relay) {
                la.addPath(a.localEndpoints().get(0), b.localEndpoints().get(0));
            } else {
                nat.rebind();
            }
            sending.get(600, TimeUnit.SECONDS);
            transfer.await(60);
            Thread.sleep(100);
            long changed = Math.max(changedAt[0], changedAt[1]);
            if (changed == 0) {
                throw new IllegalStateException(name + ": no PathChanged on either side; paths " + la.paths() + " / " + lb.paths());
            }
            long windowEnd = changed + 500_000_000L;
            long stall = transfer.longestGap(t0, windowEnd);
            long beforeGap = transfer.longestGap(t0 - (windowEnd - t0), t0);
            // The side that moved to the new path by itself: the dialer (relay to direct), the listener (rebinding).
            LinkEvent.PathChanged moved = relay ? change[0] : change[1];
            Duration validationRtt = moved.to().rtt();
            PeerLink pinger = relay ? la : lb;
            List<Long> pings = new ArrayList<>();
            for (int i = 0; i < 20; i++) {
                pings.add(pinger.ping().toCompletableFuture().get(5, TimeUnit.SECONDS).toNanos());
            }
            pings.sort(null);
            long ping = pings.get(pings.size() / 2);
            if (print) {
                System.out.printf(Locale.ROOT, "%3d  %-15s  %6.1f  %4d  %3d  %6d  %8.2f  %9.2f  %13.3f  %-8s  %18.3f  %12.3f  %16.1f%n",
                        run, name, transfer.mibPerSecond(), transfer.lost(), transfer.duplicates(), transfer.errors(), stall / 1e6,
                        beforeGap / 1e6, transfer.medianGap() / 1e6, before + "->" + moved.to().kind(), validationRtt.toNanos() / 1e6,
                        ping / 1e6, stall / (2.0 * ping));
                if (transfer.errors() > 0) {
                    System.out.println("     first error: " + transfer.firstError());
                }
            }
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                closeables.get(i).close();
            }
        }
    }
}
