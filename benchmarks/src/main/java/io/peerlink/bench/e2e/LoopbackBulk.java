package io.peerlink.bench.e2e;

import io.peerlink.ChannelOptions;
import io.peerlink.ChannelStats;
import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.ReliableChannel;
import io.peerlink.SendBufferFullException;
import io.peerlink.core.internal.channel.ChannelEngine;
import io.peerlink.core.internal.channel.Crc32cSealer;
import io.peerlink.core.internal.channel.PacketSealer;
import io.peerlink.core.internal.channel.ProtectorSealer;
import io.peerlink.core.internal.channel.ReceiveBudget;
import io.peerlink.core.internal.crypto.NoiseSuite;
import io.peerlink.core.internal.crypto.RekeyPolicy;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.core.internal.channel.TransportPath;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.testkit.ImpairedTransport;
import io.peerlink.testkit.Impairment;
import io.peerlink.transport.udp.UdpOptions;
import io.peerlink.transport.udp.UdpTransportProvider;

import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.LocalDate;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;
import java.util.zip.CRC32;

/**
 * End-to-end bulk transfer on 127.0.0.1, measured side by side in one JVM (docs/benchmarks.md,
 * "Reliable channel: end-to-end loopback"):
 * <ol>
 * <li><b>raw</b>: a {@link DatagramChannel} blast of 1200-byte datagrams, sender thread to receiver
 * thread, no reliability (what was lost is reported, not resent) — the baseline;</li>
 * <li><b>device</b>: two {@link Device}s on {@code udp(127.0.0.1:0)}, a direct link by
 * {@code connect(Endpoint)}, the payload sent as 64 KiB messages with a bounded number
 * outstanding, verified by byte count and CRC32 at the receiver;</li>
 * <li><b>engine</b> and <b>engine 5 % loss</b>: two {@link ChannelEngine}s, each on its own
 * {@link EventLoop} and {@link LinkSocket} over the UDP transport — the very receive path a Device
 * uses — once plain and once with the transport wrapped in {@link ImpairedTransport} dropping
 * the given share of datagrams in each direction. (A Device cannot be built over a decorated
 * transport through the public API, so the lossy case uses the engines directly, and the
 * lossless engine case is its like-for-like reference.)</li>
 * </ol>
 * Each case runs {@code --runs} times; the table gives the median and the spread (min..max).
 * Finally the heap held by idle links is measured (heap after GC with N idle links vs none).
 *
 * <p>Options: {@code --mib N} (payload, default 100), {@code --runs N} (3), {@code --loss P}
 * (0.05), {@code --message-kib N} (64), {@code --outstanding N} (messages in flight, 64),
 * {@code --idle-links N} (1000, 0 skips), {@code --cases raw,device,engine,lossy} (also {@code sealed}:
 * as {@code engine} with every packet AEAD-sealed by the security layer's {@code PacketProtector}),
 * {@code --datagram N} (1200: the engine cases' {@code ChannelOptions.maxDatagramSize}; the raw blast
 * and the device case keep 1,200 bytes).
 */
public final class LoopbackBulk {
    private static final int DATAGRAM = 1200;
    private static final int SOCKET_BUFFER = 4 << 20;

    private final long payload;
    private final int runs;
    private final double loss;
    private final int messageSize;
    private final int outstanding;
    private final int idleLinks;
    private final List<String> cases;
    private final int channelDatagram;
    private final byte[] pattern;

    /** Also built by {@link PeerComparison}, which runs the raw, engine and sealed cases next to other stacks. */
    LoopbackBulk(Map<String, String> a) {
        payload = Long.parseLong(a.getOrDefault("mib", "100")) << 20;
        runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        loss = Double.parseDouble(a.getOrDefault("loss", "0.05"));
        messageSize = Integer.parseInt(a.getOrDefault("message-kib", "64")) << 10;
        outstanding = Integer.parseInt(a.getOrDefault("outstanding", "64"));
        idleLinks = Integer.parseInt(a.getOrDefault("idle-links", "1000"));
        cases = Arrays.asList(a.getOrDefault("cases", "raw,device,engine,lossy").split(","));
        channelDatagram = Integer.parseInt(a.getOrDefault("datagram", Integer.toString(DATAGRAM)));
        if (payload % messageSize != 0) {
            throw new IllegalArgumentException("payload must be a multiple of the message size");
        }
        pattern = new byte[1 << 20];
        new Random(42).nextBytes(pattern);
    }

