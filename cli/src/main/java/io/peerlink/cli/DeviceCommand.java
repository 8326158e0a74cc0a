package io.peerlink.cli;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/** {@code peerlink device ...}: a device agent. */
@Command(name = "device", description = "Run a device agent: identity, listen, send, ping.",
        subcommands = {DeviceCommand.Id.class, DeviceCommand.Listen.class, DeviceCommand.Send.class, DeviceCommand.Ping.class,
                DeviceCommand.Connect.class})
final class DeviceCommand {

    static final int EXIT_UNREACHABLE = 3;

    /** Where a link goes: a peer ID through the rendezvous, or a direct endpoint. */
    static final class Target {
        @Option(names = {"-t", "--to"}, description = "Peer device ID (through the rendezvous server)",
                converter = DeviceIdConverter.class)
        DeviceId to;

        @Option(names = "--endpoint", description = "Direct peer endpoint, e.g. udp://127.0.0.1:7000 (no rendezvous)")
        String endpoint;

        /** Connects and prints the path line; set-up time counts from connect(), after registration. */
        PeerLink connect(Device device, PrintStream out) throws InterruptedException {
            try {
                if (endpoint != null) {
                    long start = System.nanoTime();
                    PeerLink link = device.connect(Endpoint.parse(endpoint)).toCompletableFuture().get();
                    printPath(out, link, System.nanoTime() - start);
                    return link;
                }
                device.rendezvous().registered().toCompletableFuture().get(30, TimeUnit.SECONDS);
                long start = System.nanoTime();
                PeerLink link = device.connect(to).toCompletableFuture().get();
                printPath(out, link, System.nanoTime() - start);
                return link;
            } catch (ExecutionException | CompletionException e) {
                if (e.getCause() instanceof RuntimeException r) {
                    throw r;
                }
                throw new PeerLinkException(String.valueOf(e.getCause()), e.getCause());
            } catch (java.util.concurrent.TimeoutException e) {
                throw new PeerLinkException("not registered with " + device.rendezvous().server() + " within 30 s");
            }
        }
    }

    /** Reads {@code --to} before anything starts, so a mistyped ID is a usage error, not a failed link. */
    static final class DeviceIdConverter implements ITypeConverter<DeviceId> {
        @Override
        public DeviceId convert(String value) {
            try {
                return DeviceId.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException("'" + value + "' is not a device ID: " + e.getMessage()
                        + "; a device prints its ID with 'peerlink device id'");
            }
        }
    }

    static void printPath(PrintStream out, PeerLink link, long setupNanos) {
        out.printf(Locale.ROOT, "path %s %s -> %s peer=%s setup-ms=%.1f%n", link.path().kind(), link.path().local(),
                link.path().remote(), link.peer(), setupNanos / 1e6);
        out.flush();
        printPathChanges(out, link);
    }

    /** Prints {@code path-final <KIND> <local> -> <remote>}: the path the link ends on. */
    static void printFinalPath(PrintStream out, PeerLink link) {
        out.println("path-final " + link.path().kind() + " " + link.path().local() + " -> " + link.path().remote());
        out.flush();
    }

    /** From now on prints {@code path-changed <KIND> <from> -> <to>} (the new kind, old and new remote endpoints) on every move. */
    static void printPathChanges(PrintStream out, PeerLink link) {
        link.addListener(event -> {
            if (event instanceof io.peerlink.LinkEvent.PathChanged pc) {
                out.println("path-changed " + pc.to().kind() + " " + pc.from().remote() + " -> " + pc.to().remote());
                out.flush();
            }
        });
    }

    /** What a command does with an established link. */
    @FunctionalInterface
    interface LinkBody {
        void run(PeerLink link, PrintStream out) throws Exception;
    }

