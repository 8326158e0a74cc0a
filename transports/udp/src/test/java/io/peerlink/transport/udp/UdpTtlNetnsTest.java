package io.peerlink.transport.udp;

import com.sun.jna.LastErrorException;
import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.Callable;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The TTL really changes on the wire, across a real router: device A and device B in their own
 * network namespaces, joined by a router namespace that forwards between 10.231.1.0/24 and
 * 10.231.2.0/24. A datagram sent with TTL 1 dies at the router (which counts an ICMP time
 * exceeded); TTL 2, the restored default and TTL 64 arrive. The transports' sockets are created
 * inside the namespaces by a thread that joined them with {@code setns(2)}, so one JVM drives both.
 *
 * <p>Needs root. Under {@code CI=true} a missing privilege or tool fails the test; elsewhere it
 * is skipped with the reason. Namespaces carry a unique prefix and are deleted after the test,
 * whatever happened.
 */
class UdpTtlNetnsTest {

    private static final int O_RDONLY = 0;
    private static final int O_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    interface NsLibc extends Library {
        int geteuid();

        int open(String path, int flags) throws LastErrorException;

        int setns(int fd, int nstype) throws LastErrorException;

        int close(int fd);
    }

    private final String id = Long.toHexString(System.nanoTime() & 0xFFFFFFL | 0x100000L); // 6 hex digits
    private final String nsA = "plk-udp-" + id + "-a";
    private final String nsR = "plk-udp-" + id + "-r";
    private final String nsB = "plk-udp-" + id + "-b";
    private final List<String> createdNamespaces = new ArrayList<>();
    private final List<Transport> transports = new ArrayList<>();

    @AfterEach
    void cleanUp() throws Exception {
        transports.forEach(Transport::destroy);
        for (String ns : createdNamespaces) {
            run(false, "ip", "netns", "del", ns); // also removes the veth pairs inside
        }
    }

    private static void requireOrSkip(boolean condition, String reason) {
        if (!condition) {
            if ("true".equals(System.getenv("CI"))) {
                fail("CI=true: " + reason + " (the namespace TTL test must run in CI)");
            }
            assumeTrue(false, reason + "; skipping the network-namespace TTL test");
        }
    }

