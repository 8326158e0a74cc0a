package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.TimeUnit;

/**
 * One load-generator process of {@link TwoNodeRedis}: a {@link Fleet} of simulated devices in its
 * own JVM, because one process may hold only as many sockets as its open-file limit allows
 * (20,000 here, and the hard limit cannot be raised in this container). Driven line by line on
 * stdin by the orchestrator; answers on stdout:
 * <pre>
 *   (start)                       -> id &lt;deviceId&gt; ... then "ids &lt;n&gt;"
 *   servers &lt;uri&gt; [&lt;uri&gt;]         -> connected &lt;registered&gt; &lt;failed&gt; &lt;nanos&gt; &lt;reconnects&gt;
 *   run &lt;warmupS&gt; &lt;durationS&gt;    -> result &lt;completed&gt; &lt;seconds&gt; &lt;p50ns&gt; &lt;p99ns&gt; &lt;errors&gt; &lt;mismatches&gt; &lt;lost&gt; &lt;problems&gt;
 *   exit
 * </pre>
 * Arguments: device count, first source address index, source address count, concurrency.
 */
public final class FleetWorker {
    private FleetWorker() {
    }

    /**
     * @param args device count, first source address, source addresses, introductions in flight
     * @throws Exception if the worker fails
     */
    public static void main(String[] args) throws Exception {
        int count = Integer.parseInt(args[0]);
        int firstSource = Integer.parseInt(args[1]);
        int sources = Integer.parseInt(args[2]);
        int concurrency = Integer.parseInt(args[3]);
        PrintStream out = System.out;
        DeviceIdentity[] identities = Fleet.identities(count);
        for (DeviceIdentity identity : identities) {
            out.println("id " + identity.id().value());
        }
        out.println("ids " + count);
        out.flush();
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        Fleet fleet = null;
        try {
            for (String line; (line = in.readLine()) != null; ) {
                String[] w = line.trim().split(" ");
                if (w[0].equals("servers")) {
                    List<URI> servers = new ArrayList<>();
                    for (int i = 1; i < w.length; i++) {
                        servers.add(URI.create(w[i]));
                    }
                    fleet = new Fleet(servers, sources, firstSource);
                    fleet.add(identities);
                    // 64 handshakes in flight: on a loaded 2-core machine more pile up past the server's 10 s hello timeout.
                    // A device whose hello timed out on an overloaded server reconnects, as RendezvousClient does (3 rounds).
                    Fleet.RetriedConnect r = fleet.connectRetrying(count, 64, 3);
                    out.println("connected " + r.registered() + " " + r.failed() + " " + r.nanos() + " " + r.reconnects());
                } else if (w[0].equals("run")) {
                    int nodes = Integer.parseInt(w[3]);
                    // Problems are counted per run (the connect phase's hello time-outs, if any, were retried above).
                    for (java.util.concurrent.atomic.LongAdder a : List.of(fleet.unexpectedCloses, fleet.serverErrors, fleet.protocolErrors,
                            fleet.unexpected, fleet.sendFailures)) {
                        a.reset();
                    }
                    Introductions run = new Introductions(fleet.devices(), count, concurrency, nodes);
                    fleet.introductions(run);
                    Introductions.Result r = run.run(() -> 0L, TimeUnit.SECONDS.toNanos(Long.parseLong(w[1])),
                            TimeUnit.SECONDS.toNanos(Long.parseLong(w[2])), null);
                    fleet.introductions(null);
                    long problems = fleet.unexpectedCloses.sum() + fleet.serverErrors.sum() + fleet.protocolErrors.sum()
                            + fleet.unexpected.sum() + fleet.sendFailures.sum();
                    out.println(String.format(Locale.ROOT, "result %d %.3f %d %d %d %d %d %d", r.completed(), r.seconds(),
                            r.p50Nanos(), r.p99Nanos(), r.errors(), r.mismatches(), r.lost(), problems));
                } else if (w[0].equals("exit")) {
                    break;
                }
                out.flush();
            }
        } finally {
            if (fleet != null) {
                fleet.close();
            }
        }
    }
}
