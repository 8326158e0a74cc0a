package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupFormatException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.udp.UdpTransportProvider;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

import javax.crypto.Mac;

/**
 * One device's worth of connectivity checking on a real UDP socket: an event loop, a
 * {@link LinkSocket}, a probe budget and the routing of set-up packets to checks by connection
 * ID, as the device runtime does. Plus raw sockets that play victims and attackers.
 */
final class CheckHarness implements AutoCloseable {
    final EventLoop loop = new EventLoop("check-harness");
    final LinkSocket socket;
    final ProbeBudget budget = new ProbeBudget(loop::nanoTime);
    private final Map<Long, ConnectivityCheck> checks = new ConcurrentHashMap<>();

    CheckHarness(TransportConfig config) throws IOException {
        socket = new LinkSocket(new UdpTransportProvider().create(config), loop);
        socket.onSetup((source, datagram) -> {
            try {
                SetupPacket.Probe p = SetupPacket.readProbe(datagram);
                ConnectivityCheck c = checks.get(p.destinationCid());
                if (c != null) {
                    c.onProbe(source, p);
                }
            } catch (SetupFormatException e) {
                // dropped, as the device does
            }
        });
        socket.start();
    }

    static CheckHarness loopback() throws IOException {
        return new CheckHarness(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
    }

    Endpoint endpoint() {
        return socket.localEndpoint();
    }

    /** Creates a check on the loop; it receives probes at once but starts probing only on {@link #start}. */
    ConnectivityCheck check(long localCid, long remoteCid, String secret, boolean initiator, List<Candidate> candidates,
                            PunchOptions options) {
        return CompletableFuture.supplyAsync(() -> {
            ConnectivityCheck c = new ConnectivityCheck(loop, socket, localCid, remoteCid, secret, initiator, candidates,
                    options, 2, budget);
            checks.put(localCid, c);
            return c;
        }, loop).join();
    }

    void start(ConnectivityCheck check) {
        loop.execute(() -> check.start(Duration.ZERO));
    }

    @Override
    public void close() {
        socket.close();
        loop.close();
    }

    /** What a raw socket does with a datagram. */
    @FunctionalInterface
    interface RawHandler {
        void onDatagram(Raw self, ByteBuffer datagram, Endpoint from) throws IOException;
    }

    /** A raw socket that counts what it receives and may answer through a callback. */
    static final class Raw implements AutoCloseable {
        final DatagramChannel channel;
        final AtomicInteger received = new AtomicInteger();
        final List<byte[]> datagrams = java.util.Collections.synchronizedList(new ArrayList<>());
        private final Thread thread;

        Raw(String host, RawHandler onDatagram) throws IOException {
            channel = DatagramChannel.open();
            channel.bind(new InetSocketAddress(InetAddress.getByName(host), 0));
            thread = new Thread(() -> {
                ByteBuffer b = ByteBuffer.allocate(2048);
                while (channel.isOpen()) {
                    try {
                        b.clear();
                        InetSocketAddress from = (InetSocketAddress) channel.receive(b);
                        b.flip();
                        byte[] copy = new byte[b.remaining()];
                        b.get(copy);
                        received.incrementAndGet();
                        datagrams.add(copy);
                        if (onDatagram != null) {
                            onDatagram.onDatagram(this, ByteBuffer.wrap(copy), Endpoint.udp(from));
                        }
                    } catch (IOException e) {
                        return;
                    }
                }
            }, "raw-" + host);
            thread.setDaemon(true);
            thread.start();
        }

        Endpoint endpoint() throws IOException {
            return Endpoint.udp((InetSocketAddress) channel.getLocalAddress());
        }

        void send(ByteBuffer datagram, Endpoint to) throws IOException {
            channel.send(datagram, to.toSocketAddress());
        }

        @Override
        public void close() throws IOException {
            channel.close();
        }
    }

    /** A PROBE as the holder of {@code key} would send it. */
    static ByteBuffer probe(long destinationCid, long txid, int flags, long sourceCid, Mac key) {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, destinationCid, txid, flags, sourceCid, key);
        return b.flip();
    }

    /** A PROBE_ACK as the holder of {@code key} would send it. */
    static ByteBuffer ack(long destinationCid, long txid, int flags, InetSocketAddress observed, Mac key) {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbeAck(b, destinationCid, txid, flags, observed, key);
        return b.flip();
    }
}
