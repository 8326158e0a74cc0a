package io.peerlink.relay.turn;

import io.peerlink.protocol.stun.ChannelData;
import io.peerlink.protocol.stun.Stun;
import io.peerlink.protocol.stun.StunClient;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.StunWriter;
import io.peerlink.protocol.stun.Turn;
import io.peerlink.protocol.stun.TurnMessage;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import javax.net.ssl.SSLContext;

/**
 * A TURN client (RFC 8656) with long-term credentials, for any TURN server (coturn included):
 * Allocate (401 challenge, then an authenticated retry; 438 stale nonce, then a retry with the
 * new nonce), Refresh before the allocation expires, CreatePermission, ChannelBind with
 * ChannelData, and Send/Data indications, over UDP, TCP or TLS.
 *
 * <p>Requests block the calling thread until the answer (UDP retransmits per RFC 8489 6.2.1).
 * Received data goes to the {@link #onData} handler on the client's receive thread; the
 * handler must return quickly. Permissions and channel bindings are refreshed in the
 * background before they lapse (every 4 and 8 minutes), the allocation at half its lifetime.
 *
 * <p>Thread-safe.
 */
public final class TurnClient implements AutoCloseable {
    /** The client-to-server leg. */
    public enum Protocol { UDP, TCP, TLS }

    private static final Duration RTO = StunClient.DEFAULT_RTO;
    private static final long PERMISSION_REFRESH_SECONDS = 240;
    private static final long CHANNEL_REFRESH_SECONDS = 480;
    /** Datagrams delivered in a row before the burst handler runs, so a flood cannot defer it forever. */
    static final int MAX_BURST = 64;

    /** Largest ChannelData frame: header, 65,535 bytes of data, stream padding. */
    private static final ThreadLocal<ByteBuffer> FRAME =
            ThreadLocal.withInitial(() -> ByteBuffer.allocateDirect(Turn.CHANNEL_DATA_HEADER + 0xFFFF + 3));

    /** ChannelData frames of one batch: built here, then handed to the leg in one call. */
    private static final ThreadLocal<FrameBatch> BATCH = ThreadLocal.withInitial(FrameBatch::new);

    private final TurnLeg leg;
    private final TurnCredentials credentials;
    private final ScheduledExecutorService timer;
    private final Thread receiver;
    private final Map<ByteBuffer, CompletableFuture<TurnMessage>> pending = new ConcurrentHashMap<>();
    private final Map<InetSocketAddress, Integer> channels = new ConcurrentHashMap<>();
    private final Map<Integer, InetSocketAddress> peersByChannel = new ConcurrentHashMap<>();
    private final Map<InetAddress, ScheduledFuture<?>> permissions = new ConcurrentHashMap<>();
    private final AtomicInteger nextChannel = new AtomicInteger(Turn.MIN_CHANNEL);
    private volatile BiConsumer<InetSocketAddress, ByteBuffer> dataHandler = (peer, data) -> { };
    private volatile Runnable troubleHandler = () -> { };
    private volatile Runnable burstHandler = () -> { };
    private volatile String realm;
    private volatile String nonce;
    private volatile byte[] key;
    private volatile InetSocketAddress relayed;
    private volatile InetSocketAddress mapped;
    private volatile long lifetimeSeconds;
    private volatile ScheduledFuture<?> refresh;
    private volatile boolean closed;

