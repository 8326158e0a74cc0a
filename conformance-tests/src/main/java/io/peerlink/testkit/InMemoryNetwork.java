package io.peerlink.testkit;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;

import java.nio.ByteBuffer;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * An in-process datagram network: {@link InMemoryTransport}s bound to {@code mem://local:<port>}
 * endpoints exchange datagrams through one bounded queue drained by one delivery thread, so
 * delivery is asynchronous and in send order, and a full queue drops datagrams like a full
 * socket buffer. A test fake for fast unit and property tests; features must still be proven
 * over real sockets.
 */
public final class InMemoryNetwork implements AutoCloseable {
    /** The scheme of in-memory endpoints. */
    public static final String SCHEME = "mem";

    private record Datagram(InMemoryTransport to, Endpoint from, byte[] bytes) {
    }

    private final ConcurrentHashMap<Endpoint, InMemoryTransport> bound = new ConcurrentHashMap<>();
    private final BlockingQueue<Datagram> queue;
    private final AtomicInteger nextPort = new AtomicInteger(1);
    private final AtomicLong delivered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong handlerFailures = new AtomicLong();
    private final Thread deliveryThread;
    private volatile boolean running = true;

    /** A network whose queue holds 8192 datagrams. */
    public InMemoryNetwork() {
        this(8192);
    }

    /** @param queueCapacity datagrams in transit before new ones are dropped */
    public InMemoryNetwork(int queueCapacity) {
        queue = new ArrayBlockingQueue<>(queueCapacity);
        deliveryThread = new Thread(this::deliver, "in-memory-network");
        deliveryThread.setDaemon(true);
        deliveryThread.start();
    }

    /**
     * @param maxDatagramSize largest datagram its send accepts
     * @return a new transport with its own endpoint (bound when started)
     */
    public InMemoryTransport newTransport(int maxDatagramSize) {
        return new InMemoryTransport(this, new Endpoint(SCHEME, "local", nextPort.getAndIncrement(), ""), maxDatagramSize);
    }

    /** @return a new transport carrying datagrams up to 65507 bytes */
    public InMemoryTransport newTransport() {
        return newTransport(65507);
    }

    void bind(InMemoryTransport t) {
        if (bound.putIfAbsent(t.endpoint(), t) != null) {
            throw new IllegalStateException("endpoint in use: " + t.endpoint());
        }
    }

    void unbind(InMemoryTransport t) {
        bound.remove(t.endpoint(), t);
    }

    boolean send(Endpoint from, Endpoint to, ByteBuffer datagram) {
        byte[] copy = new byte[datagram.remaining()];
        datagram.get(copy);
        InMemoryTransport target = bound.get(to);
        if (target == null) {
            // Like UDP to a closed port: silently gone.
            dropped.incrementAndGet();
            return true;
        }
        if (!queue.offer(new Datagram(target, from, copy))) {
            dropped.incrementAndGet();
            return false;
        }
        return true;
    }

    private void deliver() {
        while (running) {
            Datagram d;
            try {
                d = queue.poll(100, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (d == null) {
                continue;
            }
            DatagramHandler h = d.to.handler();
            if (h == null) {
                dropped.incrementAndGet();
                continue;
            }
            try {
                h.onDatagram(d.from, ByteBuffer.wrap(d.bytes).asReadOnlyBuffer());
                delivered.incrementAndGet();
            } catch (RuntimeException e) {
                // A faulty handler must not stop the network for everyone else; tests see the count.
                handlerFailures.incrementAndGet();
            }
        }
    }

    /** @return datagrams handed to a handler */
    public long delivered() {
        return delivered.get();
    }

    /** @return datagrams dropped (queue full, nobody bound, or no handler) */
    public long dropped() {
        return dropped.get();
    }

    /** @return handler calls that threw */
    public long handlerFailures() {
        return handlerFailures.get();
    }

    /** Stops the delivery thread; transports stop receiving. */
    @Override
    public void close() {
        running = false;
        deliveryThread.interrupt();
    }
}
