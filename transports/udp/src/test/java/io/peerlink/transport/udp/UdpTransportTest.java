package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.NetworkInterface;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** UDP-specific behaviour over real loopback sockets; the SPI contract itself is the TCK's job. */
class UdpTransportTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private final List<Transport> transports = new ArrayList<>();

    @AfterEach
    void destroyAll() {
        transports.forEach(Transport::destroy);
    }

    private Transport create(String bind) {
        return create(TransportConfig.bind(Endpoint.parse(bind)).build());
    }

    private Transport create(TransportConfig config) {
        Transport t = new UdpTransportProvider().create(config);
        transports.add(t);
        return t;
    }

    /** Records (source, bytes) pairs, keeping the source instance for identity checks. */
    private static final class Inbox implements DatagramHandler {
        record Got(Endpoint source, byte[] bytes) {
        }

        final BlockingQueue<Got> queue = new LinkedBlockingQueue<>();

        @Override
        public void onDatagram(Endpoint source, ByteBuffer datagram) {
            byte[] b = new byte[datagram.remaining()];
            datagram.get(b);
            queue.add(new Got(source, b));
        }

        Got next() throws InterruptedException {
            Got g = queue.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
            assertNotNull(g, "nothing arrived within " + WAIT);
            return g;
        }
    }

    @Test
    void serviceLoaderFindsTheUdpProvider() {
        List<String> schemes = ServiceLoader.load(TransportProvider.class).stream()
                .map(p -> p.get().scheme()).toList();
        assertTrue(schemes.contains("udp"), "META-INF/services must register the UDP provider: " + schemes);
    }

    @Test
    void bindEndpointMustBeUdpIpLiteralWithoutPath() {
        UdpTransportProvider provider = new UdpTransportProvider();
        assertThrows(IllegalArgumentException.class, () -> provider.create(TransportConfig.bind(Endpoint.parse("tcp://127.0.0.1:0")).build()));
        assertThrows(IllegalArgumentException.class, () -> provider.create(TransportConfig.bind(Endpoint.parse("udp://localhost:0")).build()));
        assertThrows(IllegalArgumentException.class, () -> provider.create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0/x")).build()));
        assertThrows(IllegalArgumentException.class, () -> provider.create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0"))
                .set(UdpOptions.RECEIVE_BUFFER_SIZE, 0).build()));
        assertThrows(NullPointerException.class, () -> provider.create(null));
    }

    @Test
    void capabilitiesAreUnreliableUnorderedIpv4Maximum() {
        Transport t = create("udp://127.0.0.1:0");
        assertFalse(t.capabilities().reliable());
        assertFalse(t.capabilities().ordered());
        assertEquals(65_507, t.capabilities().maxDatagramSize());
        assertTrue(t.capabilities().ttlControl(), "TTL control needs no JVM flag: " + SocketTtl.unavailableReason());
    }

    @Test
    void ttlControlCanBeSwitchedOff() throws Exception {
        Transport t = create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).set(UdpOptions.TTL_CONTROL, false).build());
        assertFalse(t.capabilities().ttlControl());
        t.start(new Inbox());
        UnsupportedOperationException e = assertThrows(UnsupportedOperationException.class,
                () -> t.send(t.localEndpoint(), ByteBuffer.allocate(1), 2));
        assertTrue(e.getMessage().contains("udp.ttlControl"), e.getMessage());
    }

    @Test
    void supportsOnlyUdpIpLiteralsOfTheSocketsFamily() throws Exception {
        Transport v4 = create("udp://127.0.0.1:0");
        v4.start(new Inbox());
        assertTrue(v4.supports(Endpoint.parse("udp://192.0.2.1:9")));
        assertFalse(v4.supports(new Endpoint("udp", "::1", 9, "")), "an IPv4 socket cannot reach IPv6");
        assertFalse(v4.supports(Endpoint.parse("udp://example.invalid:9")), "host names would need DNS, which may block");
        assertFalse(v4.supports(Endpoint.parse("udp://127.0.0.1:0")), "port 0 is no destination");
        assertFalse(v4.supports(Endpoint.parse("udp://127.0.0.1:9/path")));
        assertFalse(v4.supports(new Endpoint("udp", "256.1.1.1", 9, "")));
        assertFalse(v4.supports(new Endpoint("udp", "1.2.3", 9, "")));
        assertFalse(v4.supports(Endpoint.parse("relay://127.0.0.1:9")));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> v4.send(Endpoint.parse("udp://example.invalid:9"), ByteBuffer.allocate(1)));
        assertTrue(e.getMessage().contains("IP literal"), e.getMessage());
    }

    @Test
    void repeatedDatagramsFromOneSourceShareOneEndpointInstance() throws Exception {
        Transport a = create("udp://127.0.0.1:0");
        Transport b = create("udp://127.0.0.1:0");
        Inbox atB = new Inbox();
        a.start(new Inbox());
        b.start(atB);
        for (int i = 0; i < 3; i++) {
            assertTrue(a.send(b.localEndpoint(), ByteBuffer.wrap(new byte[] {(byte) i})));
        }
        Endpoint first = atB.next().source();
        assertEquals(a.localEndpoint(), first);
        assertSame(first, atB.next().source(), "the source Endpoint is cached, not rebuilt per datagram");
        assertSame(first, atB.next().source());
    }

    @Test
    void restartRebindsTheSameFixedPort() throws Exception {
        int port;
        try (DatagramSocket probe = new DatagramSocket(0, InetAddress.getLoopbackAddress())) {
            port = probe.getLocalPort();
        }
        Transport a = create("udp://127.0.0.1:" + port);
        Transport b = create("udp://127.0.0.1:0");
        Inbox atB = new Inbox();
        b.start(atB);
        for (int round = 0; round < 3; round++) {
            Inbox atA = new Inbox();
            a.start(atA);
            assertEquals(port, a.localEndpoint().port(), "stop must release the port at once");
            b.send(a.localEndpoint(), ByteBuffer.wrap(new byte[] {42, (byte) round}));
            assertArrayEquals(new byte[] {42, (byte) round}, atA.next().bytes());
            a.stop();
        }
    }

    @Test
    void stopFromInsideTheHandlerDoesNotDeadlock() throws Exception {
        Transport a = create("udp://127.0.0.1:0");
        Transport b = create("udp://127.0.0.1:0");
        BlockingQueue<Transport.State> states = new LinkedBlockingQueue<>();
        a.start((source, datagram) -> {
            a.stop();
            states.add(a.state());
        });
        b.start(new Inbox());
        b.send(a.localEndpoint(), ByteBuffer.wrap(new byte[] {1}));
        assertEquals(Transport.State.STOPPED, states.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS));
        a.start(new Inbox()); // and it can be started again afterwards
        assertEquals(Transport.State.STARTED, a.state());
    }

    @Test
    void largestIpv4DatagramFromADirectBufferArrivesWhole() throws Exception {
        Transport a = create("udp://127.0.0.1:0");
        Transport b = create("udp://127.0.0.1:0");
        Inbox atB = new Inbox();
        a.start(new Inbox());
        b.start(atB);
        byte[] bytes = new byte[65_507];
        new java.util.Random(7).nextBytes(bytes);
        assertTrue(a.send(b.localEndpoint(), ByteBuffer.allocateDirect(bytes.length).put(bytes).flip()));
        assertArrayEquals(bytes, atB.next().bytes());
    }

    @Test
    void dualStackSocketReachesIpv6AndIpv4Peers() throws Exception {
        assumeTrue(ipv6LoopbackAvailable(), "no IPv6 loopback (::1) on this machine");
        Transport v6 = create("udp://[::]:0");
        Transport v4peer = create("udp://127.0.0.1:0");
        Transport v6peer = create("udp://[::1]:0");
        Inbox at6 = new Inbox();
        Inbox atV4peer = new Inbox();
        Inbox atV6peer = new Inbox();
        v6.start(at6);
        v4peer.start(atV4peer);
        v6peer.start(atV6peer);
        assertTrue(v6.supports(v6peer.localEndpoint()));
        assertTrue(v6.send(v6peer.localEndpoint(), ByteBuffer.wrap(new byte[] {6})));
        assertArrayEquals(new byte[] {6}, atV6peer.next().bytes());
        assertTrue(v6.send(v4peer.localEndpoint(), ByteBuffer.wrap(new byte[] {4})));
        Inbox.Got got = atV4peer.next();
        assertArrayEquals(new byte[] {4}, got.bytes());
        // the IPv4 peer can answer the dual-stack socket, with TTL control too
        Endpoint v6AsSeenByV4 = new Endpoint("udp", "127.0.0.1", v6.localEndpoint().port(), "");
        assertTrue(v6.send(v6peer.localEndpoint(), ByteBuffer.wrap(new byte[] {7}), 3));
        assertArrayEquals(new byte[] {7}, atV6peer.next().bytes());
        assertTrue(v4peer.send(v6AsSeenByV4, ByteBuffer.wrap(new byte[] {5})));
        Inbox.Got reply = at6.next();
        assertArrayEquals(new byte[] {5}, reply.bytes());
        assertEquals("127.0.0.1", reply.source().host(), "IPv4-mapped sources are reported as plain IPv4");
    }

    private static boolean ipv6LoopbackAvailable() {
        try {
            NetworkInterface lo = NetworkInterface.getByInetAddress(InetAddress.getByName("::1"));
            return lo != null;
        } catch (Exception e) {
            return false;
        }
    }

    /**
     * A receive loop that fails by itself (here: its selector is closed underneath it, the way a
     * JVM-level failure would surface) moves the transport to STOPPED and reports once through
     * onTransportFailure; the transport can then be started again.
     */
    @Test
    void receiveFailureStopsTheTransportAndIsReportedOnce() throws Exception {
        Transport t = create("udp://127.0.0.1:0");
        BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
        t.start(new DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
            }

            @Override
            public void onTransportFailure(Throwable failure) {
                failures.add(failure);
            }
        });
        java.lang.reflect.Field runningField = UdpTransport.class.getDeclaredField("running");
        runningField.setAccessible(true);
        Object running = runningField.get(t);
        java.lang.reflect.Field selectorField = running.getClass().getDeclaredField("selector");
        selectorField.setAccessible(true);
        ((java.nio.channels.Selector) selectorField.get(running)).close();

        Throwable failure = failures.poll(WAIT.toMillis(), TimeUnit.MILLISECONDS);
        assertNotNull(failure, "onTransportFailure was not called");
        assertTrue(failure instanceof java.nio.channels.ClosedSelectorException, failure.toString());
        assertEquals(Transport.State.STOPPED, t.state());
        assertThrows(IllegalStateException.class, () -> t.send(Endpoint.parse("udp://127.0.0.1:9"), ByteBuffer.allocate(1)));
        t.start(new Inbox());
        assertEquals(Transport.State.STARTED, t.state());
        assertEquals(0, failures.size(), "reported exactly once");
    }

    /**
     * Batches through sendmmsg with segmentation: runs of equal-sized datagrams (last shorter),
     * datagrams too large to segment, and a batch larger than the native scratch area (several
     * calls) all arrive intact, in order, as separate datagrams.
     */
    @Test
    void batchesMixingSegmentableRunsAndLargeDatagramsArriveIntactAndInOrder() throws Exception {
        Transport a = create("udp://127.0.0.1:0");
        Transport b = create("udp://127.0.0.1:0");
        assumeTrue(a.capabilities().batchSend(), "batched sends need 64-bit Linux and JNA: " + BatchSend.unavailableReason());
        assertTrue(a.capabilities().receiveBursts());
        a.start(new Inbox());
        Inbox inbox = new Inbox();
        b.start(inbox);
        java.util.Random random = new java.util.Random(7);
        List<byte[]> sent = new ArrayList<>();
        int[] sizes = new int[140];
        for (int i = 0; i < sizes.length; i++) {
            // 1,200-byte runs broken by a short packet now and then, plus a few large ones
            sizes[i] = i % 37 == 36 ? 60_000 : i % 11 == 10 ? 90 : 1200;
        }
        ByteBuffer[] batch = new ByteBuffer[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            byte[] d = new byte[sizes[i]];
            random.nextBytes(d);
            d[0] = (byte) i;
            sent.add(d);
            batch[i] = i % 2 == 0 ? ByteBuffer.wrap(d) : ByteBuffer.allocateDirect(d.length).put(d).flip();
        }
        assertEquals(sizes.length, a.sendBatch(b.localEndpoint(), batch, 0, batch.length));
        for (ByteBuffer d : batch) {
            assertEquals(d.limit(), d.position());
        }
        for (int i = 0; i < sizes.length; i++) {
            assertArrayEquals(sent.get(i), inbox.next().bytes(), "datagram " + i + " of the batch (" + sizes[i] + " bytes)");
        }
        // On loopback a segmented run arrives as one coalesced read (UDP_GRO), cut up by the transport.
        long[] counts = ((UdpTransport) b).coalescedReceiveCounts();
        assertEquals(sizes.length, counts[1], "every datagram went through the coalescing receive path");
        assertTrue(counts[0] < counts[1], "some reads held several datagrams: " + counts[0] + " reads for " + counts[1]);
    }

    @Test
    void batchingOffDeclaresNeitherBatchCapability() {
        Transport t = create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).set(UdpOptions.BATCHING, false).build());
        assertFalse(t.capabilities().batchSend());
        assertFalse(t.capabilities().receiveBursts());
    }

    /** The provider lists udp.batching, so a Device can set it by name (the option mapper accepts only listed options). */
    @Test
    void theProviderListsTheBatchingOption() {
        assertTrue(new UdpTransportProvider().options().contains(UdpOptions.BATCHING));
    }
}
