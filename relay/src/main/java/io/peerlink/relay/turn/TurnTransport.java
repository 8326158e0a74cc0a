package io.peerlink.relay.turn;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;

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
    /** Largest datagram: a Data indication carrying it still fits one 65,507-byte UDP datagram. */
    static final int MAX_DATAGRAM_SIZE = 65_000;

    /** Peers whose endpoint conversions are cached. */
    private static final int PEER_CACHE = 256;

    private final InetSocketAddress server;
    private final TurnClient.Protocol leg;
    private final TransportConfig config;
    private final Set<InetAddress> permit;
    private final TransportCapabilities capabilities = TransportCapabilities.builder()
            .maxDatagramSize(MAX_DATAGRAM_SIZE).relayed(true).receiveBursts(true).build();
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
     * so the transport allocates again at once from the address the device has now (retrying as
     * after a relay restart while the network is still coming up), re-installs the permissions
     * and channels of the peers sent to, reports the new relayed endpoint through
     * {@link DatagramHandler#onLocalEndpointChanged} and releases the old allocation. A change
     * that did not affect the route to the server costs one allocation.
     */
    @Override
    public void onNetworkChanged() {
        Running r = running;
        if (r != null) {
            r.replaceSoon = true;
            r.scheduleCheck(0);
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
                r.current = r.allocate(StunClientLimits.START_GIVE_UP_MILLIS);
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
        Running r = running;
        if (r == null) {
            throw new IllegalStateException("cannot send on a TURN transport that is " + state);
        }
        if (datagram.remaining() > MAX_DATAGRAM_SIZE) {
            throw new IllegalArgumentException("datagram of " + datagram.remaining() + " bytes exceeds the TURN transport maximum of " + MAX_DATAGRAM_SIZE);
        }
        InetSocketAddress peer = r.address(remote);
        if (peer == null) {
            throw new IllegalArgumentException("TURN transport cannot send to " + remote + " (needs turn://<IPv4 literal>:<port>)");
        }
        Allocation current = r.current;
        try {
            r.upgrade(current, peer);
            return current.client.trySend(peer, datagram);
        } catch (IOException e) {
            return false;
        } catch (IllegalStateException e) {
            if (running == r) {
                // The allocation is being replaced (relay restart): a lost datagram, as on any path.
                return false;
            }
            throw new IllegalStateException("TURN transport was stopped during send", e);
        } finally {
            datagram.position(datagram.limit());
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
        static final long RETRY_MAX_MILLIS = 2_000;

        private StunClientLimits() {
        }
    }

    /** One allocation: its client, its relayed endpoint and the peers it has channels (being) bound to. */
    private record Allocation(TurnClient client, Endpoint local, Set<InetSocketAddress> bound) {
    }

    /**
     * The started transport: the current allocation, and the worker that binds channels, checks the
     * allocation and replaces it when the server lost it (a relay restart: Refresh answered 437,
     * the leg closed, or nobody answers), re-installing permissions and channels for the peers
     * sent to, then tells the handler the new relayed endpoint.
     */
    private final class Running {
        final DatagramHandler handler;
        volatile Allocation current;
        /** Every peer sent to: permitted and bound again on a new allocation. */
        final Set<InetSocketAddress> peers = ConcurrentHashMap.newKeySet();
        final java.util.concurrent.ScheduledExecutorService worker = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "turn-transport");
            t.setDaemon(true);
            return t;
        });
        private final java.util.concurrent.atomic.AtomicBoolean checkQueued = new java.util.concurrent.atomic.AtomicBoolean();
        private volatile java.util.concurrent.ScheduledFuture<?> nextCheck;
        /** When the current trouble began (nanoTime), or 0 while healthy; worker thread only. */
        private long troubleSince;
        private long retryMillis = StunClientLimits.RETRY_FIRST_MILLIS;
        private volatile boolean closed;
        /** Set by onNetworkChanged: the next check replaces the allocation without asking the server first. */
        volatile boolean replaceSoon;
        /** Endpoint and socket address of the peers seen, both ways: no parsing or allocation per datagram. */
        private final Map<Endpoint, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        private final Map<InetSocketAddress, Endpoint> endpoints = new ConcurrentHashMap<>();

        Running(DatagramHandler handler) {
            this.handler = handler;
        }

        /** Connects, allocates and permits the configured peers and those sent to so far. */
        Allocation allocate(long giveUpMillis) throws IOException {
            TurnClient client = TurnClient.connect(leg, server, credentials(), null);
            try {
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
                client.onBurstEnd(handler::onBurstEnd);
                client.onTrouble(() -> scheduleCheck(0));
                Allocation a = new Allocation(client, Endpoint.of(TurnTransportProvider.SCHEME, relayed), ConcurrentHashMap.newKeySet());
                for (InetSocketAddress peer : peers) {
                    upgrade(a, peer);
                }
                return a;
            } catch (IOException | RuntimeException e) {
                client.close();
                throw e;
            }
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
            if (closed) {
                return;
            }
            Allocation a = current;
            boolean replace = replaceSoon;
            replaceSoon = false;
            if (troubleSince == 0) {
                try {
                    if (!replace && !a.client.isClosed()) {
                        a.client.refresh(StunClientLimits.CHECK_GIVE_UP_MILLIS);
                        scheduleCheck(checkIntervalMillis);
                        return;
                    }
                } catch (IOException | RuntimeException e) {
                    // 437 (the server lost the allocation: it restarted), no answer, or the leg failed.
                }
                troubleSince = System.nanoTime();
                retryMillis = StunClientLimits.RETRY_FIRST_MILLIS;
            }
            Allocation fresh;
            try {
                fresh = allocate(StunClientLimits.CHECK_GIVE_UP_MILLIS);
            } catch (IOException | RuntimeException e) {
                long troubledMillis = (System.nanoTime() - troubleSince) / 1_000_000;
                if (troubledMillis >= reallocateTimeoutMillis) {
                    failed(this, new IOException("TURN server " + server.getAddress().getHostAddress() + ":" + server.getPort()
                            + " lost the allocation and no new one could be had for " + troubledMillis + " ms: " + e.getMessage(), e));
                    return;
                }
                scheduleCheck(retryMillis);
                retryMillis = Math.min(2 * retryMillis, StunClientLimits.RETRY_MAX_MILLIS);
                return;
            }
            if (closed) {
                fresh.client.close();
                return;
            }
            current = fresh;
            troubleSince = 0;
            // The old client's Refresh 0 may wait for a dead server: not on this thread.
            Thread closer = new Thread(a.client::close, "turn-transport-release");
            closer.setDaemon(true);
            closer.start();
            try {
                handler.onLocalEndpointChanged(a.local, fresh.local);
            } catch (RuntimeException e) {
                // The handler's problem; the transport carries on with the new allocation.
            }
            scheduleCheck(checkIntervalMillis);
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
            closed = true;
            worker.shutdownNow();
            Allocation a = current;
            if (a != null) {
                a.client.close();
            }
        }
    }
}
