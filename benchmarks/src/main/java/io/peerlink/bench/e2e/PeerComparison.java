package io.peerlink.bench.e2e;

import io.netty.bootstrap.Bootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.nio.NioDatagramChannel;
import io.netty.handler.codec.quic.InsecureQuicTokenHandler;
import io.netty.handler.codec.quic.QuicChannel;
import io.netty.handler.codec.quic.QuicClientCodecBuilder;
import io.netty.handler.codec.quic.QuicServerCodecBuilder;
import io.netty.handler.codec.quic.QuicSslContext;
import io.netty.handler.codec.quic.QuicSslContextBuilder;
import io.netty.handler.codec.quic.QuicStreamChannel;
import io.netty.handler.codec.quic.QuicStreamType;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * Peers side by side in one JVM invocation on 127.0.0.1 (docs/benchmarks.md, "Peers side by side"): the same
 * payload pushed one way, sender thread to receiver thread, through
 * <ol>
 * <li><b>tcp</b>: kernel TCP, a {@link SocketChannel} blast of 64 KiB writes, reader on another thread;</li>
 * <li><b>tls</b>: TCP + TLS 1.3 with the JDK's {@link SSLSocket} (host name verified against a self-signed
 * certificate that {@code keytool -genkeypair} makes into a temporary directory at run time);</li>
 * <li><b>quic</b>: Netty's native QUIC codec (Cloudflare quiche), one bidirectional stream, client and server
 * each on its own one-thread event loop group, the same certificate, host name verified;</li>
 * <li><b>raw</b>: {@link LoopbackBulk}'s {@code DatagramChannel} blast of 1,200-byte datagrams (lost ones are
 * counted, not resent);</li>
 * <li><b>engine</b> and <b>sealed</b>: {@link LoopbackBulk}'s two {@code ChannelEngine}s over the UDP transport,
 * CRC32C-tagged and AEAD-sealed ({@code ProtectorSealer}) respectively, with the UDP transport's batching on
 * (sendmmsg / UDP_SEGMENT, one loop wake-up per received burst); {@code engine-unbatched} and
 * {@code sealed-unbatched} are the same with {@code UdpOptions.BATCHING} false (one system call and one
 * possible wake-up per datagram: the baseline); {@code device} (two Devices, a direct link) may be added with
 * {@code --cases}.</li>
 * </ol>
 * All UDP sockets have 4 MiB send and receive buffers (the PeerLink UDP transport's default). Each case runs
 * {@code --runs} times, the order rotated by one every run; the table gives medians.
 *
 * <p>CPU: the JVM process's CPU time ({@code com.sun.management.OperatingSystemMXBean#getProcessCpuTime}, all
 * threads: sender, receiver, event loops, GC, JIT) from just before the case's sockets are opened to just after
 * they are closed, so set-up (TCP accept, TLS and QUIC handshakes, PeerLink engine start) is included; it is
 * divided by the payload in GiB. For QUIC the "lost" column is the packets quiche declared lost. Both ends run in this process, so it is the cost of sending plus receiving.
 *
 * <p>Options: {@code --mib N} (100), {@code --runs N} (3), {@code --warmup-mib N} (64, per case, not recorded),
 * {@code --cases tcp,tls,quic,raw,engine,sealed,engine-unbatched,sealed-unbatched},
 * {@code --datagram N} (1200: {@code ChannelOptions.maxDatagramSize} of the PeerLink cases; the raw
 * blast keeps 1,200 bytes).
 */
public final class PeerComparison {
    private static final int CHUNK = 64 << 10;
    private static final int UDP_BUFFER = 4 << 20;
    /** QUIC flow-control windows: quiche's default is 0, which would let nothing through. */
    private static final long QUIC_STREAM_WINDOW = 16L << 20;
    private static final long QUIC_CONNECTION_WINDOW = 32L << 20;
    private static final String ALPN = "peerlink-bench";

