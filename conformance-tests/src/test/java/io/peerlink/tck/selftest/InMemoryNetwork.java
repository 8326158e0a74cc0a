package io.peerlink.tck.selftest;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory datagram network for testing the TCK itself: transports of the scheme
 * {@code mem} deliver to each other through bounded queues, each with its own delivery thread.
 * With no {@link Flaw} the transport is correct and must pass every required rule; each flaw
 * breaks exactly one part of the SPI contract, the way real transports get it wrong.
 */
final class InMemoryNetwork {

    /** Deliberate defects. */
    enum Flaw {
        /** Uses {@code put} on the bounded inbox: send waits while the receiver does not read. */
        BLOCKS_IN_SEND,
        /** Forgets the size check: datagrams above maxDatagramSize are accepted. */
        ACCEPTS_OVERSIZED,
        /** Checks "not DESTROYED" instead of "STARTED": send after stop goes through. */
        SENDS_AFTER_STOP,
        /** Flips a bit in the middle of every datagram longer than 16 bytes. */
        CORRUPTS_BYTES,
        /** Queues a duplicate() of the caller's buffer and copies it on the delivery thread. */
        READS_CALLER_BUFFER_LATER,
        /** Lets a handler exception end the delivery thread. */
        DIES_ON_HANDLER_EXCEPTION,
        /** Calls the handler from two delivery threads. */
        CALLS_HANDLER_CONCURRENTLY,
        /** stop() only flips the state: the transport stays reachable and keeps delivering. */
        DELIVERS_AFTER_STOP,
        /** Sends the whole backing array, ignoring position, limit and arrayOffset. */
        IGNORES_POSITION_AND_LIMIT,
        /** Delivers every 50th datagram twice. */
        DUPLICATES_SOME,
        /** Parks datagrams that find the inbox full in an overflow list (send returns true) and delivers that list first, later. */
        REORDERS_AT_EDGE,
        /** send(remote, datagram, callback) calls completed() even when it returns false. */
        CALLS_BACK_ON_REFUSED,
        /** Reports an authenticated peer without declaring peerAuthentication. */
        CLAIMS_AUTHENTICATED_PEER
    }

    static final String SCHEME = "mem";
    static final int MAX_DATAGRAM = 2048;
    private static final int INBOX = 1024;

    private final Map<Integer, MemTransport> bound = new ConcurrentHashMap<>();
    private final AtomicInteger nextPort = new AtomicInteger(10_000);

    Transport create(Set<Flaw> flaws) {
        return new MemTransport(flaws.isEmpty() ? EnumSet.noneOf(Flaw.class) : EnumSet.copyOf(flaws));
    }

    /** A queued datagram: the copied bytes, or (flawed) a view of the caller's buffer. */
    private record Packet(Endpoint source, byte[] bytes, ByteBuffer callersBuffer) {
    }

    private final class MemTransport implements Transport {
        private final Set<Flaw> flaws;
        private final TransportCapabilities caps = TransportCapabilities.builder().reliable(true).ordered(true).maxDatagramSize(MAX_DATAGRAM).build();
        private final Object lock = new Object();
        private volatile State state = State.CREATED;
        private volatile Endpoint local;
        private volatile BlockingQueue<Packet> inbox;
        private final java.util.Queue<Packet> overflow = new java.util.concurrent.ConcurrentLinkedQueue<>();
        private volatile Thread[] workers;

        MemTransport(Set<Flaw> flaws) {
            this.flaws = flaws;
        }

        @Override
        public void start(DatagramHandler handler) throws IOException {
            Objects.requireNonNull(handler, "handler");
            synchronized (lock) {
                if (state == State.STARTED || state == State.DESTROYED) {
                    throw new IllegalStateException("cannot start while " + state);
                }
                int port = nextPort.getAndIncrement();
                BlockingQueue<Packet> queue = new ArrayBlockingQueue<>(INBOX);
                Thread[] threads = new Thread[flaws.contains(Flaw.CALLS_HANDLER_CONCURRENTLY) ? 2 : 1];
                for (int i = 0; i < threads.length; i++) {
                    threads[i] = new Thread(() -> deliver(queue, handler), "mem-rx-" + port + "-" + i);
                    threads[i].setDaemon(true);
                }
                inbox = queue;
                workers = threads;
                local = new Endpoint(SCHEME, "node", port, "");
                bound.put(port, this);
                state = State.STARTED;
                for (Thread t : threads) {
                    t.start();
                }
            }
        }

