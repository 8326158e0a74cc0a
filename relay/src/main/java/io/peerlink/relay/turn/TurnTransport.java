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
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

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
            .maxDatagramSize(MAX_DATAGRAM_SIZE).relayed(true).build();
    private final Object lifecycle = new Object();
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
            TurnClient client = TurnClient.connect(leg, server, credentials(), null);
            try {
                InetSocketAddress relayed = client.allocate();
                for (InetAddress p : permit) {
                    client.createPermission(p);
                }
                Running r = new Running(client, Endpoint.of(TurnTransportProvider.SCHEME, relayed));
                client.onData((peer, data) -> {
                    try {
                        handler.onDatagram(r.endpoint(peer), data);
                    } catch (RuntimeException e) {
                        // A failing handler loses this datagram only; the next one is delivered.
                    }
                });
                running = r;
                state = State.STARTED;
            } catch (IOException | RuntimeException e) {
                client.close();
                throw e;
            }
        }
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
        return r.local;
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
        try {
            r.upgrade(peer);
            r.client.send(peer, datagram);
            return true;
        } catch (IOException e) {
            return false;
        } catch (IllegalStateException e) {
            throw new IllegalStateException("TURN transport was stopped during send", e);
        } finally {
            datagram.position(datagram.limit());
        }
    }

    @Override
    public String toString() {
        Running r = running;
        return "TurnTransport[" + (r != null ? r.local : server) + ", " + leg + ", " + state + "]";
    }

    /** One allocation's client and its background channel binder. */
    private static final class Running {
        final TurnClient client;
        final Endpoint local;
        final Set<InetSocketAddress> upgrading = ConcurrentHashMap.newKeySet();
        /** Endpoint and socket address of the peers seen, both ways: no parsing or allocation per datagram. */
        private final Map<Endpoint, InetSocketAddress> addresses = new ConcurrentHashMap<>();
        private final Map<InetSocketAddress, Endpoint> endpoints = new ConcurrentHashMap<>();
        final ExecutorService binder = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "turn-transport-bind");
            t.setDaemon(true);
            return t;
        });

        Running(TurnClient client, Endpoint local) {
            this.client = client;
            this.local = local;
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

        /** First send to a peer: bind a channel (which also permits it) without making the sender wait. */
        void upgrade(InetSocketAddress peer) {
            if (upgrading.add(peer)) {
                binder.execute(() -> {
                    try {
                        client.bindChannel(peer);
                    } catch (IOException | RuntimeException e) {
                        // Stays on Send indications; a refused peer (403) gets nothing through either way.
                    }
                });
            }
        }

        void close() {
            binder.shutdownNow();
            client.close();
        }
    }
}