    /**
     * @param args see the class comment
     * @throws Exception if a transfer fails or times out
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            if (!args[i].startsWith("--")) {
                throw new IllegalArgumentException("expected --option value, got " + args[i]);
            }
            a.put(args[i].substring(2), args[i + 1]);
        }
        new LoopbackBulk(a).run();
        System.exit(0);
    }

    /** Result of one transfer. */
    record Result(double mibPerSecond, long payload, long bytesSent, long ackBytes, long retransmitted,
                          long spurious, long lostDatagrams, long sentDatagrams, double srttMillis) {
        double overhead() {
            return (double) bytesSent / payload;
        }

        double ackShare() {
            return (double) ackBytes / payload;
        }

        double retransmitShare() {
            return (double) retransmitted / payload;
        }
    }

    private void run() throws Exception {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "machine: %d CPUs, max heap %d MiB, %s %s, Java %s (%s), %s%n",
                rt.availableProcessors(), rt.maxMemory() >> 20, System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("java.version"), System.getProperty("java.vm.name"),
                LocalDate.now());
        System.out.printf(Locale.ROOT, "payload %d MiB, %d-byte datagrams, %d KiB messages, %d outstanding, loss %.1f %% each way, %d runs%n",
                payload >> 20, DATAGRAM, messageSize >> 10, outstanding, loss * 100, runs);
        Map<String, List<Result>> results = new LinkedHashMap<>();
        for (String c : cases) {
            results.put(c, new ArrayList<>());
        }
        // Warm-up: JIT the hot paths so the first measured run is not the interpreter's.
        if (cases.contains("sealed")) {
            engine(0, Math.min(payload, 16L << 20), true);
        }
        if (cases.contains("engine") || cases.contains("lossy") || cases.contains("device")) {
            engine(0, Math.min(payload, 16L << 20));
        }
        for (int r = 0; r < runs; r++) {
            for (String c : cases) {
                Result res = switch (c) {
                    case "raw" -> raw();
                    case "device" -> device();
                    case "engine" -> engine(0, payload);
                    case "lossy" -> engine(loss, payload);
                    case "sealed" -> engine(0, payload, true);
                    default -> throw new IllegalArgumentException("unknown case " + c);
                };
                results.get(c).add(res);
                System.out.printf(Locale.ROOT, "run %d %-7s %8.1f MiB/s  sent/payload %.4f  ack %.3f %%  retx %.2f %% (%d B, spurious %d B)  lost %d of %d datagrams  srtt %.2f ms%n",
                        r + 1, c, res.mibPerSecond, res.overhead(), res.ackShare() * 100, res.retransmitShare() * 100,
                        res.retransmitted, res.spurious, res.lostDatagrams, res.sentDatagrams, res.srttMillis);
            }
        }
        printTable(results);
        if (idleLinks > 0) {
            idleMemory(idleLinks);
        }
    }

    // ------------------------------------------------------------------ (a) raw baseline

    Result raw() throws Exception {
        long count = payload / DATAGRAM;
        try (DatagramChannel tx = DatagramChannel.open(); DatagramChannel rx = DatagramChannel.open()) {
            InetAddress lo = InetAddress.getByName("127.0.0.1");
            for (DatagramChannel c : new DatagramChannel[] {tx, rx}) {
                c.setOption(StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                c.setOption(StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
                c.bind(new InetSocketAddress(lo, 0));
            }
            InetSocketAddress to = (InetSocketAddress) rx.getLocalAddress();
            AtomicLong receivedBytes = new AtomicLong();
            AtomicLong lastReceived = new AtomicLong();
            Thread receiver = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(65536);
                try {
                    while (true) {
                        b.clear();
                        rx.receive(b);
                        b.flip();
                        if (b.remaining() == 1) {
                            return; // end marker
                        }
                        receivedBytes.addAndGet(b.remaining());
                        lastReceived.set(System.nanoTime());
                    }
                } catch (java.io.IOException e) {
                    // closed
                }
            }, "raw-rx");
            receiver.start();
            ByteBuffer d = ByteBuffer.allocateDirect(DATAGRAM);
            long start = System.nanoTime();
            for (long i = 0; i < count; i++) {
                d.clear();
                d.put(pattern, (int) ((i * DATAGRAM) % (pattern.length - DATAGRAM)), DATAGRAM).flip();
                tx.send(d, to);
            }
            // Let the receiver drain what the kernel still holds, then stop it with a 1-byte marker.
            Thread.sleep(200);
            for (int i = 0; i < 20 && receiver.isAlive(); i++) {
                tx.send(ByteBuffer.wrap(new byte[1]), to);
                receiver.join(50);
            }
            long elapsed = lastReceived.get() - start;
            long got = receivedBytes.get();
            long lost = count - got / DATAGRAM;
            return new Result(got / (elapsed / 1e9) / (1 << 20), got, count * (long) DATAGRAM, 0, 0, 0, lost, count, 0);
        }
    }

    // ------------------------------------------------------------------ (b) Device, direct link

    Result device() throws Exception {
        Device a = PeerLinks.device().ephemeralIdentity().udp(new InetSocketAddress("127.0.0.1", 0)).build();
        Device b = PeerLinks.device().ephemeralIdentity().udp(new InetSocketAddress("127.0.0.1", 0)).build();
        try {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            b.onIncoming(req -> req.accept().whenComplete((l, e) -> {
                if (e != null) {
                    accepted.completeExceptionally(e);
                } else {
                    accepted.complete(l);
                }
            }));
            PeerLink la = a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(10, TimeUnit.SECONDS);
            PeerLink lb = accepted.get(10, TimeUnit.SECONDS);
            return transfer(la.channel(), lb.channel(), la.channel()::stats, lb.channel()::stats, () -> 0L);
        } finally {
            a.close();
            b.close();
        }
    }

    // ------------------------------------------------------------------ (c) engines over LinkSocket

    private static Transport udp(boolean batching) {
        return new UdpTransportProvider().create(TransportConfig.bind(Endpoint.udp(new InetSocketAddress("127.0.0.1", 0)))
                .set(UdpOptions.BATCHING, batching).build());
    }

    private Result engine(double lossRate, long bytes) throws Exception {
        return engine(lossRate, bytes, false);
    }

    /**
     * @param sealed true: both engines seal every packet with the security layer's
     *        {@code PacketProtector} (AES-GCM, keys from random secrets, default rekey policy)
     *        instead of the CRC32C tag
     */
    Result engine(double lossRate, long bytes, boolean sealed) throws Exception {
        return engine(lossRate, bytes, sealed, true);
    }

    /**
     * @param batching the UDP transports' {@code UdpOptions.BATCHING}: false sends one datagram per
     *        system call and wakes the receiving loop per datagram (the baseline before batching)
     */
    Result engine(double lossRate, long bytes, boolean sealed, boolean batching) throws Exception {
        Transport ta = udp(batching);
        Transport tb = udp(batching);
        ImpairedTransport ia = null;
        ImpairedTransport ib = null;
        if (lossRate > 0) {
            ia = new ImpairedTransport(ta, Impairment.NONE.withLoss(lossRate), Impairment.NONE, 1);
            ib = new ImpairedTransport(tb, Impairment.NONE.withLoss(lossRate), Impairment.NONE, 2);
            ta = ia;
            tb = ib;
        }
        try (EventLoop loopA = new EventLoop("bench-a"); EventLoop loopB = new EventLoop("bench-b")) {
            LinkSocket sa = new LinkSocket(ta, loopA);
            LinkSocket sb = new LinkSocket(tb, loopB);
            sa.start();
            sb.start();
            try {
                ChannelOptions opts = channelDatagram == DATAGRAM ? ChannelOptions.defaults()
                        : ChannelOptions.builder().maxDatagramSize(channelDatagram).build();
                PacketSealer sealA = new Crc32cSealer();
                PacketSealer sealB = new Crc32cSealer();
                if (sealed) {
                    byte[] s1 = new byte[32];
                    byte[] s2 = new byte[32];
                    SecureRandom random = new SecureRandom();
                    random.nextBytes(s1);
                    random.nextBytes(s2);
                    long now = System.nanoTime();
                    sealA = new ProtectorSealer(SessionKeys.fromSecrets(NoiseSuite.AESGCM, s1, s2)
                            .newPacketProtector(RekeyPolicy.DEFAULT, now));
                    sealB = new ProtectorSealer(SessionKeys.fromSecrets(NoiseSuite.AESGCM, s2, s1)
                            .newPacketProtector(RekeyPolicy.DEFAULT, now));
                }
                ReceiveBudget budget = ReceiveBudget.shared();
                ChannelEngine ea = new ChannelEngine(loopA, 11, 22, new TransportPath(ta, sb.localEndpoint()), opts, sealA, budget);
                ChannelEngine eb = new ChannelEngine(loopB, 22, 11, new TransportPath(tb, sa.localEndpoint()), opts, sealB, budget);
                sa.register(11, (src, d) -> ea.onDatagram(d));
                sb.register(22, (src, d) -> eb.onDatagram(d));
                ea.start();
                eb.start();
                ImpairedTransport fa = ia;
                ImpairedTransport fb = ib;
                Supplier<Long> lost = () -> fa == null ? 0L : fa.outboundCounters().lost() + fb.outboundCounters().lost();
                Result r = transfer(ea, eb, () -> onLoop(loopA, ea::stats), () -> onLoop(loopB, eb::stats), lost, bytes);
                ea.abort();
                eb.abort();
                return r;
            } finally {
                sa.close();
                sb.close();
            }
        }
    }

    private static <T> T onLoop(EventLoop loop, Supplier<T> s) {
        CompletableFuture<T> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(s.get()));
        return f.join();
    }

    // ------------------------------------------------------------------ the transfer itself

    private Result transfer(ReliableChannel tx, ReliableChannel rx, Supplier<ChannelStats> txStats,
                            Supplier<ChannelStats> rxStats, Supplier<Long> lost) throws Exception {
        return transfer(tx, rx, txStats, rxStats, lost, payload);
    }

    private Result transfer(ReliableChannel tx, ReliableChannel rx, Supplier<ChannelStats> txStats,
                            Supplier<ChannelStats> rxStats, Supplier<Long> lost, long bytes) throws Exception {
        CRC32 rxCrc = new CRC32();
        AtomicLong delivered = new AtomicLong();
        AtomicLong rxChecksum = new AtomicLong();
        CompletableFuture<Long> done = new CompletableFuture<>();
        rx.onMessage((m, delivery) -> {
            int n = m.remaining();
            rxCrc.update(m);
            if (delivered.addAndGet(n) == bytes) {
                rxChecksum.set(rxCrc.getValue());
                done.complete(System.nanoTime());
            }
        });
        CRC32 txCrc = new CRC32();
        Semaphore window = new Semaphore(outstanding);
        long messages = bytes / messageSize;
        long start = System.nanoTime();
        for (long i = 0; i < messages; i++) {
            ByteBuffer msg = ByteBuffer.wrap(pattern, (int) ((i * 4099) % (pattern.length - messageSize)), messageSize);
            txCrc.update(msg.duplicate());
            window.acquire();
            while (true) {
                CompletableFuture<Void> f = tx.send(msg.duplicate()).toCompletableFuture();
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
        long end = done.get(300, TimeUnit.SECONDS);
        if (rxChecksum.get() != txCrc.getValue()) {
            throw new IllegalStateException("checksum mismatch: sent " + Long.toHexString(txCrc.getValue())
                    + ", received " + Long.toHexString(rxChecksum.get()));
        }
        // Wait until the last ACKs settled, so the counters describe the whole transfer.
        window.acquire(outstanding);
        ChannelStats s = txStats.get();
        ChannelStats r = rxStats.get();
        double seconds = (end - start) / 1e9;
        return new Result(bytes / seconds / (1 << 20), bytes, s.bytesSent(), s.ackBytesSent() + r.ackBytesSent(),
                s.retransmittedBytes(), s.spuriousRetransmittedBytes(), lost.get(), s.datagramsSent() + r.datagramsSent(),
                s.smoothedRtt().toNanos() / 1e6);
    }

    // ------------------------------------------------------------------ table

    private static double median(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private static String spread(List<Result> rs, java.util.function.ToDoubleFunction<Result> f) {
        double min = rs.stream().mapToDouble(f).min().orElse(0);
        double max = rs.stream().mapToDouble(f).max().orElse(0);
        return String.format(Locale.ROOT, "%.1f..%.1f", min, max);
    }

    private void printTable(Map<String, List<Result>> results) {
        System.out.println();
        System.out.println("| case | goodput MiB/s, median (min..max) | bytes sent / payload | ACK bytes / payload | retransmitted / payload | datagrams lost (path) | srtt ms |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (Map.Entry<String, List<Result>> e : results.entrySet()) {
            List<Result> rs = e.getValue();
            System.out.printf(Locale.ROOT, "| %s | %.1f (%s) | %.4f | %.3f %% | %.2f %% | %.0f | %.2f |%n", e.getKey(),
                    median(rs, Result::mibPerSecond), spread(rs, Result::mibPerSecond), median(rs, Result::overhead),
                    median(rs, Result::ackShare) * 100, median(rs, Result::retransmitShare) * 100,
                    median(rs, r -> r.lostDatagrams), median(rs, r -> r.srttMillis));
        }
        System.out.println();
        double raw = results.containsKey("raw") ? median(results.get("raw"), Result::mibPerSecond) : Double.NaN;
        double dev = results.containsKey("device") ? median(results.get("device"), Result::mibPerSecond) : Double.NaN;
        double eng = results.containsKey("engine") ? median(results.get("engine"), Result::mibPerSecond) : Double.NaN;
        if (results.containsKey("sealed")) {
            System.out.printf(Locale.ROOT, "ratio sealed / engine    %.2f  (AES-GCM PacketProtector vs CRC32C; target >= 0.80)%n",
                    median(results.get("sealed"), Result::mibPerSecond) / eng);
        }
        double lossy = results.containsKey("lossy") ? median(results.get("lossy"), Result::mibPerSecond) : Double.NaN;
        System.out.printf(Locale.ROOT, "ratio device / raw       %.2f  (target >= 0.50)%n", dev / raw);
        System.out.printf(Locale.ROOT, "ratio engine / raw       %.2f%n", eng / raw);
        System.out.printf(Locale.ROOT, "ratio lossy / lossless   %.2f  (engine %.1f %% loss vs engine lossless; target >= 0.70)%n",
                lossy / eng, loss * 100);
        System.out.printf(Locale.ROOT, "ratio lossy / device     %.2f%n", lossy / dev);
        if (results.containsKey("lossy")) {
            System.out.printf(Locale.ROOT, "retransmitted / (2 x loss x payload)  %.2f  (target <= 1)%n",
                    median(results.get("lossy"), Result::retransmitShare) / (2 * loss));
        }
        if (results.containsKey("device")) {
            System.out.printf(Locale.ROOT, "device: bytes sent / payload %.4f (target <= 1.03), ACK bytes / payload %.3f %% (target <= 1 %%)%n",
                    median(results.get("device"), Result::overhead), median(results.get("device"), Result::ackShare) * 100);
        }
    }

    // ------------------------------------------------------------------ idle memory

    private static long usedHeapAfterGc() throws InterruptedException {
        long best = Long.MAX_VALUE;
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(100);
            best = Math.min(best, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
        }
        return best;
    }

    private void idleMemory(int n) throws Exception {
        Device a = PeerLinks.device().ephemeralIdentity().udp(new InetSocketAddress("127.0.0.1", 0)).build();
        Device b = PeerLinks.device().ephemeralIdentity().udp(new InetSocketAddress("127.0.0.1", 0)).build();
        List<PeerLink> links = new ArrayList<>();
        List<CompletableFuture<PeerLink>> incoming = new ArrayList<>();
        try {
            b.onIncoming(req -> {
                CompletableFuture<PeerLink> f = req.accept().toCompletableFuture();
                synchronized (incoming) {
                    incoming.add(f);
                }
            });
            // One link first, so that every lazily created class and structure of the runtime exists.
            links.add(a.connect(b.localEndpoints().get(0)).toCompletableFuture().get(10, TimeUnit.SECONDS));
            long before = usedHeapAfterGc();
            List<CompletableFuture<PeerLink>> dials = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                dials.add(a.connect(b.localEndpoints().get(0)).toCompletableFuture());
                if (dials.size() % 100 == 0) {
                    for (CompletableFuture<PeerLink> d : dials.subList(dials.size() - 100, dials.size())) {
                        links.add(d.get(30, TimeUnit.SECONDS));
                    }
                }
            }
            for (CompletableFuture<PeerLink> d : dials.subList(links.size() - 1, dials.size())) {
                links.add(d.get(30, TimeUnit.SECONDS));
            }
            synchronized (incoming) {
                for (CompletableFuture<PeerLink> f : incoming) {
                    f.get(30, TimeUnit.SECONDS);
                }
            }
            Thread.sleep(500); // let the MAX_DATA/ACK exchange of the new links settle
            long after = usedHeapAfterGc();
            double perLink = (after - before) / (double) n;
            System.out.printf(Locale.ROOT, "%nidle links: heap after GC %d KiB with 1 link, %d KiB with %d more;"
                            + " %.0f bytes per link (both ends, %.0f per channel end) — target <= 64 KiB%n",
                    before >> 10, after >> 10, n, perLink, perLink / 2);
        } finally {
            a.close();
            b.close();
        }
    }
}