    @Test
    void ttlOneDiesAtTheRouterWhileTtlTwoTheDefaultAndTtl64Arrive() throws Exception {
        requireOrSkip(Platform.isLinux(), "network namespaces need Linux");
        NsLibc libc = Native.load("c", NsLibc.class);
        requireOrSkip(libc.geteuid() == 0, "not root (network namespaces need CAP_SYS_ADMIN)");
        requireOrSkip(run(false, "ip", "-V").exit == 0, "the ip command (iproute2) is missing");

        for (String ns : List.of(nsA, nsR, nsB)) {
            run(true, "ip", "netns", "add", ns);
            createdNamespaces.add(ns);
        }
        String vethA = "pa" + id;
        String vethRA = "ra" + id;
        String vethB = "pb" + id;
        String vethRB = "rb" + id;
        run(true, "ip", "link", "add", vethA, "netns", nsA, "type", "veth", "peer", "name", vethRA, "netns", nsR);
        run(true, "ip", "link", "add", vethB, "netns", nsB, "type", "veth", "peer", "name", vethRB, "netns", nsR);
        run(true, "ip", "-n", nsA, "addr", "add", "10.231.1.2/24", "dev", vethA);
        run(true, "ip", "-n", nsR, "addr", "add", "10.231.1.1/24", "dev", vethRA);
        run(true, "ip", "-n", nsR, "addr", "add", "10.231.2.1/24", "dev", vethRB);
        run(true, "ip", "-n", nsB, "addr", "add", "10.231.2.2/24", "dev", vethB);
        for (String[] up : new String[][] {{nsA, vethA}, {nsA, "lo"}, {nsR, vethRA}, {nsR, vethRB}, {nsR, "lo"}, {nsB, vethB}, {nsB, "lo"}}) {
            run(true, "ip", "-n", up[0], "link", "set", up[1], "up");
        }
        run(true, "ip", "-n", nsA, "route", "add", "default", "via", "10.231.1.1");
        run(true, "ip", "-n", nsB, "route", "add", "default", "via", "10.231.2.1");
        run(true, "ip", "netns", "exec", nsR, "sysctl", "-qw", "net.ipv4.ip_forward=1");

        BlockingQueue<String> atB = new LinkedBlockingQueue<>();
        Transport a = inNamespace(libc, nsA, () -> started("udp://10.231.1.2:0", (s, d) -> { }));
        Transport b = inNamespace(libc, nsB, () -> started("udp://10.231.2.2:0",
                (source, datagram) -> atB.add(StandardCharsets.US_ASCII.decode(datagram).toString())));
        assertTrue(a.capabilities().ttlControl(), "TTL control unavailable: " + SocketTtl.unavailableReason());
        Endpoint toB = b.localEndpoint();
        long timeExceededBefore = icmpOutTimeExceeded(nsR);

        assertTrue(a.send(toB, ascii("ttl1-first"), 1));
        assertTrue(a.send(toB, ascii("ttl2"), 2));
        assertTrue(a.send(toB, ascii("ttl1-second"), 1));
        assertTrue(a.send(toB, ascii("default")));
        assertTrue(a.send(toB, ascii("ttl64"), 64));

        // One path, FIFO: once the last datagram is in, everything sent before it that survived
        // the router is in too. No sleeping for an absence.
        Set<String> received = new HashSet<>();
        String got;
        do {
            got = atB.poll(10, TimeUnit.SECONDS);
            assertNotNull(got, "expected datagrams did not arrive through the router; got " + received);
            received.add(got);
        } while (!got.equals("ttl64"));
        received.addAll(atB);
        assertEquals(Set.of("ttl2", "default", "ttl64"), received,
                "TTL 1 must die at the router; TTL 2, the restored default and TTL 64 must pass");
        assertTrue(icmpOutTimeExceeded(nsR) > timeExceededBefore,
                "the router must have answered an expired datagram with ICMP time exceeded");
    }

    private Transport started(String bind, DatagramHandler handler) throws IOException {
        Transport t = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse(bind)).build());
        transports.add(t);
        t.start(handler);
        return t;
    }

    private static ByteBuffer ascii(String s) {
        return ByteBuffer.wrap(s.getBytes(StandardCharsets.US_ASCII));
    }

    /**
     * Runs {@code body} on a fresh thread that joined the namespace: setns(2) moves only the
     * calling thread, and a socket stays in the namespace it was created in whoever uses it.
     */
    private static <T> T inNamespace(NsLibc libc, String ns, Callable<T> body) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                int fd = libc.open("/var/run/netns/" + ns, O_RDONLY | O_CLOEXEC);
                try {
                    libc.setns(fd, CLONE_NEWNET);
                } finally {
                    libc.close(fd);
                }
                result.set(body.call());
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "netns-" + ns);
        t.start();
        t.join();
        if (failure.get() != null) {
            throw new AssertionError("in namespace " + ns, failure.get());
        }
        return result.get();
    }

    private static long icmpOutTimeExceeded(String ns) throws Exception {
        String snmp = run(true, "ip", "netns", "exec", ns, "cat", "/proc/net/snmp").output;
        String[] header = null;
        for (String line : snmp.split("\n")) {
            if (line.startsWith("Icmp: ")) {
                String[] fields = line.substring(6).trim().split("\\s+");
                if (header == null) {
                    header = fields;
                } else {
                    for (int i = 0; i < header.length; i++) {
                        if (header[i].equals("OutTimeExcds")) {
                            return Long.parseLong(fields[i]);
                        }
                    }
                }
            }
        }
        throw new IllegalStateException("no Icmp OutTimeExcds in /proc/net/snmp of " + ns);
    }

    private record Result(int exit, String output) {
    }

    private static Result run(boolean check, String... command) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(command).redirectErrorStream(true).start();
        } catch (IOException e) {
            if (check) {
                throw e;
            }
            return new Result(127, e.getMessage());
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IllegalStateException("timed out: " + String.join(" ", command));
        }
        if (check && p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed (" + p.exitValue() + "): " + out);
        }
        return new Result(p.exitValue(), out);
    }
}