        private void deliver(BlockingQueue<Packet> queue, DatagramHandler handler) {
            ByteBuffer reused = ByteBuffer.allocate(MAX_DATAGRAM * 2);
            long delivered = 0;
            try {
                while (!Thread.currentThread().isInterrupted()) {
                    Packet p = ++delivered % 100 == 0 ? overflow.poll() : null;
                    if (p == null) {
                        p = queue.poll(100, TimeUnit.MILLISECONDS);
                    }
                    if (p == null) {
                        continue;
                    }
                    reused.clear();
                    if (p.callersBuffer != null) {
                        Thread.sleep(0, 50_000); // the flaw: read the caller's buffer later
                        reused.put(p.callersBuffer);
                    } else {
                        reused.put(p.bytes);
                    }
                    reused.flip();
                    if (Thread.currentThread().isInterrupted()) {
                        return;
                    }
                    try {
                        if (flaws.contains(Flaw.CLAIMS_AUTHENTICATED_PEER)) {
                            handler.onDatagram(p.source, reused, io.peerlink.spi.ReceiveContext.builder().authenticatedPeer("node").build());
                        } else {
                            handler.onDatagram(p.source, reused);
                        }
                        if (flaws.contains(Flaw.DUPLICATES_SOME) && delivered % 50 == 0) {
                            reused.rewind();
                            handler.onDatagram(p.source, reused);
                        }
                    } catch (RuntimeException e) {
                        if (flaws.contains(Flaw.DIES_ON_HANDLER_EXCEPTION)) {
                            throw e;
                        }
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        @Override
        public void stop() {
            synchronized (lock) {
                if (state != State.STARTED) {
                    return;
                }
                if (flaws.contains(Flaw.DELIVERS_AFTER_STOP)) {
                    state = State.STOPPED;
                    return;
                }
                shutdown(State.STOPPED);
            }
        }

        @Override
        public void destroy() {
            synchronized (lock) {
                if (state == State.STARTED || (state == State.STOPPED && flaws.contains(Flaw.DELIVERS_AFTER_STOP))) {
                    shutdown(State.DESTROYED);
                }
                state = State.DESTROYED;
            }
        }

        private void shutdown(State next) {
            bound.remove(local.port(), this);
            state = next;
            for (Thread t : workers) {
                t.interrupt();
            }
            for (Thread t : workers) {
                if (t != Thread.currentThread()) {
                    try {
                        t.join();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }

        @Override
        public State state() {
            return state;
        }

        @Override
        public Endpoint localEndpoint() {
            if (state != State.STARTED) {
                throw new IllegalStateException("no local endpoint while " + state);
            }
            return local;
        }

        @Override
        public TransportCapabilities capabilities() {
            return caps;
        }

        @Override
        public boolean supports(Endpoint remote) {
            Objects.requireNonNull(remote, "remote");
            return SCHEME.equals(remote.scheme()) && "node".equals(remote.host());
        }

        @Override
        public boolean send(Endpoint remote, ByteBuffer datagram) {
            Objects.requireNonNull(remote, "remote");
            Objects.requireNonNull(datagram, "datagram");
            boolean running = flaws.contains(Flaw.SENDS_AFTER_STOP) ? state != State.DESTROYED && local != null : state == State.STARTED;
            if (!running) {
                throw new IllegalStateException("cannot send while " + state);
            }
            if (datagram.remaining() > MAX_DATAGRAM && !flaws.contains(Flaw.ACCEPTS_OVERSIZED)) {
                throw new IllegalArgumentException("datagram too large: " + datagram.remaining());
            }
            if (!supports(remote)) {
                throw new IllegalArgumentException("unsupported endpoint " + remote);
            }
            Packet packet;
            if (flaws.contains(Flaw.READS_CALLER_BUFFER_LATER)) {
                packet = new Packet(local, null, datagram.duplicate());
            } else {
                byte[] copy;
                if (flaws.contains(Flaw.IGNORES_POSITION_AND_LIMIT)) {
                    copy = datagram.array().clone();
                } else {
                    copy = new byte[datagram.remaining()];
                    datagram.duplicate().get(copy);
                }
                if (flaws.contains(Flaw.CORRUPTS_BYTES) && copy.length > 16) {
                    copy[copy.length / 2] ^= 0x10;
                }
                packet = new Packet(local, copy, null);
            }
            datagram.position(datagram.limit());
            MemTransport target = bound.get(remote.port());
            if (target == null) {
                return true; // like UDP: nobody listening, the datagram is lost
            }
            BlockingQueue<Packet> queue = target.inbox;
            if (flaws.contains(Flaw.BLOCKS_IN_SEND)) {
                try {
                    queue.put(packet);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return false;
                }
                return true;
            }
            if (queue.offer(packet)) {
                return true;
            }
            if (flaws.contains(Flaw.REORDERS_AT_EDGE)) {
                target.overflow.add(packet);
                return true;
            }
            return false;
        }

        @Override
        public boolean send(Endpoint remote, ByteBuffer datagram, io.peerlink.spi.SendCallback callback) {
            Objects.requireNonNull(callback, "callback");
            boolean accepted = send(remote, datagram);
            if (accepted || flaws.contains(Flaw.CALLS_BACK_ON_REFUSED)) {
                callback.completed();
            }
            return accepted;
        }

        @Override
        public String toString() {
            return "MemTransport" + flaws + "[" + local + ", " + state + "]";
        }
    }
}
