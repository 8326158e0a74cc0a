package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import org.junit.jupiter.api.Test;

import java.io.File;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * TTL control: the socket option really changes (getsockopt), the TTL really changes on the wire
 * (an IP_RECVTTL receiver on loopback), the default comes back even under concurrent ordinary
 * sends, and none of it needs a JVM flag.
 */
class UdpTtlTest {

    private static final Duration WAIT = Duration.ofSeconds(10);

    @Test
    void setsockoptChangesWhatGetsockoptReads() throws Exception {
        SocketTtl ttl = SocketTtl.instance();
        assertNotNull(ttl, "TTL control unavailable: " + SocketTtl.unavailableReason());
        try (DatagramChannel v4 = DatagramChannel.open(StandardProtocolFamily.INET)) {
            v4.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            int fd = ttl.fd(v4, false);
            int before = ttl.get(fd, false);
            ttl.set(fd, false, 7, 7);
            assertEquals(7, ttl.get(fd, false));
            ttl.set(fd, false, before, before);
            assertEquals(before, ttl.get(fd, false));
        }
        try (DatagramChannel v6 = DatagramChannel.open(StandardProtocolFamily.INET6)) {
            v6.bind(new java.net.InetSocketAddress(InetAddress.getByName("::"), 0));
            int fd = ttl.fd(v6, true);
            ttl.set(fd, true, 3, 9);
            assertEquals(9, ttl.get(fd, true), "IPV6_UNICAST_HOPS");
            assertEquals(3, ttl.getIpv4(fd), "IP_TTL on a dual-stack socket (used for IPv4-mapped peers)");
        }
    }

    @Test
    void witnessSeesTheSystemDefaultFromAPlainJdkSocket() throws Exception {
        try (RecvTtlWitness witness = RecvTtlWitness.openOrNull()) {
            assertNotNull(witness, "IP_RECVTTL witness needs 64-bit Linux");
            try (DatagramSocket plain = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
                byte[] b = {1};
                plain.send(new DatagramPacket(b, 1, witness.endpoint().toSocketAddress()));
            }
            assertEquals(systemDefaultTtl(), witness.nextTtl(WAIT));
        }
    }