    private TurnClient(TurnLeg leg, TurnCredentials credentials) {
        this.leg = leg;
        this.credentials = credentials;
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "turn-client-timer");
            t.setDaemon(true);
            return t;
        });
        this.receiver = new Thread(this::receiveLoop, "turn-client-receive");
        receiver.setDaemon(true);
    }

    /**
     * Opens the leg to a TURN server; nothing is allocated yet.
     *
     * @param protocol UDP, TCP or TLS
     * @param server the TURN server's address
     * @param credentials long-term credentials (e.g. {@link TurnCredentials#mint})
     * @param tls trust for TLS, or {@code null} for the JDK default
     * @return a connected client
     * @throws IOException if the leg cannot be opened (TCP connect or TLS handshake failed)
     */
    public static TurnClient connect(Protocol protocol, InetSocketAddress server, TurnCredentials credentials, SSLContext tls)
            throws IOException {
        return connect(protocol, server, credentials, tls, false);
    }

    /**
     * As {@link #connect(Protocol, InetSocketAddress, TurnCredentials, SSLContext)}; with
     * {@code batching}, a UDP leg sends batches and receives bursts with few system calls where the
     * JVM can ({@link #batchesSends()}). Finding the socket's descriptor for that costs a scan of
     * the process's descriptors, so only the {@code turn} transport, which sends in batches, asks.
     */
    static TurnClient connect(Protocol protocol, InetSocketAddress server, TurnCredentials credentials, SSLContext tls,
                              boolean batching) throws IOException {
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(server, "server");
        Objects.requireNonNull(credentials, "credentials");
        TurnClient client = new TurnClient(TurnLeg.open(protocol, server, tls, batching), credentials);
        client.receiver.start();
        return client;
    }

    /** The leg (tests read its counters). */
    TurnLeg leg() {
        return leg;
    }

    /** @return true if {@link #trySendBatch} hands a batch to the kernel with fewer system calls than one per datagram */
    boolean batchesSends() {
        return leg.batches();
    }

    /**
     * Sets where relayed data goes: the peer's address and the data. The buffer is valid only
     * during the call (the receive buffer is reused); copy what must outlive it.
     */
    public void onData(BiConsumer<InetSocketAddress, ByteBuffer> handler) {
        this.dataHandler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Sets what runs after a burst of relayed data: once the {@link #onData} handler has been given
     * every datagram at hand (received and not yet delivered), and at the latest after
     * 64 in a row, before the receive thread waits for more. Runs on the receive
     * thread; must return quickly. A receiver that hands data to another thread can wake that
     * thread once per burst instead of once per datagram.
     */
    public void onBurstEnd(Runnable handler) {
        this.burstHandler = Objects.requireNonNull(handler, "handler");
    }

    /**
     * Sets what runs when the leg shows trouble: an ICMP port unreachable on a UDP leg (nobody
     * listens at the server's address: stopped or restarting), or a TCP/TLS leg that closed (this
     * client is then {@link #isClosed() closed}). Runs on the receive thread; must return quickly.
     * The allocation may or may not have survived: {@link #refresh(long)} tells.
     */
    public void onTrouble(Runnable handler) {
        this.troubleHandler = Objects.requireNonNull(handler, "handler");
    }

    /** @return true once closed, by {@link #close()} or because the leg failed */
    public boolean isClosed() {
        return closed;
    }

    /**
     * Refreshes the allocation now with its current lifetime: the RFC 8656 way to learn whether
     * the server still has it.
     *
     * @param giveUpMillis how long to wait for the answer (UDP retransmits within it)
     * @throws TurnException {@code 437} if the server no longer has the allocation (it restarted
     *         or the allocation expired), code 0 if it does not answer in time
     */
    public void refresh(long giveUpMillis) throws IOException {
        if (relayed == null) {
            throw new IllegalStateException("nothing allocated");
        }
        long lifetime = Math.max(lifetimeSeconds, Turn.DEFAULT_LIFETIME_SECONDS);
        request(Turn.METHOD_REFRESH, w -> w.u32(Turn.ATTR_LIFETIME, lifetime), giveUpMillis);
    }

    /**
     * Allocates a UDP relay on the server and keeps it refreshed until {@link #close()}.
     *
     * @return the relayed transport address peers send to
     * @throws TurnException if the server refuses (e.g. 401 with wrong credentials, 486 quota) or does not answer
     */
    public InetSocketAddress allocate() throws IOException {
        return allocate(0);
    }

    /**
     * Like {@link #allocate()}, asking for a lifetime.
     *
     * @param lifetimeSeconds the lifetime asked for (0 = the server's default); the server may grant less
     */
    public InetSocketAddress allocate(long lifetimeSeconds) throws IOException {
        return allocate(lifetimeSeconds, StunClient.giveUpMillis(RTO));
    }

    /**
     * Like {@link #allocate(long)}, giving up sooner than the RFC 8489 schedule's 39.5 s.
     *
     * @param lifetimeSeconds as for {@link #allocate(long)}
     * @param giveUpMillis how long each request round may wait for its answer
     */
    public InetSocketAddress allocate(long lifetimeSeconds, long giveUpMillis) throws IOException {
        TurnMessage response = request(Turn.METHOD_ALLOCATE, w -> {
            w.requestedTransport(Turn.PROTOCOL_UDP);
            if (lifetimeSeconds > 0) {
                w.u32(Turn.ATTR_LIFETIME, lifetimeSeconds);
            }
        }, giveUpMillis);
        InetSocketAddress relay = response.xorAddress(Turn.ATTR_XOR_RELAYED_ADDRESS);
        if (relay == null) {
            throw new TurnException(0, "Allocate success without XOR-RELAYED-ADDRESS");
        }
        mapped = response.xorAddress(Stun.ATTR_XOR_MAPPED_ADDRESS);
        relayed = relay;
        scheduleRefresh(response.u32(Turn.ATTR_LIFETIME));
        return relay;
    }

    private void scheduleRefresh(long granted) {
        long lifetime = granted > 0 ? granted : Turn.DEFAULT_LIFETIME_SECONDS;
        lifetimeSeconds = lifetime;
        // Half the lifetime leaves room for a lost request's whole retransmission schedule.
        refresh = timer.schedule(() -> {
            try {
                TurnMessage r = request(Turn.METHOD_REFRESH, w -> w.u32(Turn.ATTR_LIFETIME, Turn.DEFAULT_LIFETIME_SECONDS));
                scheduleRefresh(r.u32(Turn.ATTR_LIFETIME));
            } catch (IOException e) {
                // The allocation will lapse; the link layer notices the path going silent.
            }
        }, Math.max(1, lifetime / 2), TimeUnit.SECONDS);
    }

    /** @return the relayed address, or {@code null} before {@link #allocate()} */
    public InetSocketAddress relayedAddress() {
        return relayed;
    }

    /** @return the allocation lifetime the server last granted, in seconds (0 before {@link #allocate()}) */
    public long lifetimeSeconds() {
        return lifetimeSeconds;
    }

    /** @return the client's reflexive address as the server saw it, or {@code null} */
    public InetSocketAddress mappedAddress() {
        return mapped;
    }

    /**
     * Installs a permission for {@code peer}'s IP (any port), refreshed until close.
     *
     * @throws TurnException if the server refuses (403 for a forbidden peer)
     */
    public void createPermission(InetAddress peer) throws IOException {
        createPermission(peer, StunClient.giveUpMillis(RTO));
    }

    /** Like {@link #createPermission(InetAddress)}, giving up on each request round after {@code giveUpMillis}. */
    void createPermission(InetAddress peer, long giveUpMillis) throws IOException {
        Objects.requireNonNull(peer, "peer");
        request(Turn.METHOD_CREATE_PERMISSION, w -> w.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, new InetSocketAddress(peer, 0)), giveUpMillis);
        permissions.computeIfAbsent(peer, p -> timer.scheduleAtFixedRate(() -> {
            try {
                request(Turn.METHOD_CREATE_PERMISSION, w -> w.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, new InetSocketAddress(p, 0)));
            } catch (IOException e) {
                // Lapses after 300 s; the link layer notices the silence.
            }
        }, PERMISSION_REFRESH_SECONDS, PERMISSION_REFRESH_SECONDS, TimeUnit.SECONDS));
    }

    /**
     * Binds a channel to {@code peer} (which also installs a permission), refreshed until close;
     * from then on {@link #send} uses 4-byte ChannelData headers instead of 36-byte indications.
     *
     * @return the channel number
     * @throws TurnException if the server refuses
     */
    public int bindChannel(InetSocketAddress peer) throws IOException {
        return bindChannel(peer, StunClient.giveUpMillis(RTO));
    }

    /** Like {@link #bindChannel(InetSocketAddress)}, giving up on each request round after {@code giveUpMillis}. */
    int bindChannel(InetSocketAddress peer, long giveUpMillis) throws IOException {
        Objects.requireNonNull(peer, "peer");
        Integer existing = channels.get(peer);
        if (existing != null) {
            return existing;
        }
        int channel = nextChannel.getAndIncrement();
        ChannelData.checkChannel(channel);
        // Known before the request goes out: the server may relay ChannelData right behind its
        // success response, and the receive thread must not drop it while this thread wakes up.
        peersByChannel.put(channel, peer);
        try {
            request(Turn.METHOD_CHANNEL_BIND, w -> w.channelNumber(channel).xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, peer), giveUpMillis);
        } catch (IOException | RuntimeException e) {
            peersByChannel.remove(channel);
            throw e;
        }
        channels.put(peer, channel);
        timer.scheduleAtFixedRate(() -> {
            try {
                request(Turn.METHOD_CHANNEL_BIND, w -> w.channelNumber(channel).xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, peer));
            } catch (IOException e) {
                // Lapses after 600 s; the link layer notices the silence.
            }
        }, CHANNEL_REFRESH_SECONDS, CHANNEL_REFRESH_SECONDS, TimeUnit.SECONDS);
        return channel;
    }

    /**
     * Relays one datagram to {@code peer}: as ChannelData if a channel is bound, otherwise as a
     * Send indication (which needs a permission for the peer's IP). Over a UDP leg it never waits:
     * a datagram for which the socket's send buffer has no room is dropped, as a UDP socket drops
     * it; over TCP/TLS it waits for room in the stream.
     *
     * @param data position..limit is sent; the position is not moved
     */
    public void send(InetSocketAddress peer, ByteBuffer data) throws IOException {
        trySend(peer, data);
    }

    /**
     * As {@link #send}, telling whether the datagram left.
     *
     * @return false if a UDP leg's socket buffer had no room and the datagram was dropped, as a
     *         UDP socket drops it
     */
    boolean trySend(InetSocketAddress peer, ByteBuffer data) throws IOException {
        if (closed) {
            throw new IllegalStateException("TURN client closed");
        }
        Integer channel = channels.get(peer);
        if (channel != null) {
            // One frame buffer per sending thread (usually just the link's event loop): no allocation per datagram.
            ByteBuffer frame = FRAME.get().clear();
            ChannelData.write(frame, channel, data, leg.stream());
            return leg.send(frame.flip());
        } else {
            byte[] bytes = new byte[data.remaining()];
            data.duplicate().get(bytes);
            byte[] indication = new StunWriter(Turn.type(Turn.METHOD_SEND, Turn.CLASS_INDICATION), StunClient.newTransactionId())
                    .xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, peer).attribute(Turn.ATTR_DATA, bytes).build(null, false);
            return leg.send(ByteBuffer.wrap(indication));
        }
    }

    /**
     * As {@link #trySend} for {@code datagrams[offset, offset + count)} in order; once a channel is
     * bound to the peer, the ChannelData frames go to the leg as one batch (one {@code sendmmsg}
     * of segmented buffers on a batching UDP leg). Positions are not moved.
     *
     * @return how many datagrams left; the ones dropped at a full socket buffer are a suffix
     */
    int trySendBatch(InetSocketAddress peer, ByteBuffer[] datagrams, int offset, int count) throws IOException {
        if (closed) {
            throw new IllegalStateException("TURN client closed");
        }
        Integer channel = channels.get(peer);
        if (channel == null || !leg.batches()) {
            int sent = 0;
            for (int i = offset; i < offset + count; i++) {
                if (trySend(peer, datagrams[i])) {
                    sent++;
                }
            }
            return sent;
        }
        FrameBatch batch = BATCH.get();
        int sent = 0;
        int i = offset;
        int end = offset + count;
        while (i < end) {
            int frames = batch.fill(channel, datagrams, i, end);
            int accepted = leg.send(batch.frames, 0, frames);
            sent += accepted;
            if (accepted < frames) {
                break; // the socket buffer is full: the rest is dropped, as a UDP socket drops it
            }
            i += frames;
        }
        return sent;
    }

    /** One sending thread's ChannelData frames, laid out back to back in one buffer. */
    private static final class FrameBatch {
        /** Frames per leg call: what one {@code sendmmsg} of segmented messages takes. */
        static final int MAX_FRAMES = 64;
        static final int BYTES = 256 << 10;

        final ByteBuffer area = ByteBuffer.allocate(BYTES);
        final ByteBuffer[] frames = new ByteBuffer[MAX_FRAMES];

        /** @return how many of {@code datagrams[from, end)} were framed into {@link #frames}, at least one */
        int fill(int channel, ByteBuffer[] datagrams, int from, int end) {
            area.clear();
            int n = 0;
            while (from + n < end && n < MAX_FRAMES) {
                int size = Turn.CHANNEL_DATA_HEADER + datagrams[from + n].remaining();
                if (area.remaining() < size) {
                    break;
                }
                int start = area.position();
                ChannelData.write(area, channel, datagrams[from + n], false);
                ByteBuffer frame = frames[n];
                if (frame == null) {
                    frame = area.duplicate();
                    frames[n] = frame;
                }
                frame.limit(area.position()).position(start);
                n++;
            }
            return n;
        }
    }

    /** A request body: the attributes before the credentials. */
    @FunctionalInterface
    interface Body {
        void write(StunWriter writer);
    }

    TurnMessage request(int method, Body body) throws IOException {
        return request(method, body, StunClient.giveUpMillis(RTO));
    }

    /** @param giveUpMillis total time the transaction may take per round (at most the RFC 8489 schedule's 39.5 s) */
    TurnMessage request(int method, Body body, long giveUpMillis) throws IOException {
        // At most three rounds: unauthenticated -> 401 challenge -> authenticated, plus one 438 stale-nonce retry.
        for (int round = 0; round < 3; round++) {
            String usedNonce = nonce;
            byte[] txid = StunClient.newTransactionId();
            StunWriter w = new StunWriter(Turn.type(method, Turn.CLASS_REQUEST), txid);
            body.write(w);
            byte[] k = key;
            if (k != null) {
                w.string(Turn.ATTR_USERNAME, credentials.username()).string(Turn.ATTR_REALM, realm).string(Turn.ATTR_NONCE, usedNonce);
            }
            TurnMessage response = transact(txid, w.build(k, true), giveUpMillis);
            if (response.messageClass() == Turn.CLASS_SUCCESS) {
                if (k != null && response.hasIntegrity() && !response.verifyIntegrity(k)) {
                    throw new TurnException(0, "response MESSAGE-INTEGRITY does not verify: not our server, or a tampered answer");
                }
                return response;
            }
            int code = response.errorCode();
            String newNonce = response.string(Turn.ATTR_NONCE);
            if ((code == Turn.ERROR_UNAUTHENTICATED && k == null || code == Turn.ERROR_STALE_NONCE) && newNonce != null) {
                String newRealm = response.string(Turn.ATTR_REALM);
                if (newRealm != null) {
                    realm = newRealm;
                }
                if (realm == null) {
                    throw new TurnException(code, "challenge without REALM");
                }
                nonce = newNonce;
                key = StunWriter.longTermKey(credentials.username(), realm, credentials.password());
                continue;
            }
            throw new TurnException(code, "TURN method 0x" + Integer.toHexString(method) + " failed: " + code + " " + response.errorReason());
        }
        throw new TurnException(Turn.ERROR_STALE_NONCE, "server kept rejecting the nonce");
    }

    private TurnMessage transact(byte[] txid, byte[] message, long giveUpMillis) throws IOException {
        if (closed) {
            throw new IllegalStateException("TURN client closed");
        }
        ByteBuffer id = ByteBuffer.wrap(txid);
        CompletableFuture<TurnMessage> answer = new CompletableFuture<>();
        pending.put(id, answer);
        try {
            long started = System.nanoTime();
            int transmissions = leg.stream() ? 1 : StunClient.MAX_TRANSMISSIONS;
            for (int i = 0; i < transmissions; i++) {
                leg.send(ByteBuffer.wrap(message));
                long nextAt = i + 1 < transmissions ? StunClient.sendTimeMillis(i + 1, RTO) : StunClient.giveUpMillis(RTO);
                if (nextAt >= giveUpMillis) {
                    nextAt = giveUpMillis;
                    transmissions = i + 1;
                }
                long waitMillis = nextAt - (System.nanoTime() - started) / 1_000_000;
                try {
                    return answer.get(Math.max(1, waitMillis), TimeUnit.MILLISECONDS);
                } catch (TimeoutException retransmit) {
                    // Next transmission, same transaction ID.
                }
            }
            throw new TurnException(0, "no answer from the TURN server after " + (System.nanoTime() - started) / 1_000_000 + " ms");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new TurnException(0, "interrupted");
        } catch (ExecutionException e) {
            throw new TurnException(0, "TURN leg failed: " + e.getCause().getMessage());
        } finally {
            pending.remove(id);
        }
    }

    private void receiveLoop() {
        int burst = 0;
        while (!closed) {
            ByteBuffer frame;
            try {
                frame = leg.poll();
                if (frame == null) {
                    if (burst > 0) {
                        burst = 0;
                        endBurst();
                    }
                    // Nothing at hand (poll just said so): wait, then read, without a second empty read.
                    leg.await();
                    continue;
                }
            } catch (java.net.PortUnreachableException e) {
                // An ICMP error on a UDP leg may be transient (server restarting); the transaction's
                // retransmissions decide, and the owner may check the allocation.
                troubleHandler.run();
                continue;
            } catch (IOException e) {
                if (!closed) {
                    pending.values().forEach(f -> f.completeExceptionally(e));
                    closed = true;
                    troubleHandler.run();
                }
                return;
            }
            try {
                if (dispatch(frame) && ++burst == MAX_BURST) {
                    burst = 0;
                    endBurst();
                }
            } catch (StunFormatException e) {
                // Garbage on the leg: a UDP leg can receive anything; drop it.
            }
        }
    }

    private void endBurst() {
        try {
            burstHandler.run();
        } catch (RuntimeException e) {
            // The handler's problem; receiving goes on.
        }
    }

    /** @return true if data went to the data handler */
    private boolean dispatch(ByteBuffer frame) throws StunFormatException {
        if (!frame.hasRemaining()) {
            return false;
        }
        int first = frame.get(frame.position()) & 0xff;
        if (ChannelData.looksLikeChannelData(first)) {
            InetSocketAddress peer = peersByChannel.get(ChannelData.channel(frame));
            if (peer != null) {
                dataHandler.accept(peer, ChannelData.data(frame));
                return true;
            }
            return false;
        }
        TurnMessage message = new TurnMessage();
        message.decode(frame);
        if (message.messageClass() == Turn.CLASS_INDICATION) {
            if (message.method() == Turn.METHOD_DATA) {
                InetSocketAddress peer = message.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
                ByteBuffer data = message.slice(Turn.ATTR_DATA);
                if (peer != null && data != null) {
                    ByteBuffer copy = ByteBuffer.allocate(data.remaining()).put(data).flip();
                    dataHandler.accept(peer, copy);
                    return true;
                }
            }
            return false;
        }
        CompletableFuture<TurnMessage> waiting = pending.get(ByteBuffer.wrap(message.transactionId()));
        if (waiting != null) {
            waiting.complete(message);
        }
        return false;
    }

    /**
     * Releases the allocation (Refresh with LIFETIME 0, best effort) and the leg; idempotent.
     * Requests other threads are waiting on fail at once.
     */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        ScheduledFuture<?> r = refresh;
        if (r != null) {
            r.cancel(false);
        }
        if (relayed != null && receiver.isAlive()) {
            try {
                CompletableFuture.runAsync(() -> {
                    try {
                        request(Turn.METHOD_REFRESH, w -> w.u32(Turn.ATTR_LIFETIME, 0));
                    } catch (IOException | RuntimeException ignored) {
                        // Best effort: the allocation times out on the server anyway.
                    }
                }).get(2, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (ExecutionException | TimeoutException ignored) {
                // Best effort as above.
            }
        }
        closed = true;
        timer.shutdownNow();
        leg.close();
        // A request still waiting (another thread's Allocate to a server that does not answer) fails now, not at its timeout.
        IOException gone = new IOException("TURN client closed");
        pending.values().forEach(f -> f.completeExceptionally(gone));
    }
}
