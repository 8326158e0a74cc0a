package io.peerlink.testkit;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Decorates any {@link Transport} with an {@link Impairment} per direction: loss, duplication,
 * reordering, delay, bit-flip corruption and a smaller MTU, drawn from one seeded
 * {@link Random} so a failing test can be replayed. Delayed datagrams are scheduled on a
 * private daemon thread (at most {@link #MAX_HELD} held at a time; beyond that they are dropped
 * like a full router queue). Impairments can be changed at any time.
 */
public final class ImpairedTransport implements Transport {
    /** Datagrams held for delay or reordering at once, per transport. */
    public static final int MAX_HELD = 65536;

    /** Counters of one direction. */
    public static final class Counters {
        final AtomicLong passed = new AtomicLong();
        final AtomicLong lost = new AtomicLong();
        final AtomicLong duplicated = new AtomicLong();
        final AtomicLong reordered = new AtomicLong();
        final AtomicLong corrupted = new AtomicLong();
        final AtomicLong oversize = new AtomicLong();

        /** @return datagrams handed on (duplicates included) */
        public long passed() { return passed.get(); }
        /** @return datagrams dropped by the loss rate or a full hold queue */
        public long lost() { return lost.get(); }
        /** @return extra copies made */
        public long duplicated() { return duplicated.get(); }
        /** @return datagrams held back to be overtaken */
        public long reordered() { return reordered.get(); }
        /** @return datagrams with a flipped bit */
        public long corrupted() { return corrupted.get(); }
        /** @return datagrams dropped for exceeding the MTU */
        public long oversize() { return oversize.get(); }

        @Override
        public String toString() {
            return "passed=" + passed + " lost=" + lost + " duplicated=" + duplicated + " reordered=" + reordered
                    + " corrupted=" + corrupted + " oversize=" + oversize;
        }
    }

    private final Transport delegate;
    private final Random random;
    private final ScheduledThreadPoolExecutor scheduler;
    private final AtomicLong held = new AtomicLong();
    private volatile Impairment outbound;
    private volatile Impairment inbound;
    private final Counters outCounters = new Counters();
    private final Counters inCounters = new Counters();

    /**
     * @param delegate the real transport
     * @param outbound impairment of datagrams sent
     * @param inbound impairment of datagrams received
     * @param seed seed of the random source
     */
    public ImpairedTransport(Transport delegate, Impairment outbound, Impairment inbound, long seed) {
        this.delegate = Objects.requireNonNull(delegate, "delegate");
        this.outbound = Objects.requireNonNull(outbound, "outbound");
        this.inbound = Objects.requireNonNull(inbound, "inbound");
        this.random = new Random(seed);
        this.scheduler = new ScheduledThreadPoolExecutor(1, r -> {
            Thread t = new Thread(r, "impaired-transport");
            t.setDaemon(true);
            return t;
        });
    }

    /** @param impairment new impairment of sent datagrams */
    public void outbound(Impairment impairment) {
        this.outbound = Objects.requireNonNull(impairment, "impairment");
    }

    /** @param impairment new impairment of received datagrams */
    public void inbound(Impairment impairment) {
        this.inbound = Objects.requireNonNull(impairment, "impairment");
    }

    /** @return counters of sent datagrams */
    public Counters outboundCounters() {
        return outCounters;
    }

    /** @return counters of received datagrams */
    public Counters inboundCounters() {
        return inCounters;
    }

    /** @return the decorated transport */
    public Transport delegate() {
        return delegate;
    }

    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        delegate.start(new DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
                impair(inbound, inCounters, datagram, bytes -> handler.onDatagram(source, ByteBuffer.wrap(bytes)));
            }

            @Override
            public void onTransportFailure(Throwable failure) {
                handler.onTransportFailure(failure);
            }
        });
    }

    @Override
    public void stop() {
        delegate.stop();
    }

    @Override
    public void destroy() {
        scheduler.shutdownNow();
        delegate.destroy();
    }

    @Override
    public State state() {
        return delegate.state();
    }

    @Override
    public Endpoint localEndpoint() {
        return delegate.localEndpoint();
    }

    /**
     * The delegate's capabilities, except {@code receiveBursts} (impaired datagrams may be delivered
     * late, from another thread, after the delegate's burst ended) and {@code batchSend} (each
     * datagram of a batch is impaired on its own through {@link #send}).
     */
    @Override
    public TransportCapabilities capabilities() {
        TransportCapabilities c = capabilities;
        if (c == null) {
            c = delegate.capabilities();
            if (c.receiveBursts() || c.batchSend()) {
                c = TransportCapabilities.builder().reliable(c.reliable()).ordered(c.ordered())
                        .maxDatagramSize(c.maxDatagramSize()).ttlControl(c.ttlControl()).sendCompletion(c.sendCompletion())
                        .peerAuthentication(c.peerAuthentication()).relayed(c.relayed()).build();
            }
            capabilities = c;
        }
        return c;
    }

    /** Computed once (a transport's capabilities are constant); a racy double computation is harmless. */
    private volatile TransportCapabilities capabilities;

    @Override
    public boolean supports(Endpoint remote) {
        return delegate.supports(remote);
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        if (datagram.remaining() > delegate.capabilities().maxDatagramSize()) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds "
                    + delegate.capabilities().maxDatagramSize());
        }
        if (delegate.state() != State.STARTED) {
            throw new IllegalStateException("not started: " + delegate.state());
        }
        impair(outbound, outCounters, datagram, bytes -> {
            try {
                delegate.send(remote, ByteBuffer.wrap(bytes));
            } catch (IllegalStateException e) {
                // Stopped while the datagram was held: it is lost, as on a real network.
            }
        });
        return true;
    }

    private void impair(Impairment im, Counters c, ByteBuffer datagram, Consumer<byte[]> deliver) {
        byte[] bytes = new byte[datagram.remaining()];
        datagram.get(bytes);
        if (im.mtu() > 0 && bytes.length > im.mtu()) {
            c.oversize.incrementAndGet();
            return;
        }
        boolean lose;
        boolean duplicate;
        boolean reorder;
        int flipBit = -1;
        synchronized (random) {
            lose = random.nextDouble() < im.loss();
            duplicate = random.nextDouble() < im.duplication();
            reorder = random.nextDouble() < im.reordering();
            if (random.nextDouble() < im.corruption() && bytes.length > 0) {
                flipBit = random.nextInt(bytes.length * 8);
            }
        }
        if (lose) {
            c.lost.incrementAndGet();
            return;
        }
        if (flipBit >= 0) {
            bytes[flipBit >>> 3] ^= (byte) (1 << (flipBit & 7));
            c.corrupted.incrementAndGet();
        }
        long delay = im.delay().toNanos();
        if (reorder) {
            c.reordered.incrementAndGet();
            handOn(bytes, delay + im.reorderDelay().toNanos(), c, deliver);
        } else {
            handOn(bytes, delay, c, deliver);
        }
        if (duplicate) {
            c.duplicated.incrementAndGet();
            handOn(bytes.clone(), delay, c, deliver);
        }
    }

    private void handOn(byte[] bytes, long delayNanos, Counters c, Consumer<byte[]> deliver) {
        if (delayNanos <= 0) {
            c.passed.incrementAndGet();
            deliver.accept(bytes);
            return;
        }
        if (held.incrementAndGet() > MAX_HELD) {
            held.decrementAndGet();
            c.lost.incrementAndGet();
            return;
        }
        try {
            scheduler.schedule(() -> {
                held.decrementAndGet();
                c.passed.incrementAndGet();
                deliver.accept(bytes);
            }, delayNanos, TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            held.decrementAndGet();
            c.lost.incrementAndGet();
        }
    }

    @Override
    public String toString() {
        return "ImpairedTransport[" + delegate + ", out " + outbound + ", in " + inbound + "]";
    }
}
