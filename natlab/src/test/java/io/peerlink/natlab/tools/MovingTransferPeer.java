package io.peerlink.natlab.tools;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.SendBufferFullException;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HexFormat;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A lab device for transfers across a move ({@code MovingDeviceTest}), on the public API only,
 * linked through the rendezvous. Messages are numbered, so the receiver counts what was lost,
 * duplicated or reordered, and it timestamps every gap in the delivery.
 *
 * <pre>
 * listen KEY SERVER_URI [TIMES_FILE]
 *     prints "registered ID" and "udp ENDPOINT" (its UDP transport's local endpoint); accepts one link; for every message checks its number and prints
 *     "progress N" every 16 messages, "gap MS before N at EPOCH_MS" for a pause in delivery over
 *     30 ms, and on the end marker "received N bytes=B sha256=HEX lost=L duplicated=D reordered=R";
 *     then answers "DONE" and prints "path-final ..." when the link closes. With TIMES_FILE, it
 *     writes there when each message was delivered (epoch microseconds, one a line, in order)
 *     before answering.
 * send KEY SERVER_URI PEER_ID MESSAGES SIZE
 *     links to PEER_ID, sends MESSAGES numbered messages of SIZE seeded random bytes, then the end
 *     marker; prints "progress N" every 16 messages, "sent N sha256=HEX", waits for "DONE",
 *     lingers 3 s (then until its link runs DIRECT_PUBLIC, 10 s in all at most) and prints "path-final ...". A line "addpath REMOTE" on its stdin adds the path
 *     from its UDP transport to REMOTE to the link (PeerLink.addPath) and prints "addpath-ok KIND"
 *     or "addpath-failed ERROR".
 * </pre>
 * Both print {@code path-changed KIND FROM -> TO rtt-ms=MS at EPOCH_MS} on every move of their
 * own active path, {@code rendezvous STATE at EPOCH_MS} on every change of the rendezvous
 * connection, and {@code path-final KIND LOCAL -> REMOTE rtt-ms=MS}.
 */
public final class MovingTransferPeer {
    private static final PrintStream OUT = System.out;
    /** Pauses in delivery shorter than this are not reported. */
    private static final long GAP_REPORT_NANOS = 30_000_000L;

    private MovingTransferPeer() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "listen" -> listen(Path.of(args[1]), URI.create(args[2]), args.length > 3 ? Path.of(args[3]) : null);
            case "send" -> send(Path.of(args[1]), URI.create(args[2]), DeviceId.parse(args[3]), Integer.parseInt(args[4]),
                    Integer.parseInt(args[5]));
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static Device device(Path key, URI server) {
        Device d = PeerLinks.device().identity(key).udp(new InetSocketAddress("0.0.0.0", 0)).rendezvous(server)
                .connectTimeout(Duration.ofSeconds(20)).build();
        d.rendezvous().onStateChange(state -> println("rendezvous " + state + " at " + System.currentTimeMillis()));
        return d;
    }

    private static synchronized void println(String line) {
        OUT.println(line);
        OUT.flush();
    }

    private static void watchPaths(PeerLink link) {
        link.addListener(event -> {
            if (event instanceof LinkEvent.PathChanged pc) {
                println("path-changed " + pc.to().kind() + " " + pc.from().remote() + " -> " + pc.to().remote()
                        + " rtt-ms=" + millis(pc.to().rtt()) + " at " + System.currentTimeMillis());
            }
        });
    }

    private static void printFinal(PeerLink link) {
        println("path-final " + link.path().kind() + " " + link.path().local() + " -> " + link.path().remote()
                + " rtt-ms=" + millis(link.path().rtt()) + " paths=" + link.paths());
    }

    private static String millis(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.2f", d.toNanos() / 1e6);
    }

    static byte[] message(int number, int size) {
        byte[] m = new byte[size];
        new Random(number).nextBytes(m);
        ByteBuffer.wrap(m).putInt(number);
        return m;
    }

    private static Endpoint udpEndpoint(Device d) {
        return d.localEndpoints().stream().filter(e -> "udp".equals(e.scheme())).findFirst()
                .orElseThrow(() -> new IllegalStateException("no UDP transport: " + d.localEndpoints()));
    }

    private static void listen(Path key, URI server, Path timesFile) throws Exception {
        CountDownLatch closed = new CountDownLatch(1);
        try (Device d = device(key, server)) {
            d.rendezvous().registered().toCompletableFuture().get(60, TimeUnit.SECONDS);
            println("registered " + d.id());
            println("udp " + udpEndpoint(d));
            d.onIncoming(req -> req.accept().whenComplete((link, error) -> {
                if (error != null) {
                    println("unreachable " + error);
                    return;
                }
                println("path " + link.path().kind() + " " + link.path().local() + " -> " + link.path().remote());
                watchPaths(link);
                link.channel().onMessage(new Receiver(link, timesFile));
                link.channel().closed().thenRun(() -> {
                    printFinal(link);
                    closed.countDown();
                });
            }));
            closed.await();
        }
    }

    /** Checks numbering and content, times the gaps (runs on the link's callback thread). */
    private static final class Receiver implements io.peerlink.MessageHandler {
        private final PeerLink link;
        private final MessageDigest sha = sha256();
        private int expected;
        private int received;
        private long bytes;
        private int duplicated;
        private int reordered;
        private long lastNanos;
        private final Path timesFile;
        private long[] times = new long[1024];

        Receiver(PeerLink link, Path timesFile) {
            this.link = link;
            this.timesFile = timesFile;
        }

        private void writeTimes() {
            StringBuilder sb = new StringBuilder(received * 18);
            for (int i = 0; i < received; i++) {
                sb.append(times[i]).append('\n');
            }
            try {
                java.nio.file.Files.writeString(timesFile, sb);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        @Override
        public void onMessage(ByteBuffer m, io.peerlink.Delivery delivery) {
            long now = System.nanoTime();
            if (m.remaining() == 4 && m.getInt(m.position()) == -1) {
                int lost = Math.max(0, expected - received + duplicated);
                println("received " + received + " bytes=" + bytes + " sha256=" + HexFormat.of().formatHex(sha.digest())
                        + " lost=" + lost + " duplicated=" + duplicated + " reordered=" + reordered);
                if (timesFile != null) {
                    writeTimes();
                }
                link.channel().send(ByteBuffer.wrap("DONE".getBytes(StandardCharsets.US_ASCII)));
                return;
            }
            if (lastNanos != 0 && now - lastNanos > GAP_REPORT_NANOS) {
                println("gap " + String.format(java.util.Locale.ROOT, "%.1f", (now - lastNanos) / 1e6) + " before "
                        + m.getInt(m.position()) + " at " + System.currentTimeMillis());
            }
            lastNanos = now;
            int number = m.getInt(m.position());
            if (number < expected) {
                duplicated++;
                return;
            }
            if (number > expected) {
                reordered++;
            }
            expected = number + 1;
            if (timesFile != null) {
                if (received == times.length) {
                    times = java.util.Arrays.copyOf(times, 2 * received);
                }
                java.time.Instant at = java.time.Instant.now();
                times[received] = at.getEpochSecond() * 1_000_000L + at.getNano() / 1000;
            }
            received++;
            bytes += m.remaining();
            sha.update(m);
            if (received % 16 == 0) {
                println("progress " + received);
            }
        }
    }

    private static void send(Path key, URI server, DeviceId peer, int messages, int size) throws Exception {
        try (Device d = device(key, server)) {
            d.rendezvous().registered().toCompletableFuture().get(60, TimeUnit.SECONDS);
            PeerLink link = d.connect(peer).toCompletableFuture().get(60, TimeUnit.SECONDS);
            println("path " + link.path().kind() + " " + link.path().local() + " -> " + link.path().remote());
            watchPaths(link);
            acceptCommands(d, link);
            CompletableFuture<Void> done = new CompletableFuture<>();
            link.channel().onMessage((m, how) -> done.complete(null));
            MessageDigest sha = sha256();
            ArrayDeque<CompletionStage<Void>> window = new ArrayDeque<>();
            for (int n = 0; n < messages; n++) {
                byte[] bytes = message(n, size);
                sha.update(bytes);
                window.add(sendWhenWritable(link, ByteBuffer.wrap(bytes)));
                if (window.size() > 64) {
                    window.poll().toCompletableFuture().get(120, TimeUnit.SECONDS);
                }
                if ((n + 1) % 16 == 0) {
                    println("progress " + (n + 1));
                }
            }
            sendWhenWritable(link, ByteBuffer.allocate(4).putInt(0, -1));
            for (CompletionStage<Void> s : window) {
                s.toCompletableFuture().get(120, TimeUnit.SECONDS);
            }
            println("sent " + messages + " sha256=" + HexFormat.of().formatHex(sha.digest()));
            done.get(120, TimeUnit.SECONDS);
            // Linger at least 3 s, and until the link runs direct again or 10 s have passed (the test's
            // bound from the move to the direct path): a move right after set-up can fall inside the
            // initial direct check, and the re-punch towards the fresh candidates waits for that check.
            Thread.sleep(3000);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(7);
            while (link.path().kind() != io.peerlink.PathKind.DIRECT_PUBLIC && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            if (link.path().kind() == io.peerlink.PathKind.DIRECT_PUBLIC) {
                Thread.sleep(500); // the peer's side of the same migration
            }
            printFinal(link);
            link.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
        }
    }

    /** Reads "addpath REMOTE" lines from stdin (a daemon thread). */
    private static void acceptCommands(Device d, PeerLink link) {
        Thread t = new Thread(() -> {
            try (var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.UTF_8))) {
                for (String line; (line = in.readLine()) != null; ) {
                    if (line.startsWith("addpath ")) {
                        link.addPath(udpEndpoint(d), Endpoint.parse(line.substring(8).strip())).whenComplete((info, e) ->
                                println(e == null ? "addpath-ok " + info.kind() + " at " + System.currentTimeMillis()
                                        : "addpath-failed " + e));
                    }
                }
            } catch (java.io.IOException e) {
                println("stdin failed " + e);
            }
        }, "commands");
        t.setDaemon(true);
        t.start();
    }

    private static CompletionStage<Void> sendWhenWritable(PeerLink link, ByteBuffer message) throws Exception {
        while (true) {
            CompletionStage<Void> s = link.channel().send(message);
            try {
                s.toCompletableFuture().getNow(null);
                return s;
            } catch (CompletionException e) {
                if (e.getCause() instanceof SendBufferFullException) {
                    link.channel().whenWritable().toCompletableFuture().get(120, TimeUnit.SECONDS);
                    message.rewind();
                    continue;
                }
                throw e;
            }
        }
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