    /**
     * Builds the device, prints its ID, links to the target and runs the body, then closes the link
     * gracefully.
     *
     * @return 0, or {@link #EXIT_UNREACHABLE} (after printing why) if no link could be made
     */
    static int withLink(DeviceOptions options, Target target, LinkBody body) throws Exception {
        PrintStream out = System.out;
        try (Device d = options.build()) {
            out.println("device-id " + d.id());
            PeerLink link;
            try {
                link = target.connect(d, out);
            } catch (RuntimeException e) {
                return unreachable(out, e);
            }
            try {
                body.run(link, out);
                if (options.lingerMillis > 0) {
                    // Better paths keep racing in the background; let them conclude (path-changed lines).
                    linger(link, options.lingerMillis, options.untilDirect);
                }
                printFinalPath(out, link);
            } finally {
                link.close().toCompletableFuture().join();
            }
        }
        return 0;
    }

    /** Sleeps {@code millis}, or, with {@code untilDirect}, until 1 s after the link runs on a direct path if that is sooner. */
    static void linger(PeerLink link, long millis, boolean untilDirect) throws InterruptedException {
        long end = System.nanoTime() + millis * 1_000_000L;
        if (untilDirect) {
            while (System.nanoTime() < end) {
                io.peerlink.PathKind kind = link.path().kind();
                if (kind == io.peerlink.PathKind.DIRECT_PRIVATE || kind == io.peerlink.PathKind.DIRECT_PUBLIC) {
                    end = Math.min(end, System.nanoTime() + 1_000_000_000L);
                    break;
                }
                Thread.sleep(100);
            }
        }
        long left = end - System.nanoTime();
        if (left > 0) {
            Thread.sleep(left / 1_000_000L, (int) (left % 1_000_000L));
        }
    }

    static int unreachable(PrintStream out, RuntimeException e) {
        if (e instanceof UnreachableException u) {
            out.println("unreachable " + u.reason() + " " + u.getMessage());
        } else {
            out.println("error " + e.getMessage());
        }
        out.flush();
        return EXIT_UNREACHABLE;
    }

    @Command(name = "id", description = "Print this device's ID (creates the key file on first use).")
    static final class Id implements Callable<Integer> {
        @Option(names = {"-k", "--key"}, defaultValue = "device.key", description = "Key file. Default: ${DEFAULT-VALUE}")
        Path key;

        @Override
        public Integer call() {
            System.out.println("device-id " + DeviceIdentity.loadOrCreate(key).id());
            return 0;
        }
    }

    @Command(name = "listen", description = "Accept links; receive files into a directory, or echo messages back.")
    static final class Listen implements Callable<Integer> {
        @Mixin
        DeviceOptions device;

        @Option(names = {"-d", "--receive-dir"}, description = "Directory for received files. Default: ${DEFAULT-VALUE}", defaultValue = "received")
        Path dir;

        @Option(names = "--echo", description = "Echo every message back instead of receiving files")
        boolean echo;

        @Option(names = "--accept", split = ",", description = "Accept only these peer IDs (default: any admitted peer)")
        Set<String> accept;

        @Option(names = "--links", description = "Exit after this many links have closed (0 = run until killed)", defaultValue = "0")
        int links;

        @Override
        public Integer call() throws Exception {
            Set<DeviceId> allowed = accept == null ? null : accept.stream().map(DeviceId::parse).collect(Collectors.toSet());
            CountDownLatch done = new CountDownLatch(Math.max(1, links));
            PrintStream out = System.out;
            try (Device d = device.build()) {
                out.println("device-id " + d.id());
                out.println("listening " + d.localEndpoints().get(0));
                out.flush();
                d.onIncoming(request -> {
                    if (allowed != null && !allowed.contains(request.from())) {
                        request.reject("not on this device's accept list");
                        out.println("rejected " + request.from());
                        return;
                    }
                    long start = System.nanoTime();
                    request.accept().whenComplete((link, error) -> {
                        if (error != null) {
                            out.println("unreachable " + error.getMessage());
                            out.flush();
                            return;
                        }
                        printPath(out, link, System.nanoTime() - start);
                        if (echo) {
                            link.channel().onMessage((m, how) -> link.channel().send(m, how));
                        } else {
                            link.channel().onMessage(new FileTransfer.Receiver(dir, out));
                        }
                        link.channel().closed().thenAccept(reason -> {
                            printFinalPath(out, link);
                            out.println("closed " + link.peer() + " " + reason);
                            out.flush();
                            done.countDown();
                        });
                    });
                });
                if (device.server != null) {
                    d.rendezvous().registered().thenRun(() -> {
                        out.println("registered " + d.rendezvous().server());
                        out.flush();
                    });
                }
                if (links > 0) {
                    done.await();
                } else {
                    new CountDownLatch(1).await();
                }
            }
            return 0;
        }
    }