    private final long payload;
    private final String datagram;
    private final int runs;
    private final long warmup;
    private final List<String> cases;
    private final byte[] pattern;
    private final LoopbackBulk bulk;
    private final Certificate cert;

    /** One measured transfer: goodput over the case's own timing window, CPU over the whole case. */
    private record Sample(double mibPerSecond, double cpuSecondsPerGiB, long lostDatagrams, String note) {
    }

    /** What a case body reports; CPU is measured around it. */
    private record Transfer(double mibPerSecond, long lostDatagrams, String note) {
    }

    /** The run-time key material: a PKCS12 store made by keytool, and the certificate alone for trust. */
    private record Certificate(KeyManagerFactory keyManagers, TrustManagerFactory trustManagers,
                               X509Certificate certificate, String password) {
    }

    private PeerComparison(Map<String, String> a) throws Exception {
        payload = Long.parseLong(a.getOrDefault("mib", "100")) << 20;
        runs = Integer.parseInt(a.getOrDefault("runs", "3"));
        warmup = Long.parseLong(a.getOrDefault("warmup-mib", "64")) << 20;
        cases = Arrays.asList(a.getOrDefault("cases",
                "tcp,tls,quic,raw,engine,sealed,engine-unbatched,sealed-unbatched").split(","));
        pattern = new byte[1 << 20];
        new Random(42).nextBytes(pattern);
        Map<String, String> bulkArgs = new LinkedHashMap<>();
        bulkArgs.put("mib", Long.toString(payload >> 20));
        bulkArgs.put("idle-links", "0");
        datagram = a.getOrDefault("datagram", "1200");
        bulkArgs.put("datagram", datagram);
        bulk = new LoopbackBulk(bulkArgs);
        cert = makeCertificate();
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
        new PeerComparison(a).run();
        System.exit(0);
    }

