package io.peerlink.relay.turn;

import io.peerlink.protocol.stun.ChannelData;
import io.peerlink.protocol.stun.Stun;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.StunWriter;
import io.peerlink.protocol.stun.Turn;
import io.peerlink.protocol.stun.TurnMessage;
import io.peerlink.transport.udp.BatchedDatagramChannel;

import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * An embedded TURN server (RFC 8656, UDP relays) with UDP and TCP client listeners and
 * REST-API shared-secret authentication, compatible with coturn's
 * {@code --use-auth-secret}: the same credentials work against either.
 *
 * <p>Limits from {@link TurnServerConfig} are enforced on every request: allocations per user
 * (486) and in total (508), the lifetime cap, bytes and rate per allocation (excess data is
 * dropped), peers on private addresses (403 unless allowed), the permission policy (403), and
 * requests per client IP (excess is dropped without an answer, so a flood earns no amplification).
 *
 * <p>One thread runs a selector over the listeners, the TCP connections and every relay socket;
 * on 64-bit Linux with JNA the UDP listener receives with {@code UDP_GRO} and sends the frames
 * for UDP clients in batches ({@code sendmmsg} with UDP segmentation offload, through the UDP
 * transport's {@link BatchedDatagramChannel}); every limit is still applied datagram by datagram.
 * {@link #start(TurnServerConfig)} returns once the listeners are bound, {@link #close()} stops
 * the thread and releases every socket.
 */
public final class TurnServer implements AutoCloseable {
    private static final int PERMISSION_MS = Turn.PERMISSION_LIFETIME_SECONDS * 1000;
    private static final int CHANNEL_MS = Turn.CHANNEL_LIFETIME_SECONDS * 1000;
    private static final long NONCE_VALIDITY_MS = 600_000;
    private static final int TCP_BACKLOG_LIMIT = 1 << 20;
    private static final int SOCKET_BUFFER = 4 << 20;
    private static final int RELAY_SOCKET_BUFFER = 1 << 20;
    private static final int MAX_TCP_CONNECTIONS_PER_IP = 16;
    private static final int KEY_CACHE = 4096;
    private static final byte[] SOFTWARE = "PeerLink TURN".getBytes(StandardCharsets.UTF_8);

    private final TurnServerConfig config;
    private final Selector selector;
    private final DatagramChannel udp;
    /**
     * The UDP listener's batched system calls, or null (batching unavailable, or switched off by
     * the system property {@value #BATCHING_PROPERTY}{@code =false}, for comparisons): then one
     * {@code recvfrom} and one {@code sendto} per datagram.
     */
    private final BatchedDatagramChannel udpBatch;
    /** Frames for UDP clients, sent in batches; null without {@link #udpBatch}. Server thread only. */
    private final UdpOut udpOut;
    /** System property: {@code false} turns the listener's batching off. */
    static final String BATCHING_PROPERTY = "peerlink.turnServer.batching";
    private final ServerSocketChannel tcp;
    private final Thread thread;
    private final byte[] nonceKey = new byte[32];
    private final ByteBuffer receiveBuffer = ByteBuffer.allocateDirect(65_536 + 64);
    /** ChannelData frames to clients are assembled here: no buffer is allocated per relayed datagram. */
    private final ByteBuffer sendBuffer = ByteBuffer.allocateDirect(65_536 + 64);
    /** Allocations by their relayed address: data between two allocations of this server skips the kernel. */
    private final Map<InetSocketAddress, Allocation> byRelayedAddress = new HashMap<>();
    private final TurnMessage message = new TurnMessage();
    private final Map<Object, Allocation> allocations = new HashMap<>();
    private final Map<String, Integer> allocationsPerUser = new HashMap<>();
    private final Map<InetAddress, TokenBucket> requestBuckets = new HashMap<>();
    private final Map<InetAddress, Integer> tcpPerIp = new HashMap<>();
    /**
     * Long-term keys of usernames whose requests verified, so that a device's Refresh,
     * CreatePermission and ChannelBind cost one HMAC check instead of HMAC + MD5 + HMAC each. The
     * key depends only on the username (realm and secret are fixed); expiry is checked per request.
     */
    private final Map<String, byte[]> verifiedKeys = new java.util.LinkedHashMap<>(256, 0.75f, true) {
        private static final long serialVersionUID = 1L;

        @Override
        protected boolean removeEldestEntry(Map.Entry<String, byte[]> eldest) {
            return size() > KEY_CACHE;
        }
    };
    private Mac nonceHmac;
    private final CountDownLatch stopped = new CountDownLatch(1);
    private final AtomicLong relayedBytes = new AtomicLong();
    private final AtomicLong droppedFrames = new AtomicLong();
    private final AtomicLong refusedRequests = new AtomicLong();
    private volatile boolean closing;
    private long lastSweep;

    private TurnServer(TurnServerConfig config) throws IOException {
        this.config = config;
        new SecureRandom().nextBytes(nonceKey);
        selector = Selector.open();
        try {
            if (config.udpPort() >= 0) {
                udp = DatagramChannel.open(family(config.bindAddress()));
                // Every client's traffic funnels through this one socket: the default buffer overflows at once.
                udp.setOption(java.net.StandardSocketOptions.SO_RCVBUF, SOCKET_BUFFER);
                udp.setOption(java.net.StandardSocketOptions.SO_SNDBUF, SOCKET_BUFFER);
                udp.bind(new InetSocketAddress(config.bindAddress(), config.udpPort()));
                udp.configureBlocking(false);
                udp.register(selector, SelectionKey.OP_READ, new UdpListener());
                udpBatch = Boolean.parseBoolean(System.getProperty(BATCHING_PROPERTY, "true"))
                        ? BatchedDatagramChannel.attach(udp, family(config.bindAddress()), receiveBuffer) : null;
            } else {
                udp = null;
                udpBatch = null;
            }
            udpOut = udpBatch != null ? new UdpOut() : null;
            if (config.tcpPort() >= 0) {
                tcp = ServerSocketChannel.open();
                bindTcp(tcp, config, udp);
                tcp.configureBlocking(false);
                tcp.register(selector, SelectionKey.OP_ACCEPT);
            } else {
                tcp = null;
            }
        } catch (IOException e) {
            selector.close();
            throw e;
        }
        thread = new Thread(this::run, "turn-server");
        thread.setDaemon(true);
    }

    /** An ephemeral TCP port follows the UDP port when it is free, as TURN's one well-known port does for both. */
    private static void bindTcp(ServerSocketChannel tcp, TurnServerConfig config, DatagramChannel udp) throws IOException {
        if (config.tcpPort() == 0 && udp != null) {
            try {
                tcp.bind(new InetSocketAddress(config.bindAddress(), ((InetSocketAddress) udp.getLocalAddress()).getPort()));
                return;
            } catch (IOException taken) {
                // Another process holds that TCP port: take any.
            }
        }
        tcp.bind(new InetSocketAddress(config.bindAddress(), config.tcpPort()));
    }

    /**
     * Binds the listeners and starts serving.
     *
     * @param config limits, secret and addresses
     * @return the running server
     * @throws IOException if a listener cannot bind
     */
    public static TurnServer start(TurnServerConfig config) throws IOException {
        TurnServer server = new TurnServer(config);
        server.thread.start();
        return server;
    }

    private static StandardProtocolFamily family(InetAddress a) {
        return a instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
    }

    /** @return the UDP listener's address, or {@code null} if UDP is off */
    public InetSocketAddress udpAddress() {
        try {
            return udp == null ? null : (InetSocketAddress) udp.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    /** @return the TCP listener's address, or {@code null} if TCP is off */
    public InetSocketAddress tcpAddress() {
        try {
            return tcp == null ? null : (InetSocketAddress) tcp.getLocalAddress();
        } catch (IOException e) {
            throw new IllegalStateException("listener closed", e);
        }
    }

    /** Counters for operators and tests. */
    public record Stats(int allocations, long relayedBytes, long droppedFrames, long refusedRequests) {
    }

    /** @return current counters (allocations is read without locking: approximate while running) */
    public Stats stats() {
        return new Stats(allocations.size(), relayedBytes.get(), droppedFrames.get(), refusedRequests.get());
    }

    /** Stops serving and releases every socket; idempotent; waits up to 5 s for the server thread. */
    @Override
    public void close() {
        closing = true;
        selector.wakeup();
        try {
            stopped.await(5, java.util.concurrent.TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    // ---------------------------------------------------------------- event loop

    private void run() {
        try {
            while (!closing) {
                selector.select(1000);
                Iterator<SelectionKey> it = selector.selectedKeys().iterator();
                while (it.hasNext()) {
                    SelectionKey key = it.next();
                    it.remove();
                    try {
                        handle(key);
                    } catch (IOException e) {
                        // One connection or socket failed; the others keep being served.
                        Object att = key.attachment();
                        if (att instanceof TcpConnection c) {
                            c.close();
                        }
                    }
                }
                if (udpOut != null) {
                    udpOut.flush();
                }
                long now = System.currentTimeMillis();
                if (now - lastSweep >= 1000) {
                    sweep(now);
                    lastSweep = now;
                }
            }
        } catch (IOException | RuntimeException e) {
            // The selector itself failed: nothing can be served any more; fall through and release everything.
        } finally {
            for (Allocation a : allocations.values().toArray(Allocation[]::new)) {
                remove(a);
            }
            if (udpBatch != null) {
                udpBatch.close();
            }
            for (SelectionKey k : selector.keys()) {
                try {
                    k.channel().close();
                } catch (IOException ignored) {
                    // Closing anyway.
                }
            }
            try {
                selector.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
            stopped.countDown();
        }
    }

    private void handle(SelectionKey key) throws IOException {
        if (!key.isValid()) {
            return;
        }
        Object att = key.attachment();
        if (key.isAcceptable()) {
            SocketChannel s = tcp.accept();
            if (s == null) {
                return;
            }
            InetAddress ip = ((InetSocketAddress) s.getRemoteAddress()).getAddress();
            if (tcpPerIp.getOrDefault(ip, 0) >= MAX_TCP_CONNECTIONS_PER_IP) {
                refusedRequests.incrementAndGet();
                s.close();
                return;
            }
            tcpPerIp.merge(ip, 1, Integer::sum);
            s.configureBlocking(false);
            s.socket().setTcpNoDelay(true);
            TcpConnection c = new TcpConnection(s, ip);
            c.key = s.register(selector, SelectionKey.OP_READ, c);
        } else if (att instanceof UdpListener) {
            if (udpBatch != null && udpBatch.coalescedReceive()) {
                drainCoalesced();
                return;
            }
            InetSocketAddress from;
            while ((from = (InetSocketAddress) udp.receive(receiveBuffer.clear())) != null) {
                receiveBuffer.flip();
                onClientDatagram(from);
            }
        } else if (att instanceof TcpConnection c) {
            if (key.isWritable()) {
                c.flush();
            }
            if (key.isReadable()) {
                c.read();
            }
        } else if (att instanceof Allocation a) {
            InetSocketAddress from;
            while (a.relay.isOpen() && (from = (InetSocketAddress) a.relay.receive(receiveBuffer.clear())) != null) {
                receiveBuffer.flip();
                onPeerDatagram(a, from, receiveBuffer);
            }
        }
    }

    /** One datagram from a UDP client, between the receive buffer's position and limit. */
    private void onClientDatagram(InetSocketAddress from) throws IOException {
        if (receiveBuffer.hasRemaining() && ChannelData.looksLikeChannelData(receiveBuffer.get(receiveBuffer.position()) & 0xff)) {
            // The hot path: no Leg object, one map lookup, the data relayed from this buffer.
            onChannelData(allocations.get(from), from.getAddress(), receiveBuffer);
        } else {
            onClientFrame(new UdpLeg(from), receiveBuffer);
        }
    }

    /**
     * Reads the listener with {@code UDP_GRO}: a read may hold a run of same-sized datagrams from
     * one client (a segmented send), which are handled one by one exactly as single reads are.
     */
    private void drainCoalesced() throws IOException {
        int n;
        while ((n = udpBatch.receive()) >= 0) {
            InetSocketAddress from = udpBatch.source();
            int segment = udpBatch.segmentSize() > 0 ? udpBatch.segmentSize() : Math.max(n, 1);
            int offset = 0;
            do {
                int length = Math.min(segment, n - offset);
                receiveBuffer.limit(offset + length).position(offset);
                onClientDatagram(from);
                offset += length;
            } while (offset < n);
        }
    }

    /**
     * Frames for UDP clients, collected while the server thread handles what the selector reported
     * and sent when 64 are queued or the round ends: consecutive frames to one client leave in one
     * {@code sendmmsg}, equal-sized ones as one segmented buffer (which a client's {@code UDP_GRO}
     * socket receives in one read). Order is kept, per client and overall; a full socket buffer
     * drops the rest of a client's run, as a single {@code send} would drop its datagram.
     */
    private final class UdpOut {
        static final int MAX_FRAMES = BatchedDatagramChannel.MAX_SEGMENTS;
        static final int BYTES = 256 << 10;

        private final ByteBuffer area = ByteBuffer.allocateDirect(BYTES);
        private final ByteBuffer[] frames = new ByteBuffer[MAX_FRAMES];
        private final InetSocketAddress[] destinations = new InetSocketAddress[MAX_FRAMES];
        private int count;

        UdpOut() {
            for (int i = 0; i < MAX_FRAMES; i++) {
                frames[i] = area.duplicate();
            }
        }

        void add(ByteBuffer frame, InetSocketAddress to) throws IOException {
            int n = frame.remaining();
            if (n > BYTES) {
                flush();
                udp.send(frame, to);
                return;
            }
            if (count == MAX_FRAMES || area.remaining() < n) {
                flush();
            }
            int start = area.position();
            area.put(frame);
            frames[count].limit(area.position()).position(start);
            destinations[count] = to;
            count++;
        }

        void flush() throws IOException {
            int i = 0;
            while (i < count) {
                InetSocketAddress to = destinations[i];
                int run = 1;
                while (i + run < count && (destinations[i + run] == to || destinations[i + run].equals(to))) {
                    run++;
                }
                udpBatch.send(to, frames, i, run);
                i += run;
            }
            java.util.Arrays.fill(destinations, 0, count, null);
            count = 0;
            area.clear();
        }
    }

    private void sweep(long now) {
        for (Allocation a : allocations.values().toArray(Allocation[]::new)) {
            if (now >= a.expiresAt) {
                remove(a);
                continue;
            }
            a.permissions.values().removeIf(expiry -> now >= expiry);
            a.channelExpiry.entrySet().removeIf(e -> {
                if (now < e.getValue()) {
                    return false;
                }
                InetSocketAddress peer = a.channels.remove(e.getKey());
                if (peer != null) {
                    a.channelByPeer.remove(peer);
                }
                return true;
            });
        }
        requestBuckets.values().removeIf(b -> b.idleSince(now) > 10_000);
    }

    // ---------------------------------------------------------------- client side

    /** Where a client frame came from and how to answer it: a UDP 5-tuple or a TCP connection. */
    private interface Leg {
        Object id();

        InetSocketAddress remote();

        boolean stream();

        void send(ByteBuffer frame) throws IOException;
    }

    private final class UdpListener {
    }

    private final class UdpLeg implements Leg {
        private final InetSocketAddress remote;

        UdpLeg(InetSocketAddress remote) {
            this.remote = remote;
        }

        @Override
        public Object id() {
            // The 5-tuple's varying part; a TcpConnection's id is itself, so the keys never collide.
            return remote;
        }

        @Override
        public InetSocketAddress remote() {
            return remote;
        }

        @Override
        public boolean stream() {
            return false;
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            if (udpOut != null) {
                udpOut.add(frame, remote);
            } else {
                udp.send(frame, remote);
            }
        }
    }

    private final class TcpConnection implements Leg {
        private final SocketChannel channel;
        private final InetAddress ip;
        private final InetSocketAddress remote;
        private final ByteBuffer in = ByteBuffer.allocate(TurnMessage.MAX_STREAM_MESSAGE + 4);
        private final ArrayDeque<ByteBuffer> out = new ArrayDeque<>();
        private int queued;
        private SelectionKey key;
        private boolean closed;

        TcpConnection(SocketChannel channel, InetAddress ip) throws IOException {
            this.channel = channel;
            this.ip = ip;
            this.remote = (InetSocketAddress) channel.getRemoteAddress();
        }

        @Override
        public Object id() {
            return this;
        }

        @Override
        public InetSocketAddress remote() {
            return remote;
        }

        @Override
        public boolean stream() {
            return true;
        }

        void read() throws IOException {
            int n = channel.read(in);
            if (n < 0) {
                close();
                return;
            }
            in.flip();
            while (in.remaining() >= 4) {
                int length;
                try {
                    length = ChannelData.streamFrameLength(in);
                } catch (StunFormatException e) {
                    // A stream out of framing cannot be resynchronised: drop the connection.
                    droppedFrames.incrementAndGet();
                    close();
                    return;
                }
                if (in.remaining() < length) {
                    break;
                }
                ByteBuffer frame = in.duplicate().limit(in.position() + length);
                in.position(in.position() + length);
                onClientFrame(this, frame);
                if (closed) {
                    return;
                }
            }
            in.compact();
        }

        @Override
        public void send(ByteBuffer frame) throws IOException {
            if (closed) {
                return;
            }
            if (out.isEmpty()) {
                channel.write(frame);
                if (!frame.hasRemaining()) {
                    return;
                }
            }
            if (queued + frame.remaining() > TCP_BACKLOG_LIMIT) {
                // A client that does not read loses datagrams, as it would over UDP.
                droppedFrames.incrementAndGet();
                return;
            }
            ByteBuffer copy = ByteBuffer.allocate(frame.remaining()).put(frame).flip();
            out.add(copy);
            queued += copy.remaining();
            key.interestOps(SelectionKey.OP_READ | SelectionKey.OP_WRITE);
        }

        void flush() throws IOException {
            while (!out.isEmpty()) {
                ByteBuffer head = out.peek();
                int n = channel.write(head);
                queued -= n;
                if (head.hasRemaining()) {
                    return;
                }
                out.poll();
            }
            key.interestOps(SelectionKey.OP_READ);
        }

        void close() {
            if (closed) {
                return;
            }
            closed = true;
            tcpPerIp.computeIfPresent(ip, (k, v) -> v <= 1 ? null : v - 1);
            Allocation a = allocations.get(this);
            if (a != null) {
                remove(a);
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing anyway.
            }
        }
    }

    private void onClientFrame(Leg leg, ByteBuffer frame) throws IOException {
        if (!frame.hasRemaining()) {
            return;
        }
        int first = frame.get(frame.position()) & 0xff;
        if (ChannelData.looksLikeChannelData(first)) {
            onChannelData(allocations.get(leg.id()), leg.remote().getAddress(), frame);
            return;
        }
        try {
            message.decode(frame);
        } catch (StunFormatException e) {
            garbage(leg);
            return;
        }
        int cls = message.messageClass();
        if (cls == Turn.CLASS_INDICATION) {
            if (message.method() == Turn.METHOD_SEND) {
                onSendIndication(leg);
            }
            return;
        }
        if (cls != Turn.CLASS_REQUEST) {
            return;
        }
        if (!takeRequestToken(leg.remote().getAddress())) {
            refusedRequests.incrementAndGet();
            return;
        }
        onRequest(leg);
    }

    /** ChannelData from a client: relayed to the channel's peer if the allocation has it bound and permitted. */
    private void onChannelData(Allocation a, InetAddress clientIp, ByteBuffer frame) {
        int channel;
        try {
            channel = ChannelData.channel(frame);
        } catch (StunFormatException e) {
            garbage(clientIp);
            return;
        }
        InetSocketAddress peer = a == null ? null : a.channels.get(channel);
        if (peer == null || !a.permitted(peer.getAddress())) {
            droppedFrames.incrementAndGet();
            return;
        }
        int length = frame.getShort(frame.position() + 2) & 0xffff;
        int limit = frame.limit();
        frame.position(frame.position() + Turn.CHANNEL_DATA_HEADER).limit(frame.position() + length);
        relayToPeer(a, peer, frame);
        frame.limit(limit);
    }

    private void garbage(Leg leg) {
        garbage(leg.remote().getAddress());
    }

    private void garbage(InetAddress ip) {
        droppedFrames.incrementAndGet();
        // Undecodable input costs the sender request tokens, so a flood only starves the flooder.
        takeRequestToken(ip);
    }

    private boolean takeRequestToken(InetAddress ip) {
        TokenBucket b = requestBuckets.computeIfAbsent(ip, k -> new TokenBucket(config.requestsPerSecondPerIp(), 2L * config.requestsPerSecondPerIp()));
        return b.take(1, System.currentTimeMillis());
    }

    private void onSendIndication(Leg leg) {
        Allocation a = allocations.get(leg.id());
        InetSocketAddress peer = message.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
        ByteBuffer data = message.slice(Turn.ATTR_DATA);
        if (a == null || peer == null || data == null || !a.permitted(peer.getAddress())) {
            droppedFrames.incrementAndGet();
            return;
        }
        relayToPeer(a, peer, data);
    }

    /** @param data position..limit is relayed; the position may be moved */
    private void relayToPeer(Allocation a, InetSocketAddress peer, ByteBuffer data) {
        int n = data.remaining();
        if (!a.charge(n)) {
            droppedFrames.incrementAndGet();
            return;
        }
        Allocation local = byRelayedAddress.get(peer);
        if (local != null) {
            // Both ends are allocations of this server (two devices on one relay, the usual case):
            // hand the datagram over as if it had crossed the relay sockets, minus two system calls.
            // The receiving allocation applies its own permission, charge and framing.
            relayedBytes.addAndGet(n);
            try {
                onPeerDatagram(local, a.relayed, data);
            } catch (IOException e) {
                droppedFrames.incrementAndGet();
                if (local.leg instanceof TcpConnection c) {
                    c.close();
                }
            }
            return;
        }
        try {
            a.relay.send(data, peer);
            relayedBytes.addAndGet(n);
        } catch (IOException e) {
            droppedFrames.incrementAndGet();
        }
    }

    private void onPeerDatagram(Allocation a, InetSocketAddress peer, ByteBuffer data) throws IOException {
        if (!a.permitted(peer.getAddress()) || !a.charge(data.remaining())) {
            droppedFrames.incrementAndGet();
            return;
        }
        Integer channel = a.channelByPeer.get(peer);
        ByteBuffer frame;
        if (channel != null) {
            frame = sendBuffer.clear();
            ChannelData.write(frame, channel, data, a.leg.stream());
            frame.flip();
        } else {
            byte[] bytes = new byte[data.remaining()];
            data.get(bytes);
            frame = ByteBuffer.wrap(new StunWriter(Turn.type(Turn.METHOD_DATA, Turn.CLASS_INDICATION), newTransactionId())
                    .xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, peer).attribute(Turn.ATTR_DATA, bytes).build(null, false));
        }
        relayedBytes.addAndGet(frame.remaining());
        a.leg.send(frame);
    }

    // ---------------------------------------------------------------- requests

    private void onRequest(Leg leg) throws IOException {
        int method = message.method();
        byte[] txid = message.transactionId();
        if (method == 0x001) {
            byte[] reply = new StunWriter(Turn.type(0x001, Turn.CLASS_SUCCESS), txid)
                    .xorAddress(Stun.ATTR_XOR_MAPPED_ADDRESS, leg.remote()).attribute(Stun.ATTR_SOFTWARE, SOFTWARE).build(null, true);
            leg.send(ByteBuffer.wrap(reply));
            return;
        }
        if (method != Turn.METHOD_ALLOCATE && method != Turn.METHOD_REFRESH && method != Turn.METHOD_CREATE_PERMISSION
                && method != Turn.METHOD_CHANNEL_BIND) {
            error(leg, method, txid, Turn.ERROR_BAD_REQUEST, "Unsupported method", null);
            return;
        }
        int unknown = message.firstUnknownRequired();
        if (unknown >= 0) {
            byte[] reply = new StunWriter(Turn.type(method, Turn.CLASS_ERROR), txid)
                    .errorCode(Stun.ERROR_UNKNOWN_ATTRIBUTE, "Unknown attribute")
                    .attribute(Stun.ATTR_UNKNOWN_ATTRIBUTES, new byte[] {(byte) (unknown >>> 8), (byte) unknown}).build(null, true);
            leg.send(ByteBuffer.wrap(reply));
            return;
        }
        // Long-term credentials (RFC 8489 section 9.2.4), REST API style.
        String username = message.string(Turn.ATTR_USERNAME);
        if (!message.hasIntegrity() || username == null || !message.has(Turn.ATTR_REALM) || !message.has(Turn.ATTR_NONCE)) {
            challenge(leg, method, txid, Turn.ERROR_UNAUTHENTICATED, "Unauthenticated");
            return;
        }
        if (!config.realm().equals(message.string(Turn.ATTR_REALM))) {
            challenge(leg, method, txid, Turn.ERROR_UNAUTHENTICATED, "Wrong realm");
            return;
        }
        Instant expiry;
        try {
            expiry = TurnCredentials.expiry(username);
        } catch (IllegalArgumentException e) {
            challenge(leg, method, txid, Turn.ERROR_UNAUTHENTICATED, "Username is not <expiry>:<id>");
            return;
        }
        if (expiry.isBefore(Instant.now())) {
            challenge(leg, method, txid, Turn.ERROR_UNAUTHENTICATED, "Credential expired");
            return;
        }
        byte[] key = verifiedKeys.get(username);
        if (key == null) {
            key = StunWriter.longTermKey(username, config.realm(), TurnCredentials.password(config.secret(), username));
        }
        if (!message.verifyIntegrity(key)) {
            challenge(leg, method, txid, Turn.ERROR_UNAUTHENTICATED, "Integrity check failed");
            return;
        }
        // Cached only once a request proved it: forged usernames cannot fill the cache with their keys.
        verifiedKeys.put(username, key);
        if (!nonceValid(message.string(Turn.ATTR_NONCE))) {
            challenge(leg, method, txid, Turn.ERROR_STALE_NONCE, "Stale nonce");
            return;
        }
        String user = TurnCredentials.userId(username);
        switch (method) {
            case Turn.METHOD_ALLOCATE -> allocate(leg, txid, key, user, username);
            case Turn.METHOD_REFRESH -> refresh(leg, txid, key);
            case Turn.METHOD_CREATE_PERMISSION -> createPermission(leg, txid, key, username);
            default -> channelBind(leg, txid, key, username);
        }
    }

    private void allocate(Leg leg, byte[] txid, byte[] key, String user, String username) throws IOException {
        int m = Turn.METHOD_ALLOCATE;
        Allocation existing = allocations.get(leg.id());
        if (existing != null) {
            if (Arrays.equals(existing.allocateTxid, txid)) {
                // A retransmitted Allocate: answer it again (RFC 8656 section 7.2).
                leg.send(ByteBuffer.wrap(existing.allocateResponse));
            } else {
                error(leg, m, txid, Turn.ERROR_ALLOCATION_MISMATCH, "Allocation mismatch", key);
            }
            return;
        }
        int transport = message.requestedTransport();
        if (transport < 0) {
            error(leg, m, txid, Turn.ERROR_BAD_REQUEST, "REQUESTED-TRANSPORT missing", key);
            return;
        }
        if (transport != Turn.PROTOCOL_UDP) {
            error(leg, m, txid, Turn.ERROR_UNSUPPORTED_TRANSPORT, "Only UDP relays", key);
            return;
        }
        ByteBuffer family = message.slice(Turn.ATTR_REQUESTED_ADDRESS_FAMILY);
        if (family != null && (family.remaining() < 1 || family.get(0) != Stun.FAMILY_IPV4)) {
            // Relays are allocated on the one relay address, IPv4 or IPv6 as configured; only IPv4 is asked for by name.
            error(leg, m, txid, Turn.ERROR_ADDRESS_FAMILY, "Only IPv4 relays", key);
            return;
        }
        if (allocationsPerUser.getOrDefault(user, 0) >= config.maxAllocationsPerUser()) {
            refusedRequests.incrementAndGet();
            error(leg, m, txid, Turn.ERROR_QUOTA_REACHED, "Allocation quota reached", key);
            return;
        }
        if (allocations.size() >= config.maxAllocations()) {
            refusedRequests.incrementAndGet();
            error(leg, m, txid, Turn.ERROR_INSUFFICIENT_CAPACITY, "Server at capacity", key);
            return;
        }
        ByteBuffer evenPort = message.slice(Turn.ATTR_EVEN_PORT);
        boolean even = evenPort != null;
        if (even && evenPort.remaining() > 0 && (evenPort.get(0) & 0x80) != 0) {
            // The R bit asks to reserve the next port for a later Allocate: not supported.
            error(leg, m, txid, Turn.ERROR_INSUFFICIENT_CAPACITY, "Port reservation not supported", key);
            return;
        }
        long lifetime = lifetime(message.u32(Turn.ATTR_LIFETIME));
        DatagramChannel relay = openRelay(even);
        if (relay == null) {
            error(leg, m, txid, Turn.ERROR_INSUFFICIENT_CAPACITY, "No relay port", key);
            return;
        }
        Allocation a = new Allocation(leg, user, relay, (InetSocketAddress) relay.getLocalAddress(), config);
        a.expiresAt = System.currentTimeMillis() + lifetime * 1000;
        relay.register(selector, SelectionKey.OP_READ, a);
        allocations.put(leg.id(), a);
        byRelayedAddress.put(a.relayed, a);
        allocationsPerUser.merge(user, 1, Integer::sum);
        a.allocateTxid = txid;
        a.allocateResponse = new StunWriter(Turn.type(m, Turn.CLASS_SUCCESS), txid)
                .xorAddress(Turn.ATTR_XOR_RELAYED_ADDRESS, a.relayed)
                .xorAddress(Stun.ATTR_XOR_MAPPED_ADDRESS, leg.remote())
                .u32(Turn.ATTR_LIFETIME, lifetime).attribute(Stun.ATTR_SOFTWARE, SOFTWARE).build(key, true);
        leg.send(ByteBuffer.wrap(a.allocateResponse));
    }

    /** @return a bound non-blocking relay socket (an even port if asked, RFC 8656 section 7.2), or null */
    private DatagramChannel openRelay(boolean even) {
        for (int attempt = 0; attempt < 32; attempt++) {
            DatagramChannel relay = null;
            try {
                relay = DatagramChannel.open(family(config.relayAddress()));
                relay.setOption(java.net.StandardSocketOptions.SO_RCVBUF, RELAY_SOCKET_BUFFER);
                relay.setOption(java.net.StandardSocketOptions.SO_SNDBUF, RELAY_SOCKET_BUFFER);
                relay.bind(new InetSocketAddress(config.relayAddress(), 0));
                if (even && (((InetSocketAddress) relay.getLocalAddress()).getPort() & 1) != 0) {
                    relay.close();
                    continue;
                }
                relay.configureBlocking(false);
                return relay;
            } catch (IOException e) {
                if (relay != null) {
                    try {
                        relay.close();
                    } catch (IOException ignored) {
                        // Already failing.
                    }
                }
                return null;
            }
        }
        return null;
    }

    private long lifetime(long requested) {
        long max = config.maxLifetime().toSeconds();
        long wanted = requested < 0 ? Turn.DEFAULT_LIFETIME_SECONDS : requested;
        return Math.min(Math.max(wanted, Turn.DEFAULT_LIFETIME_SECONDS), max);
    }

    private void refresh(Leg leg, byte[] txid, byte[] key) throws IOException {
        Allocation a = allocations.get(leg.id());
        if (a == null) {
            error(leg, Turn.METHOD_REFRESH, txid, Turn.ERROR_ALLOCATION_MISMATCH, "No allocation", key);
            return;
        }
        long requested = message.u32(Turn.ATTR_LIFETIME);
        long lifetime = requested == 0 ? 0 : lifetime(requested);
        if (lifetime == 0) {
            remove(a);
        } else {
            a.expiresAt = System.currentTimeMillis() + lifetime * 1000;
        }
        success(leg, Turn.METHOD_REFRESH, txid, key, w -> w.u32(Turn.ATTR_LIFETIME, lifetime));
    }

    private boolean peerAllowed(Leg leg, int method, byte[] txid, byte[] key, String username, InetSocketAddress peer) throws IOException {
        if (peer == null) {
            error(leg, method, txid, Turn.ERROR_BAD_REQUEST, "XOR-PEER-ADDRESS missing", key);
            return false;
        }
        InetAddress ip = peer.getAddress();
        if (ip.isLoopbackAddress() ? !config.allowLoopbackPeers() : !config.allowPrivatePeers() && isPrivate(ip)) {
            refusedRequests.incrementAndGet();
            error(leg, method, txid, Turn.ERROR_FORBIDDEN, "Peer address not relayable", key);
            return false;
        }
        if (!config.permissionPolicy().test(username, ip)) {
            refusedRequests.incrementAndGet();
            error(leg, method, txid, Turn.ERROR_FORBIDDEN, "Peer not introduced", key);
            return false;
        }
        return true;
    }

    /** Unspecified, private (RFC 1918), link-local, CGNAT, unique-local, multicast and IPv4-mapped forms of them. */
    static boolean isPrivate(InetAddress ip) {
        if (ip.isAnyLocalAddress() || ip.isSiteLocalAddress() || ip.isLinkLocalAddress()
                || ip.isMulticastAddress()) {
            return true;
        }
        byte[] b = ip.getAddress();
        if (b.length == 4) {
            return (b[0] & 0xff) == 100 && (b[1] & 0xc0) == 64 // 100.64.0.0/10 carrier-grade NAT
                    || (b[0] & 0xff) == 0 || (b[0] & 0xff) >= 240;
        }
        return (b[0] & 0xfe) == 0xfc; // fc00::/7 unique local
    }

    private void createPermission(Leg leg, byte[] txid, byte[] key, String username) throws IOException {
        int m = Turn.METHOD_CREATE_PERMISSION;
        Allocation a = allocations.get(leg.id());
        if (a == null) {
            error(leg, m, txid, Turn.ERROR_ALLOCATION_MISMATCH, "No allocation", key);
            return;
        }
        InetSocketAddress peer = message.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
        if (!peerAllowed(leg, m, txid, key, username, peer)) {
            return;
        }
        a.permissions.put(peer.getAddress(), System.currentTimeMillis() + PERMISSION_MS);
        success(leg, m, txid, key, w -> { });
    }

    private void channelBind(Leg leg, byte[] txid, byte[] key, String username) throws IOException {
        int m = Turn.METHOD_CHANNEL_BIND;
        Allocation a = allocations.get(leg.id());
        if (a == null) {
            error(leg, m, txid, Turn.ERROR_ALLOCATION_MISMATCH, "No allocation", key);
            return;
        }
        int channel = message.channelNumber();
        if (channel < Turn.MIN_CHANNEL || channel > Turn.MAX_CHANNEL_ACCEPTED) {
            error(leg, m, txid, Turn.ERROR_BAD_REQUEST, "Bad channel number", key);
            return;
        }
        InetSocketAddress peer = message.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
        if (!peerAllowed(leg, m, txid, key, username, peer)) {
            return;
        }
        InetSocketAddress boundPeer = a.channels.get(channel);
        Integer boundChannel = a.channelByPeer.get(peer);
        if (boundPeer != null && !boundPeer.equals(peer) || boundChannel != null && boundChannel != channel) {
            error(leg, m, txid, Turn.ERROR_BAD_REQUEST, "Channel or peer already bound", key);
            return;
        }
        long now = System.currentTimeMillis();
        a.channels.put(channel, peer);
        a.channelByPeer.put(peer, channel);
        a.channelExpiry.put(channel, now + CHANNEL_MS);
        a.permissions.put(peer.getAddress(), now + PERMISSION_MS);
        success(leg, m, txid, key, w -> { });
    }

    private void success(Leg leg, int method, byte[] txid, byte[] key, java.util.function.Consumer<StunWriter> body) throws IOException {
        StunWriter w = new StunWriter(Turn.type(method, Turn.CLASS_SUCCESS), txid);
        body.accept(w);
        leg.send(ByteBuffer.wrap(w.build(key, true)));
    }

    private void error(Leg leg, int method, byte[] txid, int code, String reason, byte[] key) throws IOException {
        byte[] reply = new StunWriter(Turn.type(method, Turn.CLASS_ERROR), txid).errorCode(code, reason).build(key, true);
        leg.send(ByteBuffer.wrap(reply));
    }

    private void challenge(Leg leg, int method, byte[] txid, int code, String reason) throws IOException {
        byte[] reply = new StunWriter(Turn.type(method, Turn.CLASS_ERROR), txid).errorCode(code, reason)
                .string(Turn.ATTR_REALM, config.realm()).string(Turn.ATTR_NONCE, newNonce()).build(null, true);
        leg.send(ByteBuffer.wrap(reply));
    }

    // ---------------------------------------------------------------- nonces

    /** Stateless nonce: issue time and a MAC over it, so no per-client state is kept before authentication. */
    private String newNonce() {
        String time = Long.toHexString(System.currentTimeMillis());
        return time + "-" + nonceMac(time);
    }

    private boolean nonceValid(String nonce) {
        int dash = nonce.indexOf('-');
        if (dash <= 0 || dash > 16) {
            return false;
        }
        String time = nonce.substring(0, dash);
        if (!MessageDigest.isEqual(nonceMac(time).getBytes(StandardCharsets.US_ASCII), nonce.substring(dash + 1).getBytes(StandardCharsets.US_ASCII))) {
            return false;
        }
        long issued;
        try {
            issued = Long.parseLong(time, 16);
        } catch (NumberFormatException e) {
            return false;
        }
        long age = System.currentTimeMillis() - issued;
        return age >= 0 && age < NONCE_VALIDITY_MS;
    }

    /** Server thread only: one initialised Mac, reused (doFinal resets it). */
    private String nonceMac(String time) {
        try {
            if (nonceHmac == null) {
                nonceHmac = Mac.getInstance("HmacSHA256");
                nonceHmac.init(new SecretKeySpec(nonceKey, "HmacSHA256"));
            }
            return HexFormat.of().formatHex(nonceHmac.doFinal(time.getBytes(StandardCharsets.US_ASCII)), 0, 12);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is mandatory in every JDK", e);
        }
    }

    private static final SecureRandom TXIDS = new SecureRandom();

    private static byte[] newTransactionId() {
        byte[] id = new byte[Stun.TRANSACTION_ID_LENGTH];
        TXIDS.nextBytes(id);
        return id;
    }

    // ---------------------------------------------------------------- allocation state

    private void remove(Allocation a) {
        byRelayedAddress.remove(a.relayed, a);
        if (allocations.remove(a.leg.id()) != null) {
            allocationsPerUser.computeIfPresent(a.user, (k, v) -> v <= 1 ? null : v - 1);
        }
        try {
            a.relay.close();
        } catch (IOException ignored) {
            // Closing anyway.
        }
    }

    private static final class Allocation {
        final Leg leg;
        final String user;
        final DatagramChannel relay;
        final InetSocketAddress relayed;
        final Map<InetAddress, Long> permissions = new HashMap<>();
        final Map<Integer, InetSocketAddress> channels = new HashMap<>();
        final Map<InetSocketAddress, Integer> channelByPeer = new HashMap<>();
        final Map<Integer, Long> channelExpiry = new HashMap<>();
        final RelayBudget budget;
        long expiresAt;
        byte[] allocateTxid;
        byte[] allocateResponse;

        Allocation(Leg leg, String user, DatagramChannel relay, InetSocketAddress relayed, TurnServerConfig config) {
            this.leg = leg;
            this.user = user;
            this.relay = relay;
            this.relayed = relayed;
            this.budget = RelayBudget.of(config);
        }

        boolean permitted(InetAddress peer) {
            Long expiry = permissions.get(peer);
            return expiry != null && System.currentTimeMillis() < expiry;
        }

        boolean charge(int n) {
            return budget.charge(n, System.currentTimeMillis());
        }
    }
}
