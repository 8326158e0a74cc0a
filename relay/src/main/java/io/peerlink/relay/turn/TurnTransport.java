package io.peerlink.relay.turn;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.udp.BatchedDatagramChannel;

import java.io.IOException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The TURN client as a {@link Transport}: {@code start} allocates a relay (its relayed address
 * is the {@link #localEndpoint()}), {@code send} relays to a peer's address, and datagrams from
 * permitted peers reach the handler. Sending to a peer for the first time uses a Send indication
 * and binds a channel in the background, so {@code send} never waits for the server; peers
 * listed in {@link TurnOptions#PERMIT} are permitted before {@code start} returns.
 *
 * <p>Unreliable and unordered, like UDP; {@code capabilities().relayed()} is true.
 */
final class TurnTransport implements Transport {
    private static final System.Logger LOG = System.getLogger(TurnTransport.class.getName());
    /** Largest datagram: a Data indication carrying it still fits one 65,507-byte UDP datagram. */
    static final int MAX_DATAGRAM_SIZE = 65_000;

    /** Peers whose endpoint conversions are cached. */
    private static final int PEER_CACHE = 256;

    private final InetSocketAddress server;
    private final TurnClient.Protocol leg;
    private final TransportConfig config;
    private final Set<InetAddress> permit;
    /** Whether the UDP leg batches (turn.batching, and this JVM can). */
    private final boolean batching;
    private final TransportCapabilities capabilities;
    private final Object lifecycle = new Object();
    private final long checkIntervalMillis;
    private final long reallocateTimeoutMillis;
    private volatile State state = State.CREATED;
    private volatile Running running;

    TurnTransport(TransportConfig config) {
        Endpoint bind = config.bindEndpoint();
        if (!TurnTransportProvider.SCHEME.equals(bind.scheme()) || !bind.path().isEmpty() || bind.port() < 1) {
            throw new IllegalArgumentException("a TURN transport binds turn://<server-ip>:<port>, got " + bind);
        }
        InetAddress serverIp = ipLiteral(bind.host());
        if (serverIp == null) {
            throw new IllegalArgumentException("TURN server must be an IP literal: " + bind.host());
        }
        this.server = new InetSocketAddress(serverIp, bind.port());
        try {
            this.leg = TurnClient.Protocol.valueOf(config.get(TurnOptions.LEG).toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("turn.leg must be udp, tcp or tls: " + config.get(TurnOptions.LEG), e);
        }
        if (config.get(TurnOptions.SECRET).isEmpty() && config.get(TurnOptions.USERNAME).isEmpty()) {
            throw new IllegalArgumentException("a TURN transport needs turn.secret or turn.username/turn.password");
        }
        this.permit = ConcurrentHashMap.newKeySet();
        for (String ip : config.get(TurnOptions.PERMIT).split(",")) {
            if (!ip.isBlank()) {
                InetAddress a = ipLiteral(ip.strip());
                if (a == null) {
                    throw new IllegalArgumentException("turn.permit entries must be IP literals: " + ip);
                }
                permit.add(a);
            }
        }
        this.checkIntervalMillis = config.get(TurnOptions.CHECK_INTERVAL_MILLIS);
        this.reallocateTimeoutMillis = config.get(TurnOptions.REALLOCATE_TIMEOUT_MILLIS);
        if (checkIntervalMillis < 100 || reallocateTimeoutMillis < 0) {
            throw new IllegalArgumentException("turn.checkIntervalMillis must be >= 100 and turn.reallocateTimeoutMillis >= 0: "
                    + checkIntervalMillis + ", " + reallocateTimeoutMillis);
        }
        this.config = config;
        this.batching = leg == TurnClient.Protocol.UDP && config.get(TurnOptions.BATCHING)
                && BatchedDatagramChannel.unavailableReason() == null;
        this.capabilities = TransportCapabilities.builder().maxDatagramSize(MAX_DATAGRAM_SIZE).relayed(true)
                .receiveBursts(true).batchSend(batching).build();
    }

    private static InetAddress ipLiteral(String host) {
        if (host.isEmpty() || !(Character.digit(host.charAt(0), 16) >= 0 || host.charAt(0) == ':' || host.charAt(0) == '[')) {
            return null;
        }
        boolean v4 = host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        boolean v6 = host.indexOf(':') >= 0;
        if (!v4 && !v6) {
            return null;
        }
        try {
            return InetAddress.getByName(host); // a literal: no name lookup happens
        } catch (UnknownHostException e) {
            return null;
        }
    }

    private TurnCredentials credentials() {
        String secret = config.get(TurnOptions.SECRET);
        if (!secret.isEmpty()) {
            return TurnCredentials.mint(secret, config.get(TurnOptions.DEVICE_ID), Instant.now().plusSeconds(3600));
        }
        return new TurnCredentials(config.get(TurnOptions.USERNAME), config.get(TurnOptions.PASSWORD));
    }

    /**
     * The device's network changed: replace the allocation now. Its client leg was opened from the
     * old address, which may be gone; waiting for a Refresh to time out on it would cost seconds,
     * so the transport starts a new allocation at once from the address the device has now. An
     * attempt already under way (started at an earlier change, when the device may have had no
     * address at all) is abandoned, not waited for: its requests fail at once and its result, if
     * any, is dropped. Failed attempts are retried 20, 40, 80 ... ms later (the route may come up
     * after the address). The new allocation gets the permissions and channels of the peers sent
     * to before {@link DatagramHandler#onLocalEndpointChanged} reports it; the old allocation is
     * released in the background (from a vanished address the release never arrives, and the
     * server lets it expire). A change that did not affect the route to the server costs one
     * allocation.
     */
    @Override
    public void onNetworkChanged() {
        Running r = running;
        if (r != null) {
            r.replace(true);
        }
    }

    /**
     * Connects to the TURN server, allocates and installs the configured permissions.
     *
     * @throws IOException if the server cannot be reached or refuses (a {@link TurnException})
     */
    @Override
    public void start(DatagramHandler handler) throws IOException {
        Objects.requireNonNull(handler, "handler");
        synchronized (lifecycle) {
            if (state == State.STARTED || state == State.DESTROYED) {
                throw new IllegalStateException("cannot start a TURN transport that is " + state);
            }
            Running r = new Running(handler);
            try {
                r.current = r.allocate(StunClientLimits.START_GIVE_UP_MILLIS, client -> true);
            } catch (IOException | RuntimeException e) {
                r.close();
                throw e;
            }
            running = r;
            state = State.STARTED;
            r.scheduleCheck(checkIntervalMillis);
        }
    }

    /** The transport failed on its own: no allocation could be had within the re-allocation timeout. */
    private void failed(Running r, IOException cause) {
        synchronized (lifecycle) {
            if (running != r) {
                return;
            }
            running = null;
            state = State.STOPPED;
        }
        r.close();
        r.handler.onTransportFailure(cause);
    }

    @Override
    public void stop() {
        synchronized (lifecycle) {
            if (state != State.STARTED) {
                return;
            }
            running.close();
            running = null;
            state = State.STOPPED;
        }
    }

    @Override
    public void destroy() {
        synchronized (lifecycle) {
            if (state == State.STARTED) {
                running.close();
                running = null;
            }
            state = State.DESTROYED;
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
            throw new IllegalStateException("TURN transport has no relayed endpoint while " + state);
        }
        return r.current.local;
    }

    @Override
    public TransportCapabilities capabilities() {
        return capabilities;
    }

    @Override
    public boolean supports(Endpoint remote) {
        Objects.requireNonNull(remote, "remote");
        return peer(remote) != null;
    }

    private static InetSocketAddress peer(Endpoint remote) {
        if (!TurnTransportProvider.SCHEME.equals(remote.scheme()) || !remote.path().isEmpty() || remote.port() < 1) {
            return null;
        }
        InetAddress ip = ipLiteral(remote.host());
        // Relays are allocated as IPv4 (RFC 8656 default address family).
        return ip instanceof Inet4Address ? new InetSocketAddress(ip, remote.port()) : null;
    }

    /**
     * @throws NullPointerException if an argument is null
     * @throws IllegalStateException if not STARTED
     * @throws IllegalArgumentException if the datagram exceeds {@link #MAX_DATAGRAM_SIZE} or the endpoint is not a {@code turn} IPv4 address
     */
    @Override
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Objects.requireNonNull(remote, "remote");
        Objects.requireNonNull(datagram, "datagram");
        Running r = started();
        if (datagram.remaining() > MAX_DATAGRAM_SIZE) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds the TURN transport maximum of " + MAX_DATAGRAM_SIZE);
        }
        try {
            return relay(r, remote, datagram, null, 0, 1) == 1;
        } finally {
            datagram.position(datagram.limit());
        }
    }

    /**
     * As the default, except that once a channel is bound to the peer a batching UDP leg sends the
     * batch's ChannelData frames with one {@code sendmmsg} of segmented buffers.
     *
     * @throws NullPointerException if an argument or one of the datagrams to send is null
     * @throws IndexOutOfBoundsException if offset and count do not select a range of the array
     * @throws IllegalStateException if not STARTED
     * @throws IllegalArgumentException if a datagram exceeds {@link #MAX_DATAGRAM_SIZE} or the endpoint is not a {@code turn} IPv4 address
     */
    @Override
    public int sendBatch(Endpoint remote, ByteBuffer[] datagrams, int offset, int count) {
        Transport.checkBatch(remote, datagrams, offset, count, MAX_DATAGRAM_SIZE);
        Running r = started();
        try {
            return relay(r, remote, null, datagrams, offset, count);
        } finally {
            for (int i = offset; i < offset + count; i++) {
                datagrams[i].position(datagrams[i].limit());
            }
        }
    }

    private Running started() {
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send on a TURN transport that is " + state);
        }
        return r;
    }

    /**
     * Relays {@code single}, or else {@code batch[offset, offset + count)}, to the peer through the
     * current allocation, binding a channel to it in the background on first use.
     *
     * @return how many datagrams left
     */
    private int relay(Running r, Endpoint remote, ByteBuffer single, ByteBuffer[] batch, int offset, int count) {
        InetSocketAddress peer = r.address(remote);
        if (peer == null) {
            throw new IllegalArgumentException("TURN transport cannot send to " + remote + " (needs turn://<IPv4 literal>:<port>)");
        }
        Allocation current = r.current;
        r.sent();
        try {
            r.upgrade(current, peer);
            if (single != null) {
                return current.client.trySend(peer, single) ? 1 : 0;
            }
            return current.client.trySendBatch(peer, batch, offset, count);
        } catch (IOException e) {
            return 0;
        } catch (IllegalStateException e) {
            if (running == r) {
                // The allocation is being replaced (relay restart): lost datagrams, as on any path.
                return 0;
            }
            throw new IllegalStateException("TURN transport was stopped during send", e);
        }
    }

    @Override
    public String toString() {
        Running r = running;
        return "TurnTransport[" + (r != null ? r.current.local : server) + ", " + leg + ", " + state + "]";
    }

    /** Time limits of the transport's requests. */
    private static final class StunClientLimits {
        /** The first Allocate waits the RFC 8489 schedule's whole 39.5 s, as any TURN client. */
        static final long START_GIVE_UP_MILLIS = 39_500;
        /** A health check or a re-allocation attempt gives up sooner: a link is waiting. */
        static final long CHECK_GIVE_UP_MILLIS = 2_000;
        /** Backoff between re-allocation attempts, doubling from the first to the cap. */
        static final long RETRY_FIRST_MILLIS = 100;
        /**
         * After a network change the retries start at 20 ms and stop doubling at 200 ms: the route to
         * the server may follow the new address by milliseconds, and a failed attempt then costs one
         * connect() that the kernel refuses at once.
         */
        static final long RETRY_AFTER_CHANGE_MILLIS = 20;
        static final long RETRY_AFTER_CHANGE_MAX_MILLIS = 200;
        static final long RETRY_MAX_MILLIS = 2_000;
        /**
         * Sending for this long with nothing relayed back makes the transport ask the server whether
         * it still has the allocation (a Refresh; one per this interval at most): a relay that
         * restarted silently drops the old allocation's ChannelData, so without this only the
         * periodic check would notice.
         */
        static final long SILENCE_CHECK_NANOS = 1_000_000_000L;

        private StunClientLimits() {
        }
    }

    /** One allocation: its client, its relayed endpoint and the peers it has channels (being) bound to. */
    private record Allocation(TurnClient client, Endpoint local, Set<InetSocketAddress> bound) {
    }

    /**
     * The started transport: the current allocation; the worker that binds channels and checks the
     * allocation; and the attempts that replace it when the server lost it (a relay restart:
     * Refresh answered 437, the leg closed, or nobody answers) or the device's network changed.
     * Only the newest attempt counts: starting one abandons the one under way. The winner
     * re-installs permissions and channels for the peers sent to, then becomes current and the
     * handler learns the new relayed endpoint.
     */
    private final class Running {
        final DatagramHandler handler;
        volatile Allocation current;
        /** Every peer sent to: permitted and bound again on a new allocation. */
        final Set<InetSocketAddress> peers = ConcurrentHashMap.newKeySet();
        /** Periodic checks and channel binds; each may wait up to CHECK_GIVE_UP_MILLIS for the server. */
        final java.util.concurrent.ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(daemon("turn-transport"));
        /** Re-allocation attempts, one thread each while it lasts: an abandoned attempt never holds up the next. */
        final java.util.concurrent.ExecutorService attempts = Executors.newCachedThreadPool(daemon("turn-transport-allocate"));
        /** Retry timers only (never blocks). */
        final java.util.concurrent.ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(daemon("turn-transport-timer"));
        private final java.util.concurrent.atomic.AtomicBoolean checkQueued = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile java.util.concurrent.ScheduledFuture<?> nextCheck;
        /** Serialises installing a new allocation and telling the handler, so the handler sees the changes in order. */
        private final Object commitLock = new Object();
        // Guarded by this:
        /** Number of the newest re-allocation attempt; a newer one abandons the older. */
        private long generation;
        /** The newest attempt's client once connected, or null. */
        private TurnClient attempting;
        /** True while an attempt runs or waits for its retry. */
        private boolean replacing;
        /** When the current trouble began (nanoTime). */
        private long troubleSince;
        private long retryMillis = StunClientLimits.RETRY_FIRST_MILLIS;
        private long retryMaxMillis = StunClientLimits.RETRY_MAX_MILLIS;
        /** Why the replacement under way started, when, and how many attempts it took so far (for the log). */
        private String replaceReason = "";
        private int attemptCount;
        private volatile boolean closed;
        /** nanoTime of the first send since data was last relayed to us (or since sending paused), or 0; of the last send; of the last check that silence asked for. */
        private volatile long unansweredSince;
        private volatile long lastSentAt;
        private volatile long silenceCheckedAt;
        /** Endpoint and socket address of the peers seen, both ways: no parsing or allocation per datagram. */
        private final Map<Endpoint, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        private final Map<InetSocketAddress, Endpoint> endpoints = new ConcurrentHashMap<>();

        Running(DatagramHandler handler) {
            this.handler = handler;
        }

        private static java.util.concurrent.ThreadFactory daemon(String name) {
            return r -> {
                Thread t = new Thread(r, name);
                t.setDaemon(true);
                return t;
            };
        }

        /**
         * Connects, allocates and permits the configured peers and binds channels to those sent to so far.
         *
         * @param adopt told the connected client before anything is requested; false abandons the attempt
         */
        Allocation allocate(long giveUpMillis, java.util.function.Predicate<TurnClient> adopt) throws IOException {
            TurnClient client = TurnClient.connect(leg, server, credentials(), null, batching);
            try {
                if (!adopt.test(client)) {
                    throw new IOException("re-allocation abandoned for a newer one");
                }
                InetSocketAddress relayed = client.allocate(0, giveUpMillis);
                for (InetAddress p : permit) {
                    client.createPermission(p);
                }
                if (config.get(TurnOptions.PERMIT_RELAYED) && !permit.contains(relayed.getAddress())) {
                    permitInBackground(client, relayed.getAddress());
                }
                client.onData((peer, data) -> {
                    try {
                        handler.onDatagram(endpoint(peer), data);
                    } catch (RuntimeException e) {
                        // A failing handler loses this datagram only; the next one is delivered.
                    }
                });
                client.onBurstEnd(() -> {
                    unansweredSince = 0;
                    handler.onBurstEnd();
                });
                client.onTrouble(() -> scheduleCheck(0));
                Allocation a = new Allocation(client, Endpoint.of(TurnTransportProvider.SCHEME, relayed), ConcurrentHashMap.newKeySet());
                // Before the new relayed endpoint is announced: the peers' packets are let in, and ours out, from the first.
                for (InetSocketAddress peer : peers) {
                    if (a.bound.add(peer)) {
                        try {
                            client.bindChannel(peer, StunClientLimits.CHECK_GIVE_UP_MILLIS);
                        } catch (TurnException e) {
                            // Refused (403) or unanswered: Send indications, as for a first send.
                        }
                    }
                }
                return a;
            } catch (IOException | RuntimeException e) {
                client.close();
                throw e;
            }
        }

        /** A datagram is being sent: after a second of sending with nothing relayed back, check the allocation. */
        void sent() {
            long now = System.nanoTime();
            long since = unansweredSince;
            if (since == 0 || now - lastSentAt > StunClientLimits.SILENCE_CHECK_NANOS) {
                unansweredSince = now; // the first send since data came, or since the link went idle
            } else if (now - since > StunClientLimits.SILENCE_CHECK_NANOS && now - silenceCheckedAt > StunClientLimits.SILENCE_CHECK_NANOS) {
                silenceCheckedAt = now;
                scheduleCheck(0);
            }
            lastSentAt = now;
        }

        /** Queues a check in {@code delayMillis}, unless one is queued that runs no later (an earlier one replaces it). */
        synchronized void scheduleCheck(long delayMillis) {
            if (closed) {
                return;
            }
            java.util.concurrent.ScheduledFuture<?> pending = nextCheck;
            if (checkQueued.get() && pending != null && !pending.isDone()
                    && pending.getDelay(TimeUnit.MILLISECONDS) <= delayMillis) {
                return;
            }
            if (pending != null) {
                pending.cancel(false);
            }
            checkQueued.set(true);
            try {
                nextCheck = worker.schedule(this::check, delayMillis, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Closed meanwhile.
            }
        }

        /** Worker thread: is the allocation alive? If not, replace it. */
        private void check() {
            checkQueued.set(false);
            synchronized (this) {
                if (closed || replacing) {
                    return; // the attempt under way decides
                }
            }
            Allocation a = current;
            try {
                if (!a.client.isClosed()) {
                    a.client.refresh(StunClientLimits.CHECK_GIVE_UP_MILLIS);
                    scheduleCheck(checkIntervalMillis);
                    return;
                }
            } catch (IOException | RuntimeException e) {
                // 437 (the server lost the allocation: it restarted), no answer, or the leg failed.
            }
            if (current == a) {
                replace(false);
            }
        }

        /**
         * Starts a re-allocation attempt now. After a network change it abandons the attempt under
         * way; otherwise it leaves a running one alone.
         */
        void replace(boolean networkChanged) {
            long g;
            TurnClient abandoned;
            synchronized (this) {
                if (closed || replacing && !networkChanged) {
                    return;
                }
                if (!replacing) {
                    troubleSince = System.nanoTime();
                }
                retryMillis = networkChanged ? StunClientLimits.RETRY_AFTER_CHANGE_MILLIS : StunClientLimits.RETRY_FIRST_MILLIS;
                retryMaxMillis = networkChanged ? StunClientLimits.RETRY_AFTER_CHANGE_MAX_MILLIS : StunClientLimits.RETRY_MAX_MILLIS;
                replaceReason = networkChanged ? "the network changed" : "the server lost the allocation or did not answer";
                attemptCount = 0;
                replacing = true;
                g = ++generation;
                abandoned = attempting;
                attempting = null;
            }
            if (abandoned != null) {
                abandoned.close(); // never allocated, or its result is dropped: fails its requests at once
            }
            launch(g);
        }

        private void launch(long g) {
            try {
                attempts.execute(() -> attempt(g));
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Closed meanwhile.
            }
        }

        private synchronized boolean adopt(long g, TurnClient client) {
            if (closed || g != generation) {
                return false;
            }
            attempting = client;
            return true;
        }

        /** An attempt's thread: allocate, then install the allocation, or retry / give up. */
        private void attempt(long g) {
            synchronized (this) {
                attemptCount++;
            }
            Allocation fresh;
            try {
                fresh = allocate(StunClientLimits.CHECK_GIVE_UP_MILLIS, client -> adopt(g, client));
            } catch (IOException | RuntimeException e) {
                retryOrFail(g, e);
                return;
            }
            Allocation old = null;
            synchronized (commitLock) {
                long troubledMillis;
                int tries;
                String reason;
                synchronized (this) {
                    troubledMillis = (System.nanoTime() - troubleSince) / 1_000_000;
                    tries = attemptCount;
                    reason = replaceReason;
                    if (!closed && g == generation) {
                        old = current;
                        current = fresh;
                        attempting = null;
                        replacing = false;
                    }
                }
                if (old == null) {
                    release(fresh.client); // abandoned for a newer attempt, or closed
                    return;
                }
                release(old.client);
                Endpoint previous = old.local;
                LOG.log(System.Logger.Level.DEBUG, () -> "allocation replaced (" + reason + "): " + previous + " -> " + fresh.local
                        + " in " + troubledMillis + " ms, " + tries + (tries == 1 ? " attempt" : " attempts"));
                try {
                    handler.onLocalEndpointChanged(old.local, fresh.local);
                } catch (RuntimeException e) {
                    // The handler's problem; the transport carries on with the new allocation.
                }
            }
            scheduleCheck(checkIntervalMillis);
        }

        private void retryOrFail(long g, Exception e) {
            long delay;
            long troubledMillis;
            synchronized (this) {
                if (closed || g != generation) {
                    return; // abandoned: a newer attempt runs
                }
                attempting = null;
                troubledMillis = (System.nanoTime() - troubleSince) / 1_000_000;
                delay = retryMillis;
                retryMillis = Math.min(2 * retryMillis, retryMaxMillis);
            }
            if (troubledMillis >= reallocateTimeoutMillis) {
                failed(this, new IOException("TURN server " + server.getAddress().getHostAddress() + ":" + server.getPort()
                        + " lost the allocation and no new one could be had for " + troubledMillis + " ms: " + e.getMessage(), e));
                return;
            }
            try {
                timer.schedule(() -> {
                    synchronized (this) {
                        if (closed || g != generation) {
                            return;
                        }
                    }
                    launch(g);
                }, delay, TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closedMeanwhile) {
                // Nothing to retry for.
            }
        }

        /** Releases an allocation off the caller's thread: its Refresh 0 may wait for a server that is gone. */
        private void release(TurnClient client) {
            Thread closer = new Thread(client::close, "turn-transport-release");
            closer.setDaemon(true);
            closer.start();
        }

        /** @return the socket address of a {@code turn} endpoint, or null if it names no IPv4 peer */
        InetSocketAddress address(Endpoint remote) {
            InetSocketAddress a = addresses.get(remote);
            if (a == null) {
                a = peer(remote);
                if (a != null && addresses.size() < PEER_CACHE) {
                    addresses.put(remote, a);
                }
            }
            return a;
        }

        Endpoint endpoint(InetSocketAddress peer) {
            Endpoint e = endpoints.get(peer);
            if (e == null) {
                e = Endpoint.of(TurnTransportProvider.SCHEME, peer);
                // Only permitted peers reach here, so the cache stays small; the bound is a backstop.
                if (endpoints.size() < PEER_CACHE) {
                    endpoints.put(peer, e);
                }
            }
            return e;
        }

        /** Worker thread: permits {@code peer} on the allocation; a failure leaves the first send to it to ask again. */
        private void permitInBackground(TurnClient client, InetAddress peer) {
            try {
                worker.execute(() -> {
                    try {
                        // Bounded: this worker also checks the allocation, and must not sit 39.5 s on a dead server.
                        client.createPermission(peer, StunClientLimits.CHECK_GIVE_UP_MILLIS);
                    } catch (IOException | RuntimeException e) {
                        // A first send to a peer at that address requests the permission again (with its channel).
                    }
                });
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // Closed meanwhile.
            }
        }

        /** First send to a peer: bind a channel (which also permits it) without making the sender wait. */
        void upgrade(Allocation a, InetSocketAddress peer) {
            if (a.bound.add(peer)) {
                if (peers.size() < PEER_CACHE) {
                    peers.add(peer);
                }
                try {
                    worker.execute(() -> {
                        try {
                            // Bounded: this worker also checks the allocation, and must not sit 39.5 s on a dead server.
                            a.client.bindChannel(peer, StunClientLimits.CHECK_GIVE_UP_MILLIS);
                        } catch (IOException | RuntimeException e) {
                            // Stays on Send indications; a refused peer (403) gets nothing through either way.
                        }
                    });
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // Closed meanwhile.
                }
            }
        }

        void close() {
            TurnClient abandoned;
            synchronized (this) {
                closed = true;
                abandoned = attempting;
                attempting = null;
            }
            worker.shutdownNow();
            timer.shutdownNow();
            attempts.shutdownNow();
            if (abandoned != null) {
                abandoned.close();
            }
            Allocation a = current;
            if (a != null) {
                a.client.close();
            }
        }
    }
}
