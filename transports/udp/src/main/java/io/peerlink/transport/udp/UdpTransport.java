package io.peerlink.transport.udp;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PortUnreachableException;
import java.net.ProtocolFamily;
import java.net.SocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.Objects;
import java.util.concurrent.locks.StampedLock;
import java.util.function.Consumer;

/**
 * A {@link Transport} over one non-blocking {@link DatagramChannel}.
 *
 * <p>Threading: one daemon receive thread per started transport waits in a {@link Selector} and
 * drains the socket into one reused direct buffer. Sends run on the caller's thread; they take
 * the read side of {@link #sendLock}, while a TTL send takes the write side so that no ordinary
 * datagram can leave while the socket's TTL is lowered, and {@code stop} takes it so that no
 * send ever uses a file descriptor number after the socket was closed (and possibly reused).
 */
final class UdpTransport implements Transport {

    /** Largest UDP payload over IPv4 (65535 - 20 IP - 8 UDP); also enough for IPv6 peers. */
    static final int MAX_DATAGRAM_SIZE = 65_507;

    private static final System.Logger LOG = System.getLogger(UdpTransport.class.getName());
    /** A whole IPv6 datagram fits too, so nothing is ever truncated on receive. */
    private static final int RECEIVE_BUFFER_CAPACITY = 65_536;
    /** Datagrams delivered in a row before {@link DatagramHandler#onBurstEnd()}, so a flood cannot defer it forever. */
    static final int MAX_BURST = 64;

    private final Endpoint bind;
    private final InetSocketAddress bindAddress;
    private final boolean ipv6Socket;
    private final int receiveBufferSize;
    private final int sendBufferSize;
    private final boolean reuseAddress;
    private final SocketTtl ttl;
    /** Finds the socket's descriptor (TTL control and batched sends need it); null if neither is wanted or possible. */
    private final SocketTtl descriptors;
    private final BatchSend batch;
    private final boolean receiveBursts;
    private final TransportCapabilities capabilities;
    private final DestinationCache destinations = new DestinationCache();

    private final Object lifecycle = new Object();
    private final StampedLock sendLock = new StampedLock();
    private volatile State state = State.CREATED;
    /** Non-null exactly while STARTED. */
    private volatile Running running;

