package io.peerlink.cli;

import io.peerlink.Device;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * {@code peerlink demo}: the reference server with embedded defaults on loopback, two devices
 * admitted through an allow-list, a link between them through the rendezvous, a file sent and
 * checked, and the RTT measured.
 */
@Command(name = "demo", description = "Start the reference server and link two devices on this machine.")
final class DemoCommand implements Callable<Integer> {

    @Option(names = "--size", description = "Bytes to send. Default: ${DEFAULT-VALUE}", defaultValue = "1048576")
    int size;

    @Option(names = "--serve", description = "Keep the server running after the demo (Ctrl-C to stop)")
    boolean serve;

    @Override
    public Integer call() throws Exception {
        PrintStream out = System.out;
        Path work = Files.createTempDirectory("peerlink-demo");
        DeviceIdentity alice = DeviceIdentity.loadOrCreate(work.resolve("alice.key"));
        DeviceIdentity bob = DeviceIdentity.loadOrCreate(work.resolve("bob.key"));
        Path allowList = work.resolve("allow-list");
        Files.writeString(allowList, "# demo devices, one network\n" + alice.id() + " demo\n" + bob.id() + " demo\n");
        ServerConfig config = ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1).allowListFile(allowList).build();
        try (DeleteOnExit cleanup = new DeleteOnExit(work); ReferenceServer server = ReferenceServer.start(config)) {
            out.println("demo files in " + cleanup.dir() + " (removed on exit)");
            out.println("server " + server.controlUri() + " stun " + server.stunAddress());
            InetSocketAddress loopback = new InetSocketAddress("127.0.0.1", 0);
            try (Device b = PeerLinks.device().identity(work.resolve("bob.key")).rendezvous(server.controlUri())
                         .stunServer(server.stunAddress()).udp(loopback).build();
                 Device a = PeerLinks.device().identity(work.resolve("alice.key")).rendezvous(server.controlUri())
                         .stunServer(server.stunAddress()).udp(loopback).build()) {
                out.println("device alice " + a.id());
                out.println("device bob   " + b.id());
                Path inbox = work.resolve("bob-received");
                CompletableFuture<Void> received = new CompletableFuture<>();
                b.onIncoming(request -> request.accept().thenAccept(link ->
                        link.channel().onMessage(new FileTransfer.Receiver(inbox, new PrintStream(out, true) {
                            @Override
                            public void println(String x) {
                                super.println("bob: " + x);
                                if (x.startsWith("received") || x.startsWith("error")) {
                                    received.complete(null);
                                }
                            }
                        }))));
                a.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
                b.rendezvous().registered().toCompletableFuture().get(10, TimeUnit.SECONDS);
                long t0 = System.nanoTime();
                PeerLink link = a.connect(b.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
                DeviceCommand.printPath(out, link, System.nanoTime() - t0);
                byte[] data = new byte[size];
                new Random(42).nextBytes(data);
                long t1 = System.nanoTime();
                String sha = FileTransfer.send(link.channel(), "demo.bin", new ByteArrayInputStream(data), size, System.err);
                received.get(30, TimeUnit.SECONDS);
                out.printf(Locale.ROOT, "alice: sent demo.bin %d bytes sha256=%s in %.1f ms%n", size, sha, (System.nanoTime() - t1) / 1e6);
                Duration rtt = link.ping().toCompletableFuture().get(5, TimeUnit.SECONDS);
                out.printf(Locale.ROOT, "rtt %.3f ms%n", rtt.toNanos() / 1e6);
                out.println("stats " + link.channel().stats());
                link.close().toCompletableFuture().join();
                if (serve) {
                    out.println("server keeps running at " + server.controlUri() + " (Ctrl-C to stop)");
                    new java.util.concurrent.CountDownLatch(1).await();
                }
            }
        }
        return 0;
    }

    /** Removes the demo's keys and received files: demo identities are throwaway. */
    private record DeleteOnExit(Path dir) implements AutoCloseable {
        @Override
        public void close() throws java.io.IOException {
            try (java.util.stream.Stream<Path> files = Files.walk(dir)) {
                for (Path p : files.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }
}
