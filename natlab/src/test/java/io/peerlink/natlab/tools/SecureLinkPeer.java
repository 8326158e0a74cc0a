package io.peerlink.natlab.tools;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;

import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A lab device on the public API only: direct secure links, many handshakes in one JVM.
 *
 * <pre>
 * listen BIND_IP
 *     prints "listening IP:PORT DEVICE_ID"; accepts every verified device; a message starting
 *     with "ECHO " comes back as it is, any other is answered "GOT LENGTH SHA256" and printed as
 *     "received LENGTH sha256=HEX from ID".
 * dial BIND_IP TARGET_IP:PORT EXPECTED_ID LINKS PARALLEL TIMEOUT_S
 *     runs LINKS handshakes (at most PARALLEL at once, each with its own connection IDs), prints
 *     "link N handshake MS" or "link N failed REASON", then "handshakes ok=K failed=F ms=TOTAL";
 *     after a line on stdin every link echoes one message: "echoes ok=K of LINKS".
 * send BIND_IP TARGET_IP:PORT EXPECTED_ID BYTES TIMEOUT_S
 *     one link, one message of BYTES seeded random bytes; prints "sent BYTES sha256=HEX" and,
 *     when the listener's answer arrives, "confirmed LENGTH SHA256".
 * canary BIND_IP TARGET_IP:PORT EXPECTED_ID TEXT COUNT TIMEOUT_S
 *     one link, TEXT echoed COUNT times; prints "canary echoed COUNT".
 * </pre>
 */
public final class SecureLinkPeer {
    private static final PrintStream OUT = System.out;

    private SecureLinkPeer() {
    }

    public static void main(String[] args) throws Exception {
        switch (args[0]) {
            case "listen" -> listen(args[1]);
            case "dial" -> dial(args);
            case "send" -> send(args);
            case "canary" -> canary(args);
            default -> throw new IllegalArgumentException("unknown mode " + args[0]);
        }
    }

    private static Device device(String bindIp, Duration timeout) {
        return PeerLinks.device().ephemeralIdentity().udp(new InetSocketAddress(bindIp, 0)).connectTimeout(timeout).build();
    }

    private static synchronized void println(String line) {
        OUT.println(line);
        OUT.flush();
    }

    private static void listen(String bindIp) throws Exception {
        Device d = device(bindIp, Duration.ofSeconds(30));
        d.onIncoming(req -> req.accept().thenAccept(link -> link.channel().onMessage((m, how) -> {
            byte[] bytes = new byte[m.remaining()];
            m.get(bytes);
            if (bytes.length >= 5 && new String(bytes, 0, 5, StandardCharsets.US_ASCII).equals("ECHO ")) {
                link.channel().send(ByteBuffer.wrap(bytes));
                return;
            }
            String sha = sha256(bytes);
            println("received " + bytes.length + " sha256=" + sha + " from " + link.peer());
            link.channel().send(ByteBuffer.wrap(("GOT " + bytes.length + " " + sha).getBytes(StandardCharsets.US_ASCII)));
        })));
        InetSocketAddress at = d.localEndpoints().get(0).toSocketAddress();
        println("listening " + at.getAddress().getHostAddress() + ":" + at.getPort() + " " + d.id());
        new CountDownLatch(1).await();
    }