    private void run() throws Exception {
        Runtime rt = Runtime.getRuntime();
        System.out.printf(Locale.ROOT, "machine: %d CPUs, max heap %d MiB, %s %s, Java %s (%s), %s, load average %.2f%n",
                rt.availableProcessors(), rt.maxMemory() >> 20, System.getProperty("os.name"),
                System.getProperty("os.version"), System.getProperty("java.version"), System.getProperty("java.vm.name"),
                Instant.now(), ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
        System.out.printf(Locale.ROOT, "payload %d MiB per case, %d runs, cases %s, PeerLink datagrams of %s bytes;"
                + " CPU = process CPU time (all threads)%n", payload >> 20, runs, cases, datagram);
        // Warm-up: JIT every case's hot path, not recorded. 16 MiB left C2 compiling through the
        // measured runs (a third of the process's CPU samples), which the CPU column then charged to them.
        for (String c : cases) {
            runCase(c, Math.min(payload, warmup));
        }
        Map<String, List<Sample>> results = new LinkedHashMap<>();
        for (String c : cases) {
            results.put(c, new ArrayList<>());
        }
        for (int r = 0; r < runs; r++) {
            for (int k = 0; k < cases.size(); k++) {
                // Rotate the order so that no case always runs right after the same neighbour or on a cold cache.
                String c = cases.get((k + r) % cases.size());
                Sample s = runCase(c, payload);
                results.get(c).add(s);
                System.out.printf(Locale.ROOT, "run %d %-7s %8.1f MiB/s  %6.2f CPU s/GiB  lost %d datagrams  %s%n",
                        r + 1, c, s.mibPerSecond, s.cpuSecondsPerGiB, s.lostDatagrams, s.note);
            }
        }
        printTable(results);
        System.out.printf(Locale.ROOT, "load average at the end: %.2f%n",
                ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage());
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private Sample runCase(String c, long bytes) throws Exception {
        long cpu0 = processCpuNanos();
        Transfer t = switch (c) {
            case "tcp" -> tcp(bytes);
            case "tls" -> tls(bytes);
            case "quic" -> quic(bytes);
            case "raw" -> fromBulk(bytes == payload ? bulk.raw() : small(bytes).raw());
            case "engine" -> fromBulk(bulk.engine(0, bytes, false));
            case "sealed" -> fromBulk(bulk.engine(0, bytes, true));
            case "engine-unbatched" -> fromBulk(bulk.engine(0, bytes, false, false));
            case "sealed-unbatched" -> fromBulk(bulk.engine(0, bytes, true, false));
            case "device" -> fromBulk(bytes == payload ? bulk.device() : small(bytes).device());
            default -> throw new IllegalArgumentException("unknown case " + c);
        };
        long cpu = processCpuNanos() - cpu0;
        return new Sample(t.mibPerSecond, cpu / 1e9 / ((double) bytes / (1L << 30)), t.lostDatagrams, t.note);
    }

    private LoopbackBulk small(long bytes) {
        Map<String, String> a = new LinkedHashMap<>();
        a.put("mib", Long.toString(bytes >> 20));
        a.put("idle-links", "0");
        a.put("datagram", datagram);
        return new LoopbackBulk(a);
    }

    private static Transfer fromBulk(LoopbackBulk.Result r) {
        return new Transfer(r.mibPerSecond(), r.lostDatagrams(), "");
    }

    // ------------------------------------------------------------------ key material

    /** A self-signed EC certificate for localhost/127.0.0.1, made by the JDK's keytool into a temporary directory. */
    private static Certificate makeCertificate() throws Exception {
        Path dir = Files.createTempDirectory("peer-comparison");
        Path store = dir.resolve("bench.p12");
        byte[] pw = new byte[12];
        new SecureRandom().nextBytes(pw);
        String password = HexFormat.of().formatHex(pw);
        try {
            Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                    "-genkeypair", "-alias", "bench", "-keyalg", "EC", "-groupname", "secp256r1",
                    "-dname", "CN=localhost", "-ext", "SAN=dns:localhost,ip:127.0.0.1", "-validity", "1",
                    "-storetype", "PKCS12", "-keystore", store.toString(), "-storepass", password, "-keypass", password)
                    .redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
            if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new IOException("keytool failed: " + out);
            }
            KeyStore ks = KeyStore.getInstance("PKCS12");
            try (InputStream in = Files.newInputStream(store)) {
                ks.load(in, password.toCharArray());
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(ks, password.toCharArray());
            X509Certificate x = (X509Certificate) ks.getCertificate("bench");
            // Trust exactly this certificate, nothing else: the peers verify each other as a real client would.
            KeyStore trust = KeyStore.getInstance("PKCS12");
            trust.load(null, null);
            trust.setCertificateEntry("bench", x);
            TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
            tmf.init(trust);
            return new Certificate(kmf, tmf, x, password);
        } finally {
            Files.deleteIfExists(store);
            Files.deleteIfExists(dir);
        }
    }

    // ------------------------------------------------------------------ kernel TCP

    private Transfer tcp(long bytes) throws Exception {
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (ServerSocketChannel server = ServerSocketChannel.open().bind(new InetSocketAddress(lo, 0));
             SocketChannel tx = SocketChannel.open(server.getLocalAddress());
             SocketChannel rx = server.accept()) {
            CompletableFuture<Long> done = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocateDirect(256 << 10);
                long got = 0;
                try {
                    while (got < bytes) {
                        b.clear();
                        int n = rx.read(b);
                        if (n < 0) {
                            throw new IOException("EOF after " + got + " bytes");
                        }
                        got += n;
                    }
                    done.complete(System.nanoTime());
                } catch (IOException e) {
                    done.completeExceptionally(e);
                }
            }, "tcp-rx");
            reader.start();
            ByteBuffer d = ByteBuffer.allocateDirect(CHUNK);
            long start = System.nanoTime();
            for (long sent = 0; sent < bytes; sent += CHUNK) {
                d.clear();
                d.put(pattern, (int) ((sent / CHUNK * 4099) % (pattern.length - CHUNK)), CHUNK).flip();
                while (d.hasRemaining()) {
                    tx.write(d);
                }
            }
            long end = done.get(300, TimeUnit.SECONDS);
            return new Transfer(bytes / ((end - start) / 1e9) / (1 << 20), 0, "");
        }
    }

    // ------------------------------------------------------------------ TCP + TLS 1.3 (JDK)

    private Transfer tls(long bytes) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(cert.keyManagers.getKeyManagers(), cert.trustManagers.getTrustManagers(), null);
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        try (SSLServerSocket server = (SSLServerSocket) ctx.getServerSocketFactory().createServerSocket(0, 1, lo)) {
            server.setEnabledProtocols(new String[] {"TLSv1.3"});
            CompletableFuture<Long> done = new CompletableFuture<>();
            Thread reader = new Thread(() -> {
                try (SSLSocket rx = (SSLSocket) server.accept()) {
                    InputStream in = rx.getInputStream();
                    byte[] b = new byte[CHUNK];
                    long got = 0;
                    while (got < bytes) {
                        int n = in.read(b);
                        if (n < 0) {
                            throw new IOException("EOF after " + got + " bytes");
                        }
                        got += n;
                    }
                    done.complete(System.nanoTime());
                } catch (IOException e) {
                    done.completeExceptionally(e);
                }
            }, "tls-rx");
            reader.start();
            try (SSLSocket tx = (SSLSocket) ctx.getSocketFactory().createSocket("localhost", server.getLocalPort())) {
                SSLParameters params = tx.getSSLParameters();
                params.setProtocols(new String[] {"TLSv1.3"});
                params.setEndpointIdentificationAlgorithm("HTTPS");
                tx.setSSLParameters(params);
                tx.startHandshake(); // outside the timing window, like the QUIC handshake
                String suite = tx.getSession().getProtocol() + " " + tx.getSession().getCipherSuite();
                OutputStream out = tx.getOutputStream();
                long start = System.nanoTime();
                for (long sent = 0; sent < bytes; sent += CHUNK) {
                    out.write(pattern, (int) ((sent / CHUNK * 4099) % (pattern.length - CHUNK)), CHUNK);
                }
                out.flush();
                long end = done.get(300, TimeUnit.SECONDS);
                return new Transfer(bytes / ((end - start) / 1e9) / (1 << 20), 0, suite);
            }
        }
    }

    // ------------------------------------------------------------------ QUIC (Netty + quiche)

    /** Server side of one stream: counts and drops what arrives, completes when the payload is in. */
    private static final class Counter extends ChannelInboundHandlerAdapter {
        private final long bytes;
        private final AtomicLong received;
        private final CompletableFuture<Long> done;

        Counter(long bytes, AtomicLong received, CompletableFuture<Long> done) {
            this.bytes = bytes;
            this.received = received;
            this.done = done;
        }

        @Override
        public void channelRead(ChannelHandlerContext ctx, Object msg) {
            if (msg instanceof ByteBuf b) {
                if (received.addAndGet(b.readableBytes()) >= bytes) {
                    done.complete(System.nanoTime());
                }
            }
            io.netty.util.ReferenceCountUtil.release(msg);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            done.completeExceptionally(cause);
        }
    }

    /** Client side of the stream: writes while the stream is writable, resumes when it becomes writable again. */
    private final class Pump extends ChannelInboundHandlerAdapter {
        private final long bytes;
        private final CompletableFuture<Long> failed;
        private ChannelHandlerContext ctx;
        private long sent;

        Pump(long bytes, CompletableFuture<Long> failed) {
            this.bytes = bytes;
            this.failed = failed;
        }

        @Override
        public void handlerAdded(ChannelHandlerContext c) {
            ctx = c;
        }

        void pump() {
            Channel ch = ctx.channel();
            while (sent < bytes && ch.isWritable()) {
                ByteBuf b = ctx.alloc().directBuffer(CHUNK);
                b.writeBytes(pattern, (int) ((sent / CHUNK * 4099) % (pattern.length - CHUNK)), CHUNK);
                sent += CHUNK;
                ctx.write(b).addListener(f -> {
                    if (!f.isSuccess()) {
                        failed.completeExceptionally(f.cause());
                    }
                });
            }
            ctx.flush();
        }

        @Override
        public void channelWritabilityChanged(ChannelHandlerContext c) {
            if (c.channel().isWritable()) {
                pump();
            }
            c.fireChannelWritabilityChanged();
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext c, Throwable cause) {
            failed.completeExceptionally(cause);
        }
    }

    private Transfer quic(long bytes) throws Exception {
        EventLoopGroup serverGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        EventLoopGroup clientGroup = new MultiThreadIoEventLoopGroup(1, NioIoHandler.newFactory());
        InetAddress lo = InetAddress.getByName("127.0.0.1");
        Channel server = null;
        Channel client = null;
        QuicChannel connection = null;
        try {
            QuicSslContext serverTls = QuicSslContextBuilder.forServer(cert.keyManagers, cert.password)
                    .applicationProtocols(ALPN).build();
            AtomicLong received = new AtomicLong();
            CompletableFuture<Long> done = new CompletableFuture<>();
            ChannelHandler serverCodec = withWindows(new QuicServerCodecBuilder())
                    .sslContext(serverTls)
                    // The benchmark's only client is in this process: no address-validation token round trip.
                    .tokenHandler(InsecureQuicTokenHandler.INSTANCE)
                    .handler(new ChannelInboundHandlerAdapter() {
                        @Override
                        public boolean isSharable() {
                            return true;
                        }
                    })
                    .streamHandler(new ChannelInitializer<QuicStreamChannel>() {
                        @Override
                        protected void initChannel(QuicStreamChannel ch) {
                            ch.pipeline().addLast(new Counter(bytes, received, done));
                        }
                    })
                    .build();
            server = udpBootstrap(serverGroup, serverCodec).bind(lo, 0).sync().channel();
            int port = ((InetSocketAddress) server.localAddress()).getPort();

            // Netty 4.2 verifies the server's host name: the engine is told which host it dials, and trusts only
            // the run-time certificate (issued for localhost and 127.0.0.1).
            QuicSslContext clientTls = QuicSslContextBuilder.forClient().trustManager(cert.certificate)
                    .applicationProtocols(ALPN).build();
            ChannelHandler clientCodec = withWindows(new QuicClientCodecBuilder())
                    .sslEngineProvider(q -> clientTls.newEngine(q.alloc(), "localhost", port))
                    .build();
            client = udpBootstrap(clientGroup, clientCodec).bind(lo, 0).sync().channel();
            connection = QuicChannel.newBootstrap(client)
                    .handler(new ChannelInboundHandlerAdapter())
                    .remoteAddress(new InetSocketAddress(lo, port))
                    .connect().get(10, TimeUnit.SECONDS);
            CompletableFuture<Long> failed = new CompletableFuture<>();
            Pump pump = new Pump(bytes, failed);
            QuicStreamChannel stream = connection.createStream(QuicStreamType.BIDIRECTIONAL, pump).get(10, TimeUnit.SECONDS);
            long start = System.nanoTime();
            stream.eventLoop().execute(pump::pump);
            long end = (Long) CompletableFuture.anyOf(done, failed).get(300, TimeUnit.SECONDS);
            // quiche's own counters: packets the sender declared lost (congestion control reacts to these).
            io.netty.handler.codec.quic.QuicConnectionStats st = connection.collectStats().get(10, TimeUnit.SECONDS);
            String note = String.format(Locale.ROOT, "quiche %s %s, client sent %d packets (%d bytes), lost %d, retransmitted %d",
                    connection.sslEngine().getSession().getProtocol(), connection.sslEngine().getSession().getCipherSuite(),
                    st.sent(), st.sentBytes(), st.lost(), st.retrans());
            return new Transfer(bytes / ((end - start) / 1e9) / (1 << 20), st.lost(), note);
        } finally {
            if (connection != null) {
                connection.close().await(5, TimeUnit.SECONDS);
            }
            if (client != null) {
                client.close().await(5, TimeUnit.SECONDS);
            }
            if (server != null) {
                server.close().await(5, TimeUnit.SECONDS);
            }
            clientGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
            serverGroup.shutdownGracefully(0, 1, TimeUnit.SECONDS).await(5, TimeUnit.SECONDS);
        }
    }

    private static <B extends io.netty.handler.codec.quic.QuicCodecBuilder<B>> B withWindows(B b) {
        return b.maxIdleTimeout(30, TimeUnit.SECONDS)
                .initialMaxData(QUIC_CONNECTION_WINDOW)
                .initialMaxStreamDataBidirectionalLocal(QUIC_STREAM_WINDOW)
                .initialMaxStreamDataBidirectionalRemote(QUIC_STREAM_WINDOW)
                .initialMaxStreamsBidirectional(4);
    }

    private static Bootstrap udpBootstrap(EventLoopGroup group, ChannelHandler codec) {
        return new Bootstrap().group(group).channel(NioDatagramChannel.class)
                .option(ChannelOption.SO_RCVBUF, UDP_BUFFER)
                .option(ChannelOption.SO_SNDBUF, UDP_BUFFER)
                .handler(codec);
    }

    // ------------------------------------------------------------------ table

    private static double median(List<Sample> rs, java.util.function.ToDoubleFunction<Sample> f) {
        double[] v = rs.stream().mapToDouble(f).sorted().toArray();
        return v.length % 2 == 1 ? v[v.length / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
    }

    private void printTable(Map<String, List<Sample>> results) {
        double raw = results.containsKey("raw") ? median(results.get("raw"), Sample::mibPerSecond) : Double.NaN;
        double quic = results.containsKey("quic") ? median(results.get("quic"), Sample::mibPerSecond) : Double.NaN;
        System.out.println();
        System.out.println("| case | goodput MiB/s, median (min..max) | CPU s/GiB, median | × raw | × quic | datagrams lost, median |");
        System.out.println("|---|---|---|---|---|---|");
        for (Map.Entry<String, List<Sample>> e : results.entrySet()) {
            List<Sample> rs = e.getValue();
            double g = median(rs, Sample::mibPerSecond);
            System.out.printf(Locale.ROOT, "| %s | %.0f (%.0f..%.0f) | %.2f | %.2f | %.2f | %.0f |%n", e.getKey(), g,
                    rs.stream().mapToDouble(Sample::mibPerSecond).min().orElse(0),
                    rs.stream().mapToDouble(Sample::mibPerSecond).max().orElse(0),
                    median(rs, Sample::cpuSecondsPerGiB), g / raw, g / quic, median(rs, s -> s.lostDatagrams));
        }
        if (results.containsKey("sealed")) {
            double sealed = median(results.get("sealed"), Sample::mibPerSecond);
            System.out.printf(Locale.ROOT, "%nsealed >= quic: %s (%.2f x);  sealed >= 0.8 x raw: %s (%.2f x)%n",
                    sealed >= quic ? "yes" : "no", sealed / quic, sealed >= 0.8 * raw ? "yes" : "no", sealed / raw);
            if (results.containsKey("engine")) {
                double engine = median(results.get("engine"), Sample::mibPerSecond);
                System.out.printf(Locale.ROOT, "sealed >= 0.8 x engine (unsealed): %s (%.2f x)%n",
                        sealed >= 0.8 * engine ? "yes" : "no", sealed / engine);
            }
            if (results.containsKey("sealed-unbatched")) {
                System.out.printf(Locale.ROOT, "sealed / sealed-unbatched: %.2f x goodput, %.2f x CPU s/GiB%n",
                        sealed / median(results.get("sealed-unbatched"), Sample::mibPerSecond),
                        median(results.get("sealed"), Sample::cpuSecondsPerGiB)
                                / median(results.get("sealed-unbatched"), Sample::cpuSecondsPerGiB));
            }
        }
    }
}