    UdpTransport(Endpoint bind, InetAddress bindAddress, int receiveBufferSize, int sendBufferSize,
                 boolean reuseAddress, boolean ttlControlWanted, boolean batching) {
        this.bind = bind;
        this.bindAddress = new InetSocketAddress(bindAddress, bind.port());
        this.ipv6Socket = bindAddress instanceof Inet6Address;
        this.receiveBufferSize = receiveBufferSize;
        this.sendBufferSize = sendBufferSize;
        this.reuseAddress = reuseAddress;
        this.ttl = ttlControlWanted ? SocketTtl.instance() : null;
        BatchSend b = batching ? BatchSend.instance() : null;
        this.descriptors = ttl != null ? ttl : b != null ? SocketTtl.instance() : null;
        this.batch = descriptors != null ? b : null;
        this.receiveBursts = batching;
        this.capabilities = TransportCapabilities.builder().maxDatagramSize(MAX_DATAGRAM_SIZE).ttlControl(ttl != null)
                .batchSend(batch != null).receiveBursts(receiveBursts).build();
    }

    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        synchronized (lifecycle) {
            if (state == State.STARTED || state == State.DESTROYED) {
                throw new IllegalStateException("cannot start a UDP transport that is " + state);
            }
            ProtocolFamily family = ipv6Socket ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
            DatagramChannel channel = DatagramChannel.open(family);
            Selector selector = null;
            try {
                channel.setOption(StandardSocketOptions.SO_RCVBUF, receiveBufferSize);
                channel.setOption(StandardSocketOptions.SO_SNDBUF, sendBufferSize);
                channel.setOption(StandardSocketOptions.SO_REUSEADDR, reuseAddress);
                channel.bind(bindAddress);
                channel.configureBlocking(false);
                selector = Selector.open();
                channel.register(selector, SelectionKey.OP_READ);
                Running r = new Running(handler, channel, selector);
                running = r;
                state = State.STARTED;
                r.thread.start();
            } catch (IOException | RuntimeException e) {
                closeQuietly(selector);
                closeQuietly(channel);
                throw e;
            }
        }
    }

    @Override
    public void stop() {
        Running r;
        synchronized (lifecycle) {
            if (state != State.STARTED) {
                return;
            }
            r = detach(State.STOPPED);
        }
        r.awaitReceiveThread();
    }

    @Override
    public void destroy() {
        Running r = null;
        synchronized (lifecycle) {
            if (state == State.DESTROYED) {
                return;
            }
            if (state == State.STARTED) {
                r = detach(State.DESTROYED);
            }
            state = State.DESTROYED;
        }
        if (r != null) {
            r.awaitReceiveThread();
        }
    }

    /** Under {@link #lifecycle}: leaves STARTED and closes the socket. */
    private Running detach(State next) {
        Running r = running;
        running = null;
        state = next;
        long stamp = sendLock.writeLock();
        try {
            r.close();
        } finally {
            sendLock.unlockWrite(stamp);
        }
        return r;
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("UDP transport has no local endpoint while " + state);
        }
        return r.local;
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        Objects.requireNonNull(remote, "remote");
        return destinations.resolve(remote) != null;
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Running r = checkSend(remote, datagram);
        InetSocketAddress to = destination(remote);
        long stamp = sendLock.readLock();
        try {
            return r.send(datagram, to);
        } finally {
            sendLock.unlockRead(stamp);
        }
    }

    @Override
    public int sendBatch(Endpoint remote, ByteBuffer[] datagrams, int offset, int count) {
        Transport.checkBatch(remote, datagrams, offset, count, MAX_DATAGRAM_SIZE);
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send on a UDP transport that is " + state);
        }
        InetSocketAddress to = destination(remote);
        long stamp = sendLock.readLock();
        try {
            if (r.batchState != null && !r.closing) {
                return batch.send(r.fd, r.batchState, ipv6Socket, to, datagrams, offset, count, r.local);
            }
            int sent = 0;
            for (int i = offset; i < offset + count; i++) {
                if (r.send(datagrams[i], to)) {
                    sent++;
                }
            }
            return sent;
        } finally {
            sendLock.unlockRead(stamp);
        }
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram, int ttl) {
        if (this.ttl == null) {
            throw new UnsupportedOperationException("this UDP transport has no TTL control: "
                    + (SocketTtl.unavailableReason() != null ? SocketTtl.unavailableReason() : "disabled by " + UdpOptions.TTL_CONTROL.name()));
        }
        Running r = checkSend(remote, datagram);
        if (ttl < 1 || ttl > 255) {
            throw new IllegalArgumentException("ttl must be 1..255: " + ttl);
        }
        InetSocketAddress to = destination(remote);
        long stamp = sendLock.writeLock();
        try {
            return r.sendWithTtl(datagram, to, ttl);
        } finally {
            sendLock.unlockWrite(stamp);
        }
    }

    private Running checkSend(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send on a UDP transport that is " + state);
        }
        if (datagram.remaining() > MAX_DATAGRAM_SIZE) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds the UDP maximum of " + MAX_DATAGRAM_SIZE);
        }
        return r;
    }

    private InetSocketAddress destination(Endpoint remote) {
        InetSocketAddress to = destinations.resolve(remote);
        if (to == null) {
            throw new IllegalArgumentException("UDP transport bound to " + bind + " cannot send to " + remote
                    + " (needs udp://<IP literal of its address family>:<port 1..65535> without a path)");
        }
        return to;
    }

    /** @return {reads, datagrams} of the coalescing receive path while STARTED, zeros without it (tests) */
    long[] coalescedReceiveCounts() {
        Running r = running;
        return r == null ? new long[2] : new long[] {r.coalescedReads, r.coalescedDatagrams};
    }

    @Override
    public String toString() {
        Running r = running;
        return "UdpTransport[" + (r != null ? r.local : bind) + ", " + state + "]";
    }

    private static void closeQuietly(AutoCloseable c) {
        if (c != null) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.log(System.Logger.Level.DEBUG, "closing " + c, e);
            }
        }
    }

    /**
     * Endpoint to socket address, cached in a small direct-mapped table so the hot send path
     * neither parses text nor allocates. Entries are immutable records, so a racy read sees
     * either a complete entry or another one (final-field semantics); no locking needed.
     */
    private final class DestinationCache {
        private record Entry(Endpoint endpoint, InetSocketAddress address) {
        }

        private final Entry[] table = new Entry[256];

        /** @return the socket address, or null if this transport cannot send there */
        InetSocketAddress resolve(Endpoint remote) {
            int slot = spread(remote.hashCode()) & (table.length - 1);
            Entry e = table[slot];
            if (e != null && e.endpoint.equals(remote)) {
                return e.address;
            }
            if (!UdpTransportProvider.SCHEME.equals(remote.scheme()) || !remote.path().isEmpty()
                    || remote.port() == 0) {
                return null;
            }
            InetAddress address = IpLiteral.parse(remote.host());
            if (address == null || (address instanceof Inet6Address && !ipv6Socket)) {
                return null;
            }
            InetSocketAddress resolved = new InetSocketAddress(address, remote.port());
            table[slot] = new Entry(remote, resolved);
            return resolved;
        }
    }

    private static int spread(int h) {
        return h ^ (h >>> 16);
    }

    /** The socket, selector and receive thread of one STARTED period. */
    private final class Running implements Runnable {
        final DatagramHandler handler;
        final DatagramChannel channel;
        final Selector selector;
        final Endpoint local;
        final Thread thread;
        /** -1 without TTL control. */
        final int fd;
        /** Why this socket has no TTL control although the JVM has it; null when it has. */
        final String ttlUnavailable;
        /** Non-null when batches go out through {@link BatchSend} on {@link #fd}. */
        final BatchSend.SocketState batchState;
        final int defaultIpv4Ttl;
        final int defaultIpv6Hops;
        private volatile boolean closing;
        private boolean sendFailureLogged;

        // Receive-thread-only source cache: the JDK hands back the same InetSocketAddress for
        // repeated senders, so identity usually hits; equals covers the rest.
        private final InetSocketAddress[] sourceKeys = new InetSocketAddress[64];
        private final Endpoint[] sourceValues = new Endpoint[64];
        private long handlerFailures;
        /** recvmsg reads with UDP_GRO on, and the datagrams they held (tests read them). */
        volatile long coalescedReads;
        volatile long coalescedDatagrams;
        /** Allocated once; draining happens after select returns, so the key is not needed. */
        private final Consumer<SelectionKey> ignoreKey = key -> { };

        Running(DatagramHandler handler, DatagramChannel channel, Selector selector) throws IOException {
            this.handler = handler;
            this.channel = channel;
            this.selector = selector;
            this.local = Endpoint.udp((InetSocketAddress) channel.getLocalAddress());
            int found = -1;
            String problem = null;
            if (descriptors != null) {
                try {
                    found = descriptors.fd(channel, ipv6Socket);
                } catch (IOException | RuntimeException e) {
                    // Ordinary traffic does not need the descriptor: keep the socket, and let
                    // every TTL send fail with this reason instead of leaving with the default TTL.
                    problem = "cannot find the socket's file descriptor: " + e.getMessage();
                    LOG.log(System.Logger.Level.WARNING, "UDP " + local + ": no TTL control and no batched sends, " + problem);
                }
            }
            fd = found;
            ttlUnavailable = problem;
            if (found >= 0 && ttl != null) {
                // Restore exactly what the socket had, whatever the system default is.
                defaultIpv4Ttl = ttl.getIpv4(found);
                defaultIpv6Hops = ipv6Socket ? ttl.get(found, true) : -1;
            } else {
                defaultIpv4Ttl = -1;
                defaultIpv6Hops = -1;
            }
            batchState = found >= 0 && batch != null ? new BatchSend.SocketState(batch.segmentationSupported(found)) : null;
            this.thread = new Thread(this, "peerlink-udp-rx-" + local);
            thread.setDaemon(true);
        }

        /** Caller holds a send lock (read or write). */
        boolean send(ByteBuffer datagram, InetSocketAddress to) {
            int length = datagram.remaining();
            int limit = datagram.limit();
            try {
                int sent = channel.send(datagram, to);
                return sent == length;
            } catch (ClosedChannelException e) {
                throw new IllegalStateException("UDP transport was stopped during send", e);
            } catch (IOException e) {
                // Unreliable transport: an unroutable or filtered datagram is a lost datagram,
                // recovered by the ARQ above; report it once so a misconfiguration is visible.
                if (!sendFailureLogged) {
                    sendFailureLogged = true;
                    LOG.log(System.Logger.Level.WARNING, "UDP send from " + local + " to " + to + " failed (further failures logged at DEBUG)", e);
                } else {
                    LOG.log(System.Logger.Level.DEBUG, "UDP send from " + local + " to " + to + " failed", e);
                }
                return false;
            } finally {
                datagram.position(limit);
            }
        }

        /** Caller holds the write side of the send lock, so no other datagram leaves meanwhile. */
        boolean sendWithTtl(ByteBuffer datagram, InetSocketAddress to, int ttlValue) {
            if (closing) {
                throw new IllegalStateException("UDP transport was stopped during send");
            }
            if (fd < 0 || ttl == null) {
                throw new UnsupportedOperationException("this UDP transport has no TTL control: " + ttlUnavailable);
            }
            try {
                ttl.set(fd, ipv6Socket, ttlValue, ttlValue);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "setsockopt(IP_TTL=" + ttlValue + ") failed on " + local + "; datagram dropped", e);
                datagram.position(datagram.limit());
                return false;
            }
            try {
                return send(datagram, to);
            } finally {
                restoreTtl();
            }
        }

        private void restoreTtl() {
            try {
                ttl.set(fd, ipv6Socket, defaultIpv4Ttl, defaultIpv6Hops);
            } catch (RuntimeException e) {
                // Every later datagram would leave with the low TTL: better to fail loudly.
                LOG.log(System.Logger.Level.ERROR, "cannot restore the default TTL on " + local + "; stopping the transport", e);
                Thread failer = new Thread(() -> failed(e), "peerlink-udp-ttl-failure");
                failer.setDaemon(true);
                failer.start();
            }
        }

        @Override
        public void run() {
            ByteBuffer buffer = ByteBuffer.allocateDirect(RECEIVE_BUFFER_CAPACITY);
            // Coalesced receives only with batching on and a working native binding (as for sends).
            BatchReceive coalesced = null;
            if (batchState != null) {
                long stamp = sendLock.readLock();
                try {
                    if (!closing) {
                        coalesced = BatchReceive.enable(fd, buffer, local);
                    }
                } finally {
                    sendLock.unlockRead(stamp);
                }
            }
            try {
                while (!closing) {
                    // select(Consumer) instead of selectedKeys(): adding to the selected-key
                    // HashSet allocates a node per wakeup, i.e. nearly per datagram.
                    selector.select(ignoreKey);
                    if (closing) {
                        break;
                    }
                    if (coalesced != null) {
                        drainCoalesced(buffer, coalesced);
                    } else {
                        drain(buffer);
                    }
                }
            } catch (IOException | RuntimeException e) {
                if (!closing) {
                    failed(e);
                }
            }
        }

        private void drain(ByteBuffer buffer) throws IOException {
            int burst = 0;
            while (!closing) {
                if (burst == MAX_BURST) {
                    endBurst();
                    burst = 0;
                }
                buffer.clear();
                SocketAddress from;
                try {
                    from = channel.receive(buffer);
                } catch (PortUnreachableException e) {
                    continue; // an ICMP error for an earlier send, not a failure of this socket
                }
                if (from == null) {
                    if (burst > 0) {
                        endBurst();
                    }
                    return;
                }
                burst++;
                buffer.flip();
                Endpoint source = source((InetSocketAddress) from);
                try {
                    handler.onDatagram(source, buffer);
                } catch (Throwable t) {
                    if (t instanceof VirtualMachineError vme) {
                        throw vme;
                    }
                    // A handler bug must not silence the transport for everyone else.
                    handlerFailures++;
                    LOG.log(handlerFailures == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                            "DatagramHandler threw on a datagram from " + source + " (failure #" + handlerFailures + ")", t);
                }
            }
        }

        /**
         * As {@link #drain}, reading with {@code recvmsg} on the descriptor (UDP_GRO on): a read may
         * hold several datagrams of one size, which are delivered one by one. The read holds the
         * read side of the send lock, so the descriptor cannot be closed (and reused) under it.
         */
        private void drainCoalesced(ByteBuffer buffer, BatchReceive rx) throws IOException {
            int burst = 0;
            while (true) {
                int n;
                InetSocketAddress from;
                long stamp = sendLock.readLock();
                try {
                    if (closing) {
                        return;
                    }
                    n = rx.receive();
                    from = n >= 0 ? rx.source() : null;
                } finally {
                    sendLock.unlockRead(stamp);
                }
                if (n < 0) {
                    if (burst > 0) {
                        endBurst();
                    }
                    return;
                }
                Endpoint source = source(from);
                coalescedReads++;
                int segment = rx.segmentSize() > 0 ? rx.segmentSize() : Math.max(n, 1);
                int offset = 0;
                do {
                    if (burst == MAX_BURST) {
                        endBurst();
                        burst = 0;
                    }
                    int length = Math.min(segment, n - offset);
                    buffer.limit(offset + length).position(offset);
                    deliver(source, buffer);
                    coalescedDatagrams++;
                    burst++;
                    offset += length;
                } while (offset < n && !closing);
            }
        }

        private void deliver(Endpoint source, ByteBuffer datagram) {
            try {
                handler.onDatagram(source, datagram);
            } catch (Throwable t) {
                if (t instanceof VirtualMachineError vme) {
                    throw vme;
                }
                handlerFailures++;
                LOG.log(handlerFailures == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        "DatagramHandler threw on a datagram from " + source + " (failure #" + handlerFailures + ")", t);
            }
        }

        /** Tells a handler that wants it (receiveBursts) that the datagrams at hand were delivered. */
        private void endBurst() {
            if (!receiveBursts) {
                return;
            }
            try {
                handler.onBurstEnd();
            } catch (Throwable t) {
                if (t instanceof VirtualMachineError vme) {
                    throw vme;
                }
                handlerFailures++;
                LOG.log(handlerFailures == 1 ? System.Logger.Level.WARNING : System.Logger.Level.DEBUG,
                        "DatagramHandler.onBurstEnd threw (failure #" + handlerFailures + ")", t);
            }
        }

        private Endpoint source(InetSocketAddress from) {
            int slot = spread(from.hashCode()) & (sourceKeys.length - 1);
            InetSocketAddress key = sourceKeys[slot];
            if (key == from || from.equals(key)) {
                return sourceValues[slot];
            }
            Endpoint endpoint = Endpoint.udp(from);
            sourceKeys[slot] = from;
            sourceValues[slot] = endpoint;
            return endpoint;
        }

        /** The socket failed underneath us: STOPPED on our own, then tell the handler. */
        private void failed(Throwable failure) {
            boolean reported = false;
            synchronized (lifecycle) {
                if (running == this && state == State.STARTED) {
                    detach(State.STOPPED);
                    reported = true;
                }
            }
            if (reported) {
                LOG.log(System.Logger.Level.WARNING, "UDP transport " + local + " failed and stopped", failure);
                handler.onTransportFailure(failure);
            }
        }

        /** Caller holds the lifecycle lock and the write side of the send lock. */
        void close() {
            closing = true;
            // Close the selector first: a channel still registered with it keeps its port bound.
            closeQuietly(selector);
            closeQuietly(channel);
        }

        void awaitReceiveThread() {
            if (Thread.currentThread() == thread) {
                return; // stop() called from the handler: the loop exits when the handler returns
            }
            boolean interrupted = false;
            while (thread.isAlive()) {
                try {
                    thread.join();
                } catch (InterruptedException e) {
                    interrupted = true;
                }
            }
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