    private static Endpoint target(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return Endpoint.udp(new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1))));
    }

    /** Connects, sends {@code message}, completes with the first answer. */
    private static CompletableFuture<byte[]> exchange(Device d, Endpoint to, DeviceId expected, byte[] message, CompletableFuture<PeerLink> linked) {
        CompletableFuture<byte[]> answer = new CompletableFuture<>();
        d.connect(to, expected).whenComplete((link, error) -> {
            if (error != null) {
                linked.completeExceptionally(error);
                answer.completeExceptionally(error);
                return;
            }
            linked.complete(link);
            link.channel().onMessage((m, how) -> {
                byte[] b = new byte[m.remaining()];
                m.get(b);
                answer.complete(b);
            });
            link.channel().send(ByteBuffer.wrap(message)).whenComplete((v, e) -> {
                if (e != null) {
                    answer.completeExceptionally(e);
                }
            });
        });
        return answer;
    }

    private static void dial(String[] a) throws Exception {
        Endpoint to = target(a[2]);
        DeviceId expected = new DeviceId(a[3]);
        int links = Integer.parseInt(a[4]);
        int parallel = Integer.parseInt(a[5]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(a[6]));
        Device d = device(a[1], timeout);
        Semaphore slots = new Semaphore(parallel);
        AtomicInteger failed = new AtomicInteger();
        List<CompletableFuture<PeerLink>> all = new ArrayList<>();
        long start = System.nanoTime();
        for (int i = 0; i < links; i++) {
            slots.acquire();
            int n = i;
            long t0 = System.nanoTime();
            CompletableFuture<PeerLink> f = d.connect(to, expected).toCompletableFuture();
            all.add(f);
            f.whenComplete((link, error) -> {
                long ms = (System.nanoTime() - t0) / 1_000_000;
                if (error == null && link.peer().equals(expected)) {
                    println("link " + n + " handshake " + ms);
                } else {
                    failed.incrementAndGet();
                    println("link " + n + " failed " + (error != null ? error : "peer " + link.peer()));
                }
                slots.release();
            });
        }
        CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).exceptionally(e -> null).join();
        println("handshakes ok=" + (links - failed.get()) + " failed=" + failed.get() + " ms=" + (System.nanoTime() - start) / 1_000_000);
        // Phase 2, once the test says so (it may lift the loss first): every link echoes a message.
        new java.io.BufferedReader(new java.io.InputStreamReader(System.in, StandardCharsets.US_ASCII)).readLine();
        AtomicInteger echoed = new AtomicInteger();
        List<CompletableFuture<Void>> echoes = new ArrayList<>();
        for (int i = 0; i < all.size(); i++) {
            PeerLink link = all.get(i).getNow(null);
            if (link == null) {
                continue;
            }
            String text = "ECHO link " + i;
            CompletableFuture<Void> back = new CompletableFuture<>();
            link.channel().onMessage((m, how) -> {
                byte[] b = new byte[m.remaining()];
                m.get(b);
                if (new String(b, StandardCharsets.US_ASCII).equals(text)) {
                    echoed.incrementAndGet();
                    back.complete(null);
                }
            });
            link.channel().send(ByteBuffer.wrap(text.getBytes(StandardCharsets.US_ASCII)));
            echoes.add(back.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).exceptionally(e -> null));
        }
        CompletableFuture.allOf(echoes.toArray(CompletableFuture[]::new)).join();
        println("echoes ok=" + echoed.get() + " of " + links);
        d.close();
        System.exit(failed.get() == 0 && echoed.get() == links ? 0 : 1);
    }

    private static void send(String[] a) throws Exception {
        Endpoint to = target(a[2]);
        DeviceId expected = new DeviceId(a[3]);
        int bytes = Integer.parseInt(a[4]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(a[5]));
        Device d = device(a[1], timeout);
        byte[] data = new byte[bytes];
        new Random(2026).nextBytes(data);
        String sha = sha256(data);
        println("sent " + bytes + " sha256=" + sha);
        long t0 = System.nanoTime();
        byte[] answer = exchange(d, to, expected, data, new CompletableFuture<>()).get(timeout.toSeconds() * 3, TimeUnit.SECONDS);
        println("confirmed " + new String(answer, StandardCharsets.US_ASCII).substring(4) + " ms=" + (System.nanoTime() - t0) / 1_000_000);
        d.close();
        System.exit(0);
    }

    private static void canary(String[] a) throws Exception {
        Endpoint to = target(a[2]);
        DeviceId expected = new DeviceId(a[3]);
        String text = a[4];
        int count = Integer.parseInt(a[5]);
        Duration timeout = Duration.ofSeconds(Long.parseLong(a[6]));
        Device d = device(a[1], timeout);
        PeerLink link = d.connect(to, expected).toCompletableFuture().get(timeout.toSeconds(), TimeUnit.SECONDS);
        List<CompletableFuture<Void>> echoes = new ArrayList<>();
        AtomicInteger got = new AtomicInteger();
        CountDownLatch all = new CountDownLatch(count);
        link.channel().onMessage((m, how) -> {
            byte[] b = new byte[m.remaining()];
            m.get(b);
            if (new String(b, StandardCharsets.US_ASCII).equals("ECHO " + text)) {
                got.incrementAndGet();
                all.countDown();
            }
        });
        for (int i = 0; i < count; i++) {
            echoes.add(link.channel().send(ByteBuffer.wrap(("ECHO " + text).getBytes(StandardCharsets.US_ASCII))).toCompletableFuture());
        }
        all.await(timeout.toSeconds(), TimeUnit.SECONDS);
        println("canary echoed " + got.get());
        link.close();
        d.close();
        System.exit(got.get() == count ? 0 : 1);
    }

    private static String sha256(byte[] data) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
