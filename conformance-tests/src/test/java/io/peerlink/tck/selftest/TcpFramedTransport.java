package io.peerlink.tck.selftest;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.SendCallback;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import java.io.EOFException;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A length-prefixed, stream-framed datagram transport over loopback TCP ({@code tcpf://}), the
 * kind of plug-in a third party writes, with switches for the bugs such plug-ins shipped with.
 * Without flaws it is correct, reliable and ordered. Wire: the connecting side first sends
 * {@code 'P' 'L' port:u16} (where it listens, so the receiver can name the source), then frames
 * {@code length:int32 bytes}.
 */
final class TcpFramedTransport implements Transport {

    /** Bugs that real stream-framed transports had. */
    enum Flaw {
        /** Two connections per destination, the less busy one chosen per send: reorders under load. */
        REORDERS_UNDER_LOAD,
        /** The writer silently skips one frame in 997 while reporting it sent. */
        DROPS_A_FRACTION,
        /** A full send queue drops the frame but send returns true. */
        ACCEPTS_WHEN_FULL,
        /** The decoder parses whole frames out of each read and throws away the rest of the read. */
        ASSUMES_WHOLE_FRAMES_PER_READ,
        /** Declares itself unreliable and unordered (so the suite tolerates loss). */
        DECLARES_UNRELIABLE,
        /** stop() forgets to close the listening socket. */
        LEAKS_LISTENER_ON_STOP,
        /** stop() forgets to close accepted and outgoing connections (and their threads stay blocked). */
        LEAKS_CONNECTIONS_ON_STOP,
        /** The accept thread treats "listener closed" as transient and keeps retrying. */
        LEAVES_RECEIVE_THREAD_RUNNING,
        /** The decoder allocates whatever length the header says; its exceptions reach the transport's catch-all. */
        UNBOUNDED_DECODER,
        /** A listening socket that dies ends the accept loop without telling anyone. */
        SILENT_SOCKET_DEATH,
        /** stop() discards queued frames without failing their callbacks. */
        FORGETS_CALLBACKS_ON_STOP,
        /** Declares receiveBursts but never calls onBurstEnd. */
        FORGETS_BURST_END
    }

    static final String SCHEME = "tcpf";
    static final int MAX_DATAGRAM = 65_536;
    private static final int QUEUE_FRAMES = 1024;
    private static final SendCallback NO_CALLBACK = new SendCallback() {
        @Override
        public void completed() {
        }

        @Override
        public void failed(Throwable cause) {
        }
    };

    private final Endpoint bind;
    private final Set<Flaw> flaws;
    private final TransportCapabilities capabilities;
    private final Object lifecycle = new Object();
    private volatile State state = State.CREATED;
    private volatile Running running;

    TcpFramedTransport(Endpoint bind, Set<Flaw> flaws) {
        if (!SCHEME.equals(bind.scheme())) {
            throw new IllegalArgumentException("not a " + SCHEME + " endpoint: " + bind);
        }
        this.bind = bind;
        this.flaws = flaws.isEmpty() ? EnumSet.noneOf(Flaw.class) : EnumSet.copyOf(flaws);
        boolean reliable = !this.flaws.contains(Flaw.DECLARES_UNRELIABLE);
        // Each read's frames are a burst: onBurstEnd follows them before the next read.
        this.capabilities = TransportCapabilities.builder().reliable(reliable).ordered(reliable).maxDatagramSize(MAX_DATAGRAM)
                .receiveBursts(true).build();
    }

    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        synchronized (lifecycle) {
            if (state == State.STARTED || state == State.DESTROYED) {
                throw new IllegalStateException("cannot start while " + state);
            }
            ServerSocketChannel server = ServerSocketChannel.open();
            try {
                // TIME_WAIT of the previous listener must not block a restart on the same port.
                server.setOption(StandardSocketOptions.SO_REUSEADDR, true);
                server.bind(new InetSocketAddress(InetAddress.getByName(bind.host()), bind.port()));
            } catch (IOException | RuntimeException e) {
                server.close();
                throw e;
            }
            Running r = new Running(handler, server);
            running = r;
            state = State.STARTED;
            r.acceptor.start();
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
        r.awaitThreads();
    }

    @Override
    public void destroy() {
        Running r = null;
        synchronized (lifecycle) {
            if (state == State.STARTED) {
                r = detach(State.DESTROYED);
            }
            state = State.DESTROYED;
        }
        if (r != null) {
            r.awaitThreads();
        }
    }

    private Running detach(State next) {
        Running r = running;
        running = null;
        state = next;
        r.close();
        return r;
    }

    /** Test hook for the failure rule: the listening socket dies as if closed by someone else. */
    void closeListenerUnderneath() throws IOException {
        Running r = running;
        if (r != null) {
            r.server.close();
        }
    }

    @Override
    public State state() {
        return state;
    }

    @Override
    public Endpoint localEndpoint() {
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("no local endpoint while " + state);
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
        return SCHEME.equals(remote.scheme()) && remote.path().isEmpty() && remote.port() > 0
                && remote.host().matches("\\d{1,3}(\\.\\d{1,3}){3}");
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        return send(remote, datagram, NO_CALLBACK);
    }

    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram, SendCallback callback) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Objects.requireNonNull(callback, "callback");
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send while " + state);
        }
        int length = datagram.remaining();
        if (length > MAX_DATAGRAM) {
            throw new IllegalArgumentException("datagram of " + length + " bytes exceeds " + MAX_DATAGRAM);
        }
        if (!supports(remote)) {
            throw new IllegalArgumentException("cannot send to " + remote);
        }
        byte[] frame = new byte[4 + length];
        ByteBuffer.wrap(frame).putInt(length);
        datagram.get(frame, 4, length); // copies: the caller owns its buffer again once we return
        return r.outbound(remote).offer(new Pending(frame, callback));
    }

    @Override
    public String toString() {
        Running r = running;
        return "TcpFramedTransport" + flaws + "[" + (r != null ? r.local : bind) + ", " + state + "]";
    }

    private record Pending(byte[] frame, SendCallback callback) {
    }

    /** Thrown by the decoder for a length prefix outside 0..MAX_DATAGRAM. */
    static final class FramingException extends IOException {
        FramingException(String message) {
            super(message);
        }
    }

    /** Sockets and threads of one STARTED period. */
    private final class Running {
        final DatagramHandler handler;
        final ServerSocketChannel server;
        final Endpoint local;
        final Thread acceptor;
        final Map<Endpoint, Outbound[]> outbound = new ConcurrentHashMap<>();
        final Set<Inbound> inbound = ConcurrentHashMap.newKeySet();
        final Object deliverLock = new Object();
        volatile boolean closing;

        Running(DatagramHandler handler, ServerSocketChannel server) throws IOException {
            this.handler = handler;
            this.server = server;
            InetSocketAddress address = (InetSocketAddress) server.getLocalAddress();
            this.local = new Endpoint(SCHEME, address.getAddress().getHostAddress(), address.getPort(), "");
            this.acceptor = new Thread(this::accept, "tcpf-accept-" + local.port());
            acceptor.setDaemon(true);
        }

        private void accept() {
            try {
                while (!closing) {
                    SocketChannel channel = server.accept();
                    Inbound in = new Inbound(this, channel);
                    inbound.add(in);
                    in.thread.start();
                }
            } catch (IOException e) {
                if (flaws.contains(Flaw.LEAVES_RECEIVE_THREAD_RUNNING)) {
                    long until = System.nanoTime() + 30_000_000_000L; // "transient": retry for a while
                    while (System.nanoTime() < until) {
                        try {
                            Thread.sleep(20);
                        } catch (InterruptedException ignored) {
                            // the flaw: interrupts do not end it either
                        }
                    }
                    return;
                }
                if (!closing && !flaws.contains(Flaw.SILENT_SOCKET_DEATH)) {
                    failed(e);
                }
            }
        }

        Outbound outbound(Endpoint remote) {
            Outbound[] lanes = outbound.computeIfAbsent(remote,
                    r -> flaws.contains(Flaw.REORDERS_UNDER_LOAD) ? new Outbound[] {new Outbound(this, r), new Outbound(this, r)}
                            : new Outbound[] {new Outbound(this, r)});
            for (Outbound lane : lanes) {
                if (lane.dead) {
                    outbound.remove(remote, lanes); // connection lost: the next send reconnects
                    return outbound(remote);
                }
            }
            if (lanes.length == 2 && lanes[0].queue.size() > lanes[1].queue.size()) {
                return lanes[1];
            }
            return lanes[0];
        }

        void burstEnd() {
            if (flaws.contains(Flaw.FORGETS_BURST_END)) {
                return;
            }
            synchronized (deliverLock) {
                if (closing) {
                    return;
                }
                try {
                    handler.onBurstEnd();
                } catch (RuntimeException e) {
                    // A handler bug must not silence the transport.
                }
            }
        }

        void deliver(Endpoint source, ByteBuffer datagram) {
            synchronized (deliverLock) {
                if (closing) {
                    return;
                }
                try {
                    handler.onDatagram(source, datagram);
                } catch (RuntimeException e) {
                    // A handler bug must not silence the transport.
                }
            }
        }

        /** The listening socket failed underneath: STOPPED on our own, then tell the handler. */
        void failed(Throwable failure) {
            boolean reported = false;
            synchronized (lifecycle) {
                if (running == this && state == State.STARTED) {
                    detach(State.STOPPED);
                    reported = true;
                }
            }
            if (reported) {
                awaitThreads();
                handler.onTransportFailure(failure);
            }
        }

        void close() {
            closing = true;
            if (!flaws.contains(Flaw.LEAKS_LISTENER_ON_STOP)) {
                closeQuietly(server);
            }
            if (!flaws.contains(Flaw.LEAKS_CONNECTIONS_ON_STOP)) {
                for (Inbound in : inbound) {
                    closeQuietly(in.channel);
                }
                for (Outbound[] lanes : outbound.values()) {
                    for (Outbound lane : lanes) {
                        lane.close();
                    }
                }
            }
        }

        void awaitThreads() {
            List<Thread> threads = new ArrayList<>();
            if (!flaws.contains(Flaw.LEAKS_LISTENER_ON_STOP) && !flaws.contains(Flaw.LEAVES_RECEIVE_THREAD_RUNNING)) {
                threads.add(acceptor);
            }
            if (!flaws.contains(Flaw.LEAKS_CONNECTIONS_ON_STOP)) {
                inbound.forEach(in -> threads.add(in.thread));
                outbound.values().forEach(lanes -> {
                    for (Outbound lane : lanes) {
                        threads.add(lane.writer);
                    }
                });
            }
            for (Thread t : threads) {
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
    }

    /** One accepted connection: reads the hello, then frames, on its own thread. */
    private final class Inbound implements Runnable {
        final Running owner;
        final SocketChannel channel;
        final Thread thread;

        Inbound(Running owner, SocketChannel channel) {
            this.owner = owner;
            this.channel = channel;
            this.thread = new Thread(this, "tcpf-rx-" + owner.local.port());
            thread.setDaemon(true);
        }

        @Override
        public void run() {
            try {
                ByteBuffer hello = ByteBuffer.allocate(4);
                readFully(hello);
                if (hello.getShort(0) != 0x504C) {
                    throw new FramingException("bad hello");
                }
                InetSocketAddress from = (InetSocketAddress) channel.getRemoteAddress();
                Endpoint source = new Endpoint(SCHEME, from.getAddress().getHostAddress(), Short.toUnsignedInt(hello.getShort(2)), "");
                if (flaws.contains(Flaw.UNBOUNDED_DECODER)) {
                    readUnbounded(source);
                } else {
                    readFrames(source);
                }
            } catch (IOException e) {
                // EOF, reset, or a framing error from this peer: drop this connection only.
            } catch (RuntimeException e) {
                if (!flaws.contains(Flaw.UNBOUNDED_DECODER)) {
                    throw e;
                }
                owner.failed(e); // the flaw: a decoder exception reaches the transport's catch-all
            } finally {
                closeQuietly(channel);
                owner.inbound.remove(this);
            }
        }

        private void readFrames(Endpoint source) throws IOException {
            ByteBuffer buffer = ByteBuffer.allocate(4 + MAX_DATAGRAM);
            long reads = 0;
            while (!owner.closing) {
                if (flaws.contains(Flaw.ASSUMES_WHOLE_FRAMES_PER_READ) && (reads++ & 1) == 1) {
                    // Every other read is short, as TCP may return at any time: the flaw (dropping
                    // what is left of a frame at the end of a read) then shows on every run, not
                    // only when the scheduler happens to split a frame.
                    buffer.limit(buffer.capacity() / 2);
                }
                if (channel.read(buffer) < 0) {
                    return;
                }
                buffer.flip();
                while (buffer.remaining() >= 4) {
                    int length = buffer.getInt(buffer.position());
                    if (length < 0 || length > MAX_DATAGRAM) {
                        throw new FramingException("frame length " + length + " outside 0.." + MAX_DATAGRAM);
                    }
                    if (buffer.remaining() < 4 + length) {
                        break; // partial frame: keep it and read on
                    }
                    int start = buffer.position() + 4;
                    owner.deliver(source, buffer.slice(start, length));
                    buffer.position(start + length);
                }
                owner.burstEnd();
                if (flaws.contains(Flaw.ASSUMES_WHOLE_FRAMES_PER_READ)) {
                    buffer.clear();
                } else {
                    buffer.compact();
                }
            }
        }

        private void readUnbounded(Endpoint source) throws IOException {
            ByteBuffer header = ByteBuffer.allocate(4);
            while (!owner.closing) {
                header.clear();
                readFully(header);
                ByteBuffer body = ByteBuffer.wrap(new byte[header.getInt(0)]);
                readFully(body);
                body.flip();
                owner.deliver(source, body);
            }
        }

        private void readFully(ByteBuffer b) throws IOException {
            while (b.hasRemaining()) {
                if (channel.read(b) < 0) {
                    throw new EOFException();
                }
            }
        }
    }

    /** One outgoing connection with its bounded queue and writer thread. */
    private final class Outbound implements Runnable {
        final Running owner;
        final Endpoint remote;
        final BlockingQueue<Pending> queue = new ArrayBlockingQueue<>(QUEUE_FRAMES);
        final Thread writer;
        final AtomicLong written = new AtomicLong();
        volatile SocketChannel channel;
        volatile boolean dead;

        Outbound(Running owner, Endpoint remote) {
            this.owner = owner;
            this.remote = remote;
            this.writer = new Thread(this, "tcpf-tx-" + owner.local.port() + "-" + remote.port());
            writer.setDaemon(true);
            writer.start();
        }

        boolean offer(Pending p) {
            if (queue.offer(p)) {
                return true;
            }
            return flaws.contains(Flaw.ACCEPTS_WHEN_FULL); // the flaw: dropped, yet "accepted"
        }

        @Override
        public void run() {
            List<Pending> batch = new ArrayList<>();
            try {
                SocketChannel c = SocketChannel.open();
                channel = c;
                if (owner.closing) {
                    throw new IOException("closed");
                }
                c.connect(new InetSocketAddress(InetAddress.getByName(remote.host()), remote.port()));
                c.setOption(StandardSocketOptions.TCP_NODELAY, true);
                ByteBuffer hello = ByteBuffer.allocate(4).putShort((short) 0x504C).putShort((short) owner.local.port()).flip();
                while (hello.hasRemaining()) {
                    c.write(hello);
                }
                ByteBuffer[] buffers = new ByteBuffer[64];
                while (!owner.closing) {
                    batch.add(queue.take());
                    queue.drainTo(batch, buffers.length - 1);
                    int n = 0;
                    for (Pending p : batch) {
                        if (flaws.contains(Flaw.DROPS_A_FRACTION) && written.incrementAndGet() % 997 == 0) {
                            continue;
                        }
                        buffers[n++] = ByteBuffer.wrap(p.frame());
                    }
                    long left = 0;
                    for (int i = 0; i < n; i++) {
                        left += buffers[i].remaining();
                    }
                    while (left > 0) {
                        left -= c.write(buffers, 0, n);
                    }
                    for (Pending p : batch) {
                        p.callback().completed();
                    }
                    batch.clear();
                }
            } catch (IOException | InterruptedException e) {
                // closed by stop, or the connection broke: fail what did not leave
            } finally {
                dead = true;
                closeQuietly(channel);
                if (!(owner.closing && flaws.contains(Flaw.FORGETS_CALLBACKS_ON_STOP))) {
                    IOException gone = new IOException("connection to " + remote + " closed before the datagram left");
                    for (Pending p : batch) {
                        p.callback().failed(gone);
                    }
                    Pending p;
                    while ((p = queue.poll()) != null) {
                        p.callback().failed(gone);
                    }
                }
            }
        }

        void close() {
            closeQuietly(channel);
            writer.interrupt();
        }
    }

    private static void closeQuietly(java.io.Closeable c) {
        if (c != null) {
            try {
                c.close();
            } catch (IOException ignored) {
                // closing anyway
            }
        }
    }
}