    /**
     * Two threads hammer the transport with ordinary sends while a third sends TTL-2 openers; on
     * the wire, every ordinary datagram must carry the default TTL and every opener TTL 2. This
     * is what the send lock is for.
     */
    @Test
    void lowTtlNeverLeaksIntoConcurrentOrdinarySends() throws Exception {
        Transport t = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
        try (RecvTtlWitness witness = RecvTtlWitness.openOrNull()) {
            assertNotNull(witness);
            t.start((source, datagram) -> { });
            Endpoint to = witness.endpoint();
            int perThread = 200;
            CountDownLatch go = new CountDownLatch(1);
            AtomicInteger accepted = new AtomicInteger();
            List<Thread> threads = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                boolean opener = i == 2;
                Thread th = new Thread(() -> {
                    try {
                        go.await();
                    } catch (InterruptedException e) {
                        return;
                    }
                    ByteBuffer b = ByteBuffer.allocate(1);
                    for (int n = 0; n < perThread; n++) {
                        b.clear();
                        b.put(0, (byte) (opener ? 2 : 0));
                        if (opener ? t.send(to, b, 2) : t.send(to, b)) {
                            accepted.incrementAndGet();
                        }
                    }
                });
                threads.add(th);
                th.start();
            }
            go.countDown();
            for (Thread th : threads) {
                th.join(TimeUnit.SECONDS.toMillis(30));
            }
            int lowSeen = 0;
            int defaultSeen = 0;
            for (int i = 0; i < accepted.get(); i++) {
                int ttlSeen = witness.nextTtl(Duration.ofSeconds(2));
                if (ttlSeen == -1) {
                    break; // a loss on loopback under load is allowed; what arrived is checked
                }
                int kind = witness.lastPayload()[0];
                if (kind == 2) {
                    assertEquals(2, ttlSeen, "an opener left without its low TTL");
                    lowSeen++;
                } else {
                    assertEquals(systemDefaultTtl(), ttlSeen, "an ordinary datagram left with the opener's TTL: the low TTL leaked");
                    defaultSeen++;
                }
            }
            assertTrue(lowSeen > 0 && defaultSeen > 0, "both kinds must arrive: low " + lowSeen + ", default " + defaultSeen);
        } finally {
            t.destroy();
        }
    }

    /**
     * A JVM started with no flag at all (the class path only): TTL control is on, and an opener
     * sent with TTL 2 arrives with TTL 2 while the next ordinary datagram has the default again.
     */
    @Test
    void ttlControlNeedsNoJvmFlag() throws Exception {
        String java = System.getProperty("java.home") + File.separator + "bin" + File.separator + "java";
        try (RecvTtlWitness witness = RecvTtlWitness.openOrNull()) {
            assertNotNull(witness, "IP_RECVTTL witness needs 64-bit Linux");
            Process p = new ProcessBuilder(java, "-cp", System.getProperty("java.class.path"), NoFlagMain.class.getName(),
                    witness.endpoint().toString()).start();
            assertTrue(p.waitFor(60, TimeUnit.SECONDS), "child JVM did not finish");
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            assertEquals(0, p.exitValue(), "child failed: " + out + err);
            assertTrue(out.contains("ttlControl=true"), out + err);
            assertEquals(2, witness.nextTtl(WAIT), "the opener must leave with TTL 2");
            assertEquals(systemDefaultTtl(), witness.nextTtl(WAIT), "the ordinary datagram must leave with the default TTL");
            assertEquals(0, count(err, "IP TTL control is unavailable"), "no warning expected:\n" + err);
        }
    }

    /**
     * Three sockets bound to the same address and port (SO_REUSEADDR): the descriptor found for
     * each channel is really that channel's, shown by setting the unicast TTL through the found
     * descriptor and watching only that channel's datagrams change.
     */
    @Test
    void findsTheRightDescriptorAmongSocketsSharingAnAddress() throws Exception {
        SocketTtl ttl = SocketTtl.instance();
        assertNotNull(ttl, "TTL control unavailable: " + SocketTtl.unavailableReason());
        List<DatagramChannel> channels = new ArrayList<>();
        try (RecvTtlWitness witness = RecvTtlWitness.openOrNull()) {
            assertNotNull(witness);
            java.net.InetSocketAddress shared = null;
            for (int i = 0; i < 3; i++) {
                DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET);
                channels.add(c);
                c.setOption(java.net.StandardSocketOptions.SO_REUSEADDR, true);
                c.bind(shared != null ? shared : new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
                shared = (java.net.InetSocketAddress) c.getLocalAddress();
            }
            int[] fds = new int[3];
            for (int i = 0; i < 3; i++) {
                fds[i] = ttl.fd(channels.get(i), false);
                assertEquals(1, channels.get(i).getOption(java.net.StandardSocketOptions.IP_MULTICAST_TTL),
                        "the marker must be removed again");
            }
            assertEquals(3, java.util.Arrays.stream(fds).distinct().count(), "three channels, three descriptors");
            for (int i = 0; i < 3; i++) {
                ttl.set(fds[i], false, 10 + i, 10 + i);
            }
            for (int i = 0; i < 3; i++) {
                channels.get(i).send(ByteBuffer.wrap(new byte[] {(byte) i}), witness.endpoint().toSocketAddress());
                assertEquals(10 + i, witness.nextTtl(WAIT), "channel " + i + " must carry the TTL set through its own descriptor");
            }
        } finally {
            for (DatagramChannel c : channels) {
                c.close();
            }
        }
    }

    /** No descriptor shows the marker (a marker that sets nothing): the lookup says so. */
    @Test
    void anUnidentifiableSocketIsReportedNotGuessed() throws Exception {
        assertNotNull(SocketTtl.instance());
        SocketDescriptors descriptors = new SocketDescriptors(com.sun.jna.Native.load("c", SocketTtl.LibC.class),
                new SocketTtl.Constants(2, 33, 16, 18, 10, false, "/proc/self/fd"));
        try (DatagramChannel c = DatagramChannel.open(StandardProtocolFamily.INET)) {
            c.bind(new java.net.InetSocketAddress(InetAddress.getLoopbackAddress(), 0));
            java.io.IOException e = org.junit.jupiter.api.Assertions.assertThrows(java.io.IOException.class,
                    () -> descriptors.find((java.net.InetSocketAddress) c.getLocalAddress(), false, value -> { }, new int[] {201, 113}));
            assertTrue(e.getMessage().contains("cannot identify the socket bound to"), e.getMessage());
        }
    }

    private static int systemDefaultTtl() throws java.io.IOException {
        // Files.readString trusts the (zero) size procfs reports; a reader reads it whole.
        try (var reader = new java.io.BufferedReader(new java.io.FileReader("/proc/sys/net/ipv4/ip_default_ttl", StandardCharsets.US_ASCII))) {
            return Integer.parseInt(reader.readLine().trim());
        }
    }

    private static int count(String text, String needle) {
        int n = 0;
        for (int i = text.indexOf(needle); i >= 0; i = text.indexOf(needle, i + 1)) {
            n++;
        }
        return n;
    }

    /** Run by {@link #ttlControlNeedsNoJvmFlag()} in a JVM started without any flag. */
    public static final class NoFlagMain {
        private NoFlagMain() {
        }

        /**
         * @param args the witness endpoint
         * @throws Exception on failure (non-zero exit)
         */
        public static void main(String[] args) throws Exception {
            Endpoint witness = Endpoint.parse(args[0]);
            Transport a = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
            System.out.println("ttlControl=" + a.capabilities().ttlControl());
            a.start((source, datagram) -> { });
            try {
                a.send(witness, ByteBuffer.allocate(1), 2);
                a.send(witness, ByteBuffer.allocate(1));
            } finally {
                a.destroy();
            }
        }
    }
}
