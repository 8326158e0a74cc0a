package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.crypto.NoiseSuite;
import io.peerlink.core.internal.crypto.RekeyPolicy;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.udp.UdpOptions;
import io.peerlink.transport.udp.UdpTransportProvider;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two AEAD-sealed engines over the real UDP transport and the runtime's receive demultiplexer
 * ({@link LinkSocket}), with the transport's batching on (one {@code sendmmsg}/UDP_SEGMENT batch per
 * flush, one loop wake-up per received burst) and off: every message arrives once, in order,
 * byte-exact, across several key updates. Asserts behaviour only; throughput is the benchmarks'
 * business (docs/benchmarks.md, "Peers side by side").
 */
class BatchedUdpChannelTest {

    private static Transport udp(boolean batching) {
        return new UdpTransportProvider().create(TransportConfig.bind(Endpoint.udp(new InetSocketAddress("127.0.0.1", 0)))
                .set(UdpOptions.BATCHING, batching).build());
    }

    /** Counts what the engine hands to the transport in one call. */
    private static final class CountingPath implements DatagramPath {
        final TransportPath inner;
        final AtomicInteger largestBatch = new AtomicInteger();

        CountingPath(TransportPath inner) {
            this.inner = inner;
        }

        @Override
        public boolean send(ByteBuffer datagram) {
            return inner.send(datagram);
        }

        @Override
        public int maxDatagramSize() {
            return inner.maxDatagramSize();
        }

        @Override
        public boolean batches() {
            return inner.batches();
        }

        @Override
        public int sendBatch(ByteBuffer[] datagrams, int count) {
            largestBatch.accumulateAndGet(count, Math::max);
            return inner.sendBatch(datagrams, count);
        }
    }

    @ParameterizedTest(name = "batching {0}")
    @ValueSource(booleans = {true, false})
    void sealedMessagesArriveOnceInOrderAndIntactOverUdp(boolean batching) throws Exception {
        Transport ta = udp(batching);
        Transport tb = udp(batching);
        assertEquals(batching, ta.capabilities().receiveBursts());
        try (EventLoop loopA = new EventLoop("batched-a"); EventLoop loopB = new EventLoop("batched-b")) {
            LinkSocket sa = new LinkSocket(ta, loopA);
            LinkSocket sb = new LinkSocket(tb, loopB);
            sa.start();
            sb.start();
            try {
                byte[] s1 = new byte[32];
                byte[] s2 = new byte[32];
                new SecureRandom().nextBytes(s1);
                new SecureRandom().nextBytes(s2);
                long now = System.nanoTime();
                // A key update every 512 packets: the transfer crosses several generations.
                RekeyPolicy often = new RekeyPolicy(Duration.ofMinutes(2), 512, Duration.ofSeconds(10));
                PacketSealer sealA = new ProtectorSealer(SessionKeys.fromSecrets(NoiseSuite.AESGCM, s1, s2).newPacketProtector(often, now));
                PacketSealer sealB = new ProtectorSealer(SessionKeys.fromSecrets(NoiseSuite.AESGCM, s2, s1).newPacketProtector(often, now));
                CountingPath pathA = new CountingPath(new TransportPath(ta, sb.localEndpoint()));
                ChannelEngine a = new ChannelEngine(loopA, 11, 22, pathA, ChannelOptions.defaults(), sealA, ReceiveBudget.shared());
                ChannelEngine b = new ChannelEngine(loopB, 22, 11, new TransportPath(tb, sa.localEndpoint()), ChannelOptions.defaults(),
                        sealB, ReceiveBudget.shared());
                sa.register(11, (src, d) -> a.onDatagram(d));
                sb.register(22, (src, d) -> b.onDatagram(d));
                List<byte[]> received = new CopyOnWriteArrayList<>();
                b.onMessage((m, delivery) -> {
                    byte[] bytes = new byte[m.remaining()];
                    m.get(bytes);
                    received.add(bytes);
                });
                a.start();
                b.start();
                Random r = new Random(batching ? 1 : 2);
                List<byte[]> sent = new ArrayList<>();
                List<CompletableFuture<Void>> futures = new ArrayList<>();
                long total = 0;
                while (total < (12 << 20)) {
                    byte[] m = new byte[1 + r.nextInt(200_000)];
                    r.nextBytes(m);
                    sent.add(m);
                    total += m.length;
                    CompletableFuture<Void> f;
                    while (true) {
                        f = a.send(ByteBuffer.wrap(m)).toCompletableFuture();
                        if (!f.isCompletedExceptionally()) {
                            break;
                        }
                        a.whenWritable().toCompletableFuture().get(30, TimeUnit.SECONDS);
                    }
                    futures.add(f);
                }
                CompletableFuture.allOf(futures.toArray(new CompletableFuture<?>[0])).get(120, TimeUnit.SECONDS);
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                while (received.size() < sent.size() && System.nanoTime() < deadline) {
                    Thread.sleep(10);
                }
                assertEquals(sent.size(), received.size(), "messages delivered");
                for (int i = 0; i < sent.size(); i++) {
                    assertArrayEquals(sent.get(i), received.get(i), "message " + i);
                }
                if (batching && ta.capabilities().batchSend()) {
                    assertTrue(pathA.largestBatch.get() > 1, "the sender handed batches of several packets to the transport: "
                            + pathA.largestBatch.get());
                } else {
                    assertEquals(0, pathA.largestBatch.get(), "without batchSend the engine sends packet by packet");
                }
                assertTrue(a.isOpen() && b.isOpen());
                a.abort();
                b.abort();
            } finally {
                sa.close();
                sb.close();
            }
        }
    }
}