    @Command(name = "send", description = "Link to a peer and send a file (or stdin).")
    static final class Send implements Callable<Integer> {
        @Mixin
        DeviceOptions device;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = {"-f", "--file"}, description = "File to send; stdin if omitted")
        Path file;

        @Option(names = "--no-progress", description = "Do not draw a progress bar")
        boolean noProgress;

        @Override
        public Integer call() throws Exception {
            return withLink(device, target, (link, out) -> {
                long t0 = System.nanoTime();
                String name = file == null ? "stdin" : file.getFileName().toString();
                long size = file == null ? -1 : Files.size(file);
                try (InputStream in = file == null ? System.in : Files.newInputStream(file)) {
                    String sha = FileTransfer.send(link.channel(), name, in, size, noProgress || size < 0 ? null : System.err);
                    long ms = (System.nanoTime() - t0) / 1_000_000;
                    io.peerlink.ChannelStats s = link.channel().stats();
                    out.println("sent " + name + " " + s.payloadBytesSent() + " payload-bytes sha256=" + sha + " in " + ms + " ms"
                            + " bytes-sent=" + s.bytesSent() + " bytes-received=" + s.bytesReceived()
                            + " retransmitted=" + s.retransmittedBytes());
                }
            });
        }
    }

    @Command(name = "ping", description = "Link to a peer and measure the round-trip time over the link.")
    static final class Ping implements Callable<Integer> {
        @Mixin
        DeviceOptions device;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = {"-c", "--count"}, defaultValue = "5", description = "Pings to send. Default: ${DEFAULT-VALUE}")
        int count;

        @Override
        public Integer call() throws Exception {
            return withLink(device, target, (link, out) -> {
                for (int i = 0; i < count; i++) {
                    Duration rtt = link.ping().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    out.printf(Locale.ROOT, "rtt %.3f ms%n", rtt.toNanos() / 1e6);
                    out.flush();
                    Thread.sleep(200);
                }
            });
        }
    }

    @Command(name = "connect", description = "Link to a peer and close again, N times, each from a fresh socket "
            + "(fresh NAT state): measures link set-up time in a warm JVM.")
    static final class Connect implements Callable<Integer> {
        @Mixin
        DeviceOptions device;

        @ArgGroup(exclusive = true, multiplicity = "1")
        Target target;

        @Option(names = {"-n", "--repeat"}, defaultValue = "1", description = "Links to set up. Default: ${DEFAULT-VALUE}")
        int repeat;

        @Override
        public Integer call() throws Exception {
            PrintStream out = System.out;
            int failures = 0;
            for (int i = 0; i < repeat; i++) {
                try (Device d = device.build()) {
                    if (i == 0) {
                        out.println("device-id " + d.id());
                    }
                    if (target.to != null) {
                        d.rendezvous().registered().toCompletableFuture().get(30, TimeUnit.SECONDS);
                    }
                    long start = System.nanoTime();
                    PeerLink link = target.connect(d, out);
                    link.ping().toCompletableFuture().get(10, TimeUnit.SECONDS);
                    // Time to first byte: from connect() to the first answer over the link.
                    out.printf(Locale.ROOT, "first-byte %s ms=%.1f%n", link.path().kind(), (System.nanoTime() - start) / 1e6);
                    link.close().toCompletableFuture().join();
                } catch (RuntimeException e) {
                    unreachable(out, e);
                    failures++;
                }
            }
            out.println("done " + (repeat - failures) + " linked, " + failures + " failed");
            return failures == 0 ? 0 : EXIT_UNREACHABLE;
        }
    }

    private DeviceCommand() {
    }
}
