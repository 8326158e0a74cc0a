package com.example.peerlink.tcpframed;

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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A length-prefixed, stream-framed datagram transport over TCP ({@code tcpf://ip:port}): an
 * example of a third-party plug-in, built only against {@code peerlink-spi} and verified with
 * {@code peerlink-conformance-tests}. Reliable and ordered. Wire: the connecting side first
 * sends {@code 'P' 'L' port:u16} (where it listens, so the receiver can name the source and
 * reply), then frames {@code length:int32 bytes}. One connection per destination, written by
 * one thread from a bounded queue (so {@code send} never blocks and order is kept); one reader
 * thread per accepted connection.
 */
final class TcpFramedTransport implements Transport {

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
    private final TransportCapabilities capabilities;
    private final Object lifecycle = new Object();
    private volatile State state = State.CREATED;
    private volatile Running running;

    TcpFramedTransport(Endpoint bind) {
        if (!SCHEME.equals(bind.scheme())) {
            throw new IllegalArgumentException("not a " + SCHEME + " endpoint: " + bind);
        }
        this.bind = bind;
        this.capabilities = TransportCapabilities.builder().reliable(true).ordered(true).maxDatagramSize(MAX_DATAGRAM).build();
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

    /** For the conformance suite's failure rule: the listening socket dies as if closed by someone else. */
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
        return "TcpFramedTransport[" + (r != null ? r.local : bind) + ", " + state + "]";
    }

    private record Pending(byte[] frame, SendCallback callback) {
    }

    /** Sockets and threads of one STARTED period. */
    private final class Running {
        final DatagramHandler handler;
        final ServerSocketChannel server;
        final Endpoint local;
        final Thread acceptor;
        final Map<Endpoint, Outbound> outbound = new ConcurrentHashMap<>();
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
                if (!closing) {
                    failed(e); // not stopped by us: the listening socket died
                }
            }
        }

        Outbound outbound(Endpoint remote) {
            // One connection per destination: a second one would let datagrams overtake each other.
            Outbound lane = outbound.computeIfAbsent(remote, r -> new Outbound(this, r));
            if (lane.dead) {
                outbound.remove(remote, lane); // connection lost: the next send reconnects
                return outbound(remote);
            }
            return lane;
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
            closeQuietly(server);
            for (Inbound in : inbound) {
                closeQuietly(in.channel);
            }
            for (Outbound lane : outbound.values()) {
                lane.close();
            }
        }

        void awaitThreads() {
            List<Thread> threads = new ArrayList<>();
            threads.add(acceptor);
            inbound.forEach(in -> threads.add(in.thread));
            outbound.values().forEach(lane -> threads.add(lane.writer));
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
                    throw new FrameDecoder.FramingException("bad hello: not a tcpf peer");
                }
                InetSocketAddress from = (InetSocketAddress) channel.getRemoteAddress();
                Endpoint source = new Endpoint(SCHEME, from.getAddress().getHostAddress(), Short.toUnsignedInt(hello.getShort(2)), "");
                readFrames(source);
            } catch (IOException e) {
                // EOF, reset, or a framing error from this peer: drop this connection only.
            } finally {
                closeQuietly(channel);
                owner.inbound.remove(this);
            }
        }

        private void readFrames(Endpoint source) throws IOException {
            FrameDecoder decoder = new FrameDecoder(MAX_DATAGRAM);
            while (!owner.closing) {
                if (channel.read(decoder.readBuffer()) < 0) {
                    return;
                }
                decoder.decode(frame -> owner.deliver(source, frame));
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
            return queue.offer(p); // full: false, the caller's ARQ sends it again
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
