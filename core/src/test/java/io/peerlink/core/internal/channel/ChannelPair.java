package io.peerlink.core.internal.channel;

import io.peerlink.ChannelOptions;
import io.peerlink.Delivery;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.testkit.ImpairedTransport;
import io.peerlink.testkit.Impairment;
import io.peerlink.testkit.InMemoryNetwork;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Two channel engines, each on its own event loop, connected through impaired in-memory
 * transports. Received datagrams are copied and handed to the owning loop, as the runtime does.
 */
final class ChannelPair implements AutoCloseable {
    final InMemoryNetwork network = new InMemoryNetwork();
    final EventLoop loopA = new EventLoop("channel-a");
    final EventLoop loopB = new EventLoop("channel-b");
    final ImpairedTransport transportA;
    final ImpairedTransport transportB;
    final ChannelEngine a;
    final ChannelEngine b;
    /** What b received, in delivery order. */
    final List<byte[]> receivedByB = new CopyOnWriteArrayList<>();
    final List<Delivery> deliveriesAtB = new CopyOnWriteArrayList<>();

    ChannelPair(ChannelOptions options, Impairment aToB, Impairment bToA, long seed) throws IOException {
        this(options, aToB, bToA, seed, true);
    }

    /** @param withReceiver false leaves b without a message handler until {@link #setReceiver()} */
    ChannelPair(ChannelOptions options, Impairment aToB, Impairment bToA, long seed, boolean withReceiver) throws IOException {
        this(options, aToB, bToA, seed, withReceiver, new Crc32cSealer(), new Crc32cSealer());
    }

    /** @param sealerA a's packet protection @param sealerB b's, talking to a's */
    ChannelPair(ChannelOptions options, Impairment aToB, Impairment bToA, long seed, boolean withReceiver,
                PacketSealer sealerA, PacketSealer sealerB) throws IOException {
        this(options, aToB, bToA, seed, withReceiver, sealerA, sealerB, java.util.function.UnaryOperator.identity());
    }

    /** @param wrapA wraps a's path (e.g. one that refuses sends, as a transport's back-pressure) */
    ChannelPair(ChannelOptions options, long seed, java.util.function.UnaryOperator<DatagramPath> wrapA) throws IOException {
        this(options, Impairment.NONE, Impairment.NONE, seed, true, new Crc32cSealer(), new Crc32cSealer(), wrapA);
    }

    private ChannelPair(ChannelOptions options, Impairment aToB, Impairment bToA, long seed, boolean withReceiver,
                        PacketSealer sealerA, PacketSealer sealerB, java.util.function.UnaryOperator<DatagramPath> wrapA)
            throws IOException {
        ChannelOptions optionsA = options;
        ChannelOptions optionsB = options;
        transportA = new ImpairedTransport(network.newTransport(), aToB, Impairment.NONE, seed);
        transportB = new ImpairedTransport(network.newTransport(), bToA, Impairment.NONE, seed * 31 + 7);
        ChannelEngine[] engines = new ChannelEngine[2];
        transportA.start((source, d) -> deliver(loopA, engines, 0, d));
        transportB.start((source, d) -> deliver(loopB, engines, 1, d));
        // Odd seeds run the engines' batched send path (one sendBatch per flush, through the SPI's
        // default per-datagram loop under the impairment), even seeds the immediate one.
        boolean batched = (seed & 1) == 1;
        a = new ChannelEngine(loopA, 1, 2, wrapA.apply(path(new TransportPath(transportA, transportB.localEndpoint()), batched)), optionsA,
                sealerA, ReceiveBudget.shared());
        b = new ChannelEngine(loopB, 2, 1, path(new TransportPath(transportB, transportA.localEndpoint()), batched), optionsB,
                sealerB, ReceiveBudget.shared());
        engines[0] = a;
        engines[1] = b;
        if (withReceiver) {
            setReceiver();
        }
        a.start();
        b.start();
    }

    /** Largest batch an engine of a batched pair handed to its path. */
    final java.util.concurrent.atomic.AtomicInteger largestBatch = new java.util.concurrent.atomic.AtomicInteger();

    private DatagramPath path(TransportPath p, boolean batched) {
        if (!batched) {
            return p;
        }
        return new DatagramPath() {
            @Override
            public boolean send(ByteBuffer datagram) {
                return p.send(datagram);
            }

            @Override
            public int maxDatagramSize() {
                return p.maxDatagramSize();
            }

            @Override
            public boolean batches() {
                return true;
            }

            @Override
            public int sendBatch(ByteBuffer[] datagrams, int count) {
                largestBatch.accumulateAndGet(count, Math::max);
                return DatagramPath.super.sendBatch(datagrams, count);
            }
        };
    }

    void setReceiver() {
        b.onMessage((m, delivery) -> {
            byte[] bytes = new byte[m.remaining()];
            m.get(bytes);
            receivedByB.add(bytes);
            deliveriesAtB.add(delivery);
        });
    }

    private static void deliver(EventLoop loop, ChannelEngine[] engines, int i, ByteBuffer d) {
        byte[] copy = new byte[d.remaining()];
        d.get(copy);
        loop.execute(() -> {
            ChannelEngine e = engines[i];
            if (e != null) {
                e.onDatagram(ByteBuffer.wrap(copy));
            }
        });
    }

    /** Runs a task on a's loop and waits for it (test thread only). */
    static <T> T onLoop(EventLoop loop, java.util.concurrent.Callable<T> task) throws Exception {
        java.util.concurrent.CompletableFuture<T> f = new java.util.concurrent.CompletableFuture<>();
        loop.execute(() -> {
            try {
                f.complete(task.call());
            } catch (Exception e) {
                f.completeExceptionally(e);
            }
        });
        return f.get(10, java.util.concurrent.TimeUnit.SECONDS);
    }

    @Override
    public void close() {
        a.abort();
        b.abort();
        transportA.destroy();
        transportB.destroy();
        loopA.close();
        loopB.close();
        network.close();
    }
}
