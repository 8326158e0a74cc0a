package io.peerlink.core.internal.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.DeviceId;
import io.peerlink.PeerLinkException;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import io.peerlink.protocol.rendezvous.Role;
import io.peerlink.protocol.rendezvous.ServerPin;
import io.peerlink.spi.ControlCarrier;

import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.X509ExtendedTrustManager;

import java.net.ConnectException;
import java.net.Socket;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A device's control connection to a rendezvous server (protocol v1, docs/protocol-rendezvous.md)
 * over the JDK's WebSocket client, or over a {@link ControlCarrier} (e.g. MQTT topics through a
 * broker, for devices that reach nothing else; docs/protocol-rendezvous.md, "The MQTT carrier"): authenticates with the device key, publishes candidates,
 * answers keepalives, measures the control RTT, asks for and answers introductions, and
 * reconnects with exponential backoff and jitter (250 ms doubling, capped at 30 s), registering
 * again by itself after a server restart.
 *
 * <p>Security (docs/security.md): the hello signature covers the server name this client
 * dialed, so a server cannot replay it elsewhere; over {@code wss://} the server's key can be
 * pinned ({@link ServerPin}); an {@code introduce} is taken only for a connect this client sent
 * (INITIATOR, same peer) or an incoming request it accepted (RESPONDER, same peer) — anything
 * else is answered with {@code UNKNOWN_REQUEST} and dropped.
 *
 * <p>Threads: all state lives on one private scheduler thread; WebSocket callbacks only hand
 * messages to it. {@link Listener} callbacks run on a separate private thread, so a listener
 * may block or call back into this client without deadlocking the connection.
 */
public final class RendezvousClient implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(RendezvousClient.class.getName());
    private static final long BACKOFF_BASE_MS = 250;
    private static final long BACKOFF_CAP_MS = 30_000;
    private static final Duration REGISTER_TIMEOUT = Duration.ofSeconds(15);
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(30);
    private static final long START_NANOS = System.nanoTime();
    private static final int MAX_ACCEPTED = 1024;
    /** Link reports: at most one per this gap (the server drops closer ones), and a refresh this often while they change. */
    static final long LINK_REPORT_MIN_GAP_MS = 1_100;
    static final long LINK_REPORT_PERIOD_MS = 10_000;

    /** Receives what the server asks of and tells this device. */
    public interface Listener {
        /**
         * Target side: a peer wants to connect; call {@code decision.accept()} or {@code decision.reject(reason)}.
         *
         * @param from the requesting device
         * @param decision how to answer
         */
        void onIncoming(DeviceId from, IncomingDecision decision);

        /**
         * Target side, after accepting: the introduction (the requester gets it from {@link #connect(DeviceId)}).
         *
         * @param introduction the peer, its candidates, token, connection IDs and start delay
         */
        void onIntroduction(Introduction introduction);

        /** @param state the new connection state */
        default void onStateChange(Rendezvous.State state) {
        }

        /** @param peer a device this one was introduced to lost its control connection */
        default void onPeerOffline(DeviceId peer) {
        }

        /**
         * The peer of an introduction sent late candidates (its relayed address).
         *
         * @param requestId the introduction's {@link Introduction#requestId()}
         * @param candidates the candidates, untrusted
         */
        default void onTrickle(long requestId, List<Candidate> candidates) {
        }
    }

    private final URI server;
    private final String serverName;
    private final ServerPin pin;
    private final DeviceIdentity identity;
    private final Map<String, String> claims;
    private final Listener listener;
    private final RendezvousCodec codec = new RendezvousCodec();
    private final HttpClient http;
    /** The HTTP proxy the WebSocket tunnels through, or null. */
    private final InetSocketAddress proxy;
    /** Opens the tunnel where the JDK's client cannot (Basic credentials on CONNECT, SOCKS5), or null. */
    private final ProxyTunnel authTunnel;
    /** "the HTTP proxy host:port" or "the SOCKS5 proxy host:port", or null. */
    private final String proxyLabel;
    /** Why the server's certificate was last refused (not trusted, wrong host), or null. */
    private volatile String trustFailure;
    private final ScheduledExecutorService loop;
    private final ExecutorService callbacks;

    /** Opens a control connection over a carrier other than the WebSocket ({@code mqtt://}...), or null for ws/wss. */
    private final java.util.function.Function<ControlCarrier.Receiver, CompletionStage<ControlCarrier>> carrier;

    // Loop-thread state.
    private ControlLink socket;
    /** The candidates the last hello carried. */
    private List<Candidate> helloCandidates = List.of();
    private int generation;
    private int attempts;
    private boolean started;
    private List<Candidate> candidates = List.of();
    /** Every send, text or binary, chains on this (the JDK WebSocket allows one outstanding send); guarded by sendLock. */
    private CompletableFuture<Void> sendChain = CompletableFuture.completedFuture(null);
    private final Object sendLock = new Object();
    /** The admitted connection relay frames go out on, or null (any thread reads it). */
    private volatile WebSocket relaySocket;
    /** Relay frame bytes handed to the WebSocket and not yet sent. */
    private final java.util.concurrent.atomic.AtomicLong relayQueued = new java.util.concurrent.atomic.AtomicLong();
    /** Datagrams of relay frames from the server: (peer, datagram), on the WebSocket's thread. */
    private volatile java.util.function.BiConsumer<DeviceId, java.nio.ByteBuffer> relayReceiver;
    /** Relay frame bytes queued at most; beyond, frames are dropped like datagrams on a full socket buffer. */
    static final long MAX_RELAY_QUEUED = 512 * 1024;
    private long nextRequestId = 1;
    private final Map<Long, PendingConnect> connects = new HashMap<>();
    private final Map<Long, CompletableFuture<Boolean>> presences = new HashMap<>();
    /** Incoming requests this device accepted and whose introduction is due, by request ID: the peer expected. */
    private final Map<Long, DeviceId> accepted = new HashMap<>();
    private boolean everRegistered;
    /** The resumption ticket and secret from this server's last welcome that carried one (protocol 2.1), or null. */
    private String ticket;
    private byte[] resumptionSecret;
    private boolean resumeSent;
    private volatile String pinFailure;
    private ScheduledFuture<?> keepaliveTask;
    /** Where link reports come from (docs/protocol-rendezvous.md, "Link reports"); null = none sent. */
    private volatile java.util.function.Supplier<List<Message.LinkReport.Link>> linkSource;
    private List<Message.LinkReport.Link> lastLinkReport;
    private long lastLinkReportNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
    private ScheduledFuture<?> pendingLinkReport;
    private ScheduledFuture<?> linkReportTask;
    private ScheduledFuture<?> watchdog;
    private long lastHeardNanos;
    private long keepaliveMillis = 15_000;

    private volatile Rendezvous.State state = Rendezvous.State.CONNECTING;
    private volatile CompletableFuture<Void> registered = new CompletableFuture<>();
    /** Why the control connection last failed; null once registered. */
    private volatile PeerLinkException lastFailure;
    private volatile double srttMillis = -1;

    private record PendingConnect(DeviceId target, CompletableFuture<Introduction> result, ScheduledFuture<?> timeout) {
    }

    /**
     * @param server the control URI, e.g. {@code ws://192.0.2.1:8080/peerlink/v1}
     * @param identity this device's identity
     * @param claims claims for the authenticator, e.g. {@code network}
     * @param listener receives incoming requests and introductions
     */
    public RendezvousClient(URI server, DeviceIdentity identity, Map<String, String> claims, Listener listener) {
        this(server, null, identity, claims, listener);
    }

    /**
     * @param server the control URI, {@code ws://} or {@code wss://}
     * @param pin for {@code wss://}: accept only a server key with this pin (instead of the JDK's
     *        certificate authorities and host-name check); null to use the JDK's default trust
     * @param identity this device's identity
     * @param claims claims for the authenticator, e.g. {@code network}
     * @param listener receives incoming requests and introductions
     * @throws IllegalArgumentException if a pin is given for a {@code ws://} URI
     */
    public RendezvousClient(URI server, ServerPin pin, DeviceIdentity identity, Map<String, String> claims, Listener listener) {
        this(server, pin, identity, claims, listener, null);
    }

    /**
     * @param server the control URI: {@code ws://} or {@code wss://}, or the scheme of {@code carrier}
     * @param pin as above, only for {@code wss://}
     * @param identity this device's identity
     * @param claims claims for the authenticator
     * @param listener receives incoming requests and introductions
     * @param carrier opens one control connection over another carrier (e.g. MQTT topics,
     *        {@link io.peerlink.spi.ControlCarrierProvider}) each time this client (re)connects;
     *        null for the WebSocket
     */
    public RendezvousClient(URI server, ServerPin pin, DeviceIdentity identity, Map<String, String> claims, Listener listener,
                            java.util.function.Function<ControlCarrier.Receiver, CompletionStage<ControlCarrier>> carrier) {
        this(server, pin, null, identity, claims, listener, carrier);
    }

    /**
     * As {@link #RendezvousClient(URI, ServerPin, DeviceIdentity, Map, Listener, java.util.function.Function)},
     * through an HTTP proxy.
     *
     * @param proxy an HTTP proxy the WebSocket tunnels through ({@code CONNECT host:port}, for
     *        {@code ws://} and {@code wss://} alike; TLS stays end to end with the server), or null
     *        to connect directly; only for ws/wss
     * @throws IllegalArgumentException if a proxy is given with a carrier
     */
    public RendezvousClient(URI server, ServerPin pin, InetSocketAddress proxy, DeviceIdentity identity, Map<String, String> claims,
                            Listener listener,
                            java.util.function.Function<ControlCarrier.Receiver, CompletionStage<ControlCarrier>> carrier) {
        this(server, new Connection(pin, List.of(), proxy, false, null, null), identity, claims, listener, carrier);
    }

    /**
     * How the WebSocket reaches the server.
     *
     * @param pin for {@code wss://}: the server key pin, or null
     * @param trustedCas for {@code wss://} without a pin: certificate authorities trusted in
     *        addition to the JDK's (e.g. a TLS-inspecting proxy's); empty for none
     * @param proxy an HTTP or SOCKS5 proxy, or null
     * @param socks true if {@code proxy} is a SOCKS5 proxy
     * @param proxyUser the proxy's user name (HTTP Basic, or SOCKS5 user name and password), or null for none
     * @param proxyPassword its password, or null; never printed
     */
    public record Connection(ServerPin pin, List<X509Certificate> trustedCas, InetSocketAddress proxy, boolean socks, String proxyUser,
                             char[] proxyPassword) {
        public Connection {
            trustedCas = List.copyOf(trustedCas);
            if (proxyUser != null && (proxy == null || proxyPassword == null)) {
                throw new IllegalArgumentException("proxy credentials need a proxy and a password");
            }
            proxyPassword = proxyPassword == null ? null : proxyPassword.clone();
        }

        @Override
        public String toString() {
            return "Connection[pin=" + pin + ", trustedCas=" + trustedCas.size() + ", proxy=" + proxy + (socks ? " (SOCKS5)" : "")
                    + ", proxyUser=" + proxyUser
                    + (proxyPassword != null ? ", proxyPassword=***" : "") + "]";
        }
    }

    /**
     * The general form of the constructors above.
     *
     * @param server the control URI: {@code ws://} or {@code wss://}, or the scheme of {@code carrier}
     * @param connection pin, extra CAs, proxy and proxy credentials (all only for ws/wss)
     * @param identity this device's identity
     * @param claims claims for the authenticator
     * @param listener receives incoming requests and introductions
     * @param carrier as above, or null for the WebSocket
     * @throws IllegalArgumentException if a proxy is given with a carrier, a pin or CAs with a non-wss URI
     */
    public RendezvousClient(URI server, Connection connection, DeviceIdentity identity, Map<String, String> claims,
                            Listener listener,
                            java.util.function.Function<ControlCarrier.Receiver, CompletionStage<ControlCarrier>> carrier) {
        this.server = Objects.requireNonNull(server, "server");
        ServerPin pin = connection.pin();
        InetSocketAddress proxy = connection.proxy();
        this.proxy = proxy;
        if (!connection.trustedCas().isEmpty() && !"wss".equalsIgnoreCase(server.getScheme())) {
            throw new IllegalArgumentException("extra rendezvous CAs need a wss:// rendezvous URI, got " + server);
        }
        if (proxy != null && carrier != null) {
            throw new IllegalArgumentException("an HTTP proxy applies to ws:// and wss:// rendezvous URIs only, got " + server);
        }
        this.carrier = carrier;
        this.serverName = Handshake.serverName(server);
        this.pin = pin;
        if (pin != null && !"wss".equalsIgnoreCase(server.getScheme())) {
            throw new IllegalArgumentException("a server pin needs a wss:// rendezvous URI, got " + server);
        }
        this.identity = Objects.requireNonNull(identity, "identity");
        this.claims = Map.copyOf(Objects.requireNonNull(claims, "claims"));
        this.listener = Objects.requireNonNull(listener, "listener");
        String name = "peerlink-rendezvous-" + identity.id().shortForm();
        this.loop = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, name));
        this.callbacks = Executors.newSingleThreadExecutor(r -> daemon(r, name + "-callbacks"));
        HttpClient.Builder hb = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(loop);
        if (pin != null) {
            hb.sslContext(pinnedContext(pin));
        } else if ("wss".equalsIgnoreCase(server.getScheme())) {
            hb.sslContext(trustingContext(connection.trustedCas()));
        }
        this.proxyLabel = proxy == null ? null : (connection.socks() ? "the SOCKS5 proxy " : "the HTTP proxy ") + proxy.getHostString()
                + ":" + proxy.getPort();
        if (proxy != null && (connection.proxyUser() != null || connection.socks())) {
            try {
                authTunnel = new ProxyTunnel(proxy, connection.socks(), connection.proxyUser(), connection.proxyPassword(), tunnelTarget());
            } catch (java.io.IOException e) {
                throw new IllegalStateException("cannot bind a loopback port for the proxy tunnel: " + e.getMessage(), e);
            }
            hb.proxy(java.net.ProxySelector.of(authTunnel.address()));
        } else if (proxy != null) {
            authTunnel = null;
            hb.proxy(java.net.ProxySelector.of(proxy));
        } else {
            authTunnel = null;
        }
        this.http = hb.build();
    }

    /** The {@code host:port} a proxy tunnels to. */
    private String tunnelTarget() {
        return server.getHost() + ":" + (server.getPort() >= 0 ? server.getPort() : "wss".equalsIgnoreCase(server.getScheme()) ? 443 : 80);
    }

    /**
     * A TLS context that trusts the JDK's certificate authorities plus {@code extra}, checks the
     * host name as usual, and remembers why a server certificate was refused, for
     * {@link #describe}.
     */
    private SSLContext trustingContext(List<X509Certificate> extra) {
        try {
            javax.net.ssl.TrustManagerFactory jdk = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            jdk.init((java.security.KeyStore) null);
            java.security.KeyStore anchors = java.security.KeyStore.getInstance(java.security.KeyStore.getDefaultType());
            anchors.load(null, null);
            int n = 0;
            for (javax.net.ssl.TrustManager tm : jdk.getTrustManagers()) {
                if (tm instanceof javax.net.ssl.X509TrustManager x) {
                    for (X509Certificate ca : x.getAcceptedIssuers()) {
                        anchors.setCertificateEntry("jdk-" + n++, ca);
                    }
                }
            }
            for (X509Certificate ca : extra) {
                anchors.setCertificateEntry("extra-" + n++, ca);
            }
            javax.net.ssl.TrustManagerFactory combined = javax.net.ssl.TrustManagerFactory.getInstance(
                    javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
            combined.init(anchors);
            X509ExtendedTrustManager delegate = null;
            for (javax.net.ssl.TrustManager tm : combined.getTrustManagers()) {
                if (tm instanceof X509ExtendedTrustManager x) {
                    delegate = x;
                }
            }
            if (delegate == null) {
                throw new IllegalStateException("the JDK's PKIX trust manager is missing");
            }
            X509ExtendedTrustManager pkix = delegate;
            boolean haveExtra = !extra.isEmpty();
            return context(new ServerTrust() {
                @Override
                void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine) throws CertificateException {
                    try {
                        if (engine != null) {
                            pkix.checkServerTrusted(chain, authType, engine);
                        } else if (socket != null) {
                            pkix.checkServerTrusted(chain, authType, socket);
                        } else {
                            pkix.checkServerTrusted(chain, authType);
                        }
                    } catch (CertificateException e) {
                        String issuer = chain == null || chain.length == 0 ? "nobody" : chain[chain.length - 1].getIssuerX500Principal()
                                .getName(javax.security.auth.x500.X500Principal.RFC2253);
                        boolean untrusted = e.getMessage() != null && e.getMessage().contains("PKIX");
                        String what = untrusted ? "no trusted certificate authority issued it" : String.valueOf(e.getMessage());
                        trustFailure = "the TLS certificate " + server.getHost() + " presented is not trusted (" + what + "; issuer '"
                                + issuer + "'): if a TLS-inspecting proxy re-signs the connection, trust its CA with --rendezvous-ca "
                                + "<ca.pem> (Device.Builder.rendezvousCa)" + (haveExtra ? "; the configured extra CAs do not cover it" : "");
                        throw e;
                    }
                }

                @Override
                public X509Certificate[] getAcceptedIssuers() {
                    return pkix.getAcceptedIssuers();
                }
            });
        } catch (GeneralSecurityException | java.io.IOException e) {
            throw new IllegalStateException("cannot set up the JDK's TLS trust: " + e.getMessage(), e);
        }
    }

    /**
     * A TLS context that trusts exactly the pinned key. The pin replaces both the CA check and the
     * host-name check: it names the key itself, which is stronger than either.
     */
    private SSLContext pinnedContext(ServerPin expected) {
        return context(new ServerTrust() {
            @Override
            void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine) throws CertificateException {
                if (chain == null || chain.length == 0) {
                    throw new CertificateException("the server sent no certificate");
                }
                if (!expected.matches(chain[0])) {
                    String why = "server certificate key " + ServerPin.of(chain[0]) + " does not match the pinned " + expected
                            + " for " + server;
                    pinFailure = why;
                    throw new CertificateException(why);
                }
            }
        });
    }

    private static SSLContext context(X509ExtendedTrustManager trust) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(null, new javax.net.ssl.TrustManager[] {trust}, new SecureRandom());
            return context;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("the JDK has no TLS context", e);
        }
    }

    /** A trust manager for a device's TLS client: server chains go to {@link #check}, client chains are refused. */
    private abstract static class ServerTrust extends X509ExtendedTrustManager {
        /** @param socket the socket, or null; @param engine the engine, or null */
        abstract void check(X509Certificate[] chain, String authType, Socket socket, SSLEngine engine) throws CertificateException;

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            check(chain, authType, socket, null);
        }

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            check(chain, authType, null, engine);
        }

        @Override
        public final void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            check(chain, authType, null, null);
        }

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
            throw new CertificateException("a device does not accept TLS clients");
        }

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
            throw new CertificateException("a device does not accept TLS clients");
        }

        @Override
        public final void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
            throw new CertificateException("a device does not accept TLS clients");
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    /** Connects, authenticates and registers; reconnects by itself from then on. Idempotent. */
    public void start() {
        loop.execute(() -> {
            if (!started && state != Rendezvous.State.CLOSED) {
                started = true;
                connectNow();
            }
        });
    }

    /**
     * The device's address changed: a control connection opened from the old address is dead
     * (or soon will be) although nothing has told it yet. Drops it and reconnects after the first
     * backoff step (about 125–250 ms); registering again sends the candidates then current. A
     * client already reconnecting is left alone. Any thread.
     *
     * @param why logged as the reason
     */
    public void reconnectNow(String why) {
        loop.execute(() -> {
            if (started && state != Rendezvous.State.CLOSED && state != Rendezvous.State.RECONNECTING) {
                attempts = 0;
                disconnected(generation, why);
            }
        });
    }

    /** @return the connection state */
    public Rendezvous.State state() {
        return state;
    }

    /**
     * @return completes when registered (at once if it is); fails if admission is refused, the
     *         client closes, or — before the first registration — a connection attempt fails
     *         (the message names the cause, e.g. {@code connection refused to ws://...}); the
     *         client keeps reconnecting and a later call returns a fresh stage
     */
    public CompletionStage<Void> registered() {
        return registered.minimalCompletionStage();
    }

    /** @param newCandidates the device's candidates now; sent at once and again after every reconnect */
    public void updateCandidates(List<Candidate> newCandidates) {
        List<Candidate> copy = List.copyOf(newCandidates);
        loop.execute(() -> {
            candidates = copy;
            if (state == Rendezvous.State.REGISTERED) {
                send(new Message.Candidates(copy));
            }
        });
    }

    /**
     * Sends late candidates to the peer of an introduction (through the server).
     *
     * @param requestId the introduction's {@link Introduction#requestId()}
     * @param late the candidates
     */
    public void trickle(long requestId, List<Candidate> late) {
        List<Candidate> copy = List.copyOf(late);
        loop.execute(() -> {
            if (state == Rendezvous.State.REGISTERED) {
                send(new Message.Trickle(requestId, copy));
            }
        });
    }

    /**
     * Makes this client send {@code link-report}s: after every (re)registration, soon after
     * {@link #linksChanged()}, and every 10 s while the report changes; never more than one per
     * 1.1 s, and never the same report twice in a row.
     *
     * @param source called on the client's thread; returns the device's links now (at most
     *               {@code RendezvousCodec.MAX_LINKS}, one per peer)
     */
    public void reportLinks(java.util.function.Supplier<List<Message.LinkReport.Link>> source) {
        linkSource = Objects.requireNonNull(source, "source");
        linksChanged();
    }

    /** A link opened, closed or changed path: a report goes out within about a second. */
    public void linksChanged() {
        if (linkSource != null) {
            loop.execute(this::scheduleLinkReport);
        }
    }

    private void scheduleLinkReport() {
        if (state != Rendezvous.State.REGISTERED || pendingLinkReport != null || linkSource == null) {
            return;
        }
        long sinceMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastLinkReportNanos);
        pendingLinkReport = loop.schedule(() -> {
            pendingLinkReport = null;
            sendLinkReport();
        }, Math.max(0, LINK_REPORT_MIN_GAP_MS - sinceMillis), TimeUnit.MILLISECONDS);
    }

    private void sendLinkReport() {
        java.util.function.Supplier<List<Message.LinkReport.Link>> source = linkSource;
        if (state != Rendezvous.State.REGISTERED || source == null) {
            return;
        }
        if (TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - lastLinkReportNanos) < LINK_REPORT_MIN_GAP_MS) {
            scheduleLinkReport();
            return;
        }
        List<Message.LinkReport.Link> now;
        try {
            now = List.copyOf(source.get());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "collecting the link report failed", e);
            return;
        }
        if (now.equals(lastLinkReport)) {
            return;
        }
        send(new Message.LinkReport(now.size() > RendezvousCodec.MAX_LINKS ? now.subList(0, RendezvousCodec.MAX_LINKS) : now));
        lastLinkReport = now;
        lastLinkReportNanos = System.nanoTime();
    }

    /**
     * Asks the server to introduce this device to {@code target}.
     *
     * @param target the peer
     * @return the introduction; fails with {@link UnreachableException} (OFFLINE, DENIED, UNKNOWN,
     *         REJECTED, TIMEOUT) or {@link PeerLinkException} if the control connection is lost or closed
     */
    public CompletionStage<Introduction> connect(DeviceId target) {
        Objects.requireNonNull(target, "target");
        CompletableFuture<Introduction> result = new CompletableFuture<>();
        PeerLinkException down = lastFailure;
        if (state != Rendezvous.State.REGISTERED && down != null) {
            // Fail fast with the cause (refused, DNS, TLS): waiting for the next reconnection
            // attempt could take up to the backoff cap (30 s).
            result.completeExceptionally(noRendezvous(target, down));
            return result;
        }
        // Bounds the whole call, including waiting for registration while the server is unreachable.
        guard(result, () -> new UnreachableException(target, UnreachableException.Reason.TIMEOUT,
                "no answer within " + CONNECT_TIMEOUT.toSeconds() + " s (control connection " + state + ")", lastFailure));
        registered.whenComplete((ok, failure) -> {
            if (failure != null) {
                Throwable f = failure instanceof java.util.concurrent.CompletionException && failure.getCause() != null
                        ? failure.getCause() : failure;
                result.completeExceptionally(f instanceof UnreachableException ? f : noRendezvous(target, f));
                return;
            }
            loop.execute(() -> {
                if (state != Rendezvous.State.REGISTERED) {
                    result.completeExceptionally(new PeerLinkException("not registered with " + server + " (" + state + ")"));
                    return;
                }
                long id = nextRequestId++;
                ScheduledFuture<?> timeout = loop.schedule(() -> {
                    PendingConnect p = connects.remove(id);
                    if (p != null) {
                        p.result.completeExceptionally(new UnreachableException(target, UnreachableException.Reason.TIMEOUT,
                                "no answer from the rendezvous server within " + CONNECT_TIMEOUT.toSeconds() + " s"));
                    }
                }, CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                connects.put(id, new PendingConnect(target, result, timeout));
                send(new Message.Connect(id, target));
            });
        });
        return result;
    }

    /**
     * @param peer the peer
     * @return true if it is online and this device may reach it
     */
    public CompletionStage<Boolean> isOnline(DeviceId peer) {
        Objects.requireNonNull(peer, "peer");
        CompletableFuture<Boolean> result = new CompletableFuture<>();
        guard(result, () -> new PeerLinkException("no presence answer for " + peer + " within " + CONNECT_TIMEOUT.toSeconds()
                + " s (control connection " + state + ")"));
        registered.whenComplete((ok, failure) -> {
            if (failure != null) {
                result.completeExceptionally(failure);
                return;
            }
            loop.execute(() -> {
                if (state != Rendezvous.State.REGISTERED) {
                    result.completeExceptionally(new PeerLinkException("not registered with " + server + " (" + state + ")"));
                    return;
                }
                long id = nextRequestId++;
                presences.put(id, result);
                send(new Message.Presence(id, peer));
            });
        });
        return result;
    }

    private static UnreachableException noRendezvous(DeviceId target, Throwable cause) {
        return new UnreachableException(target, UnreachableException.Reason.NO_RENDEZVOUS, cause.getMessage(), cause);
    }

    /** @return why the last control connection ended or failed, or null while registered */
    public PeerLinkException lastFailure() {
        return lastFailure;
    }

    private void guard(CompletableFuture<?> result, java.util.function.Supplier<? extends RuntimeException> failure) {
        try {
            ScheduledFuture<?> timer = loop.schedule(() -> {
                result.completeExceptionally(failure.get());
            }, CONNECT_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            result.whenComplete((v, f) -> timer.cancel(false));
        } catch (java.util.concurrent.RejectedExecutionException e) {
            result.completeExceptionally(new PeerLinkException("rendezvous client closed"));
        }
    }

    /** @return the smoothed control-connection round-trip time, {@link Duration#ZERO} until measured */
    public Duration controlRtt() {
        double s = srttMillis;
        return s < 0 ? Duration.ZERO : Duration.ofNanos((long) (s * 1_000_000));
    }

    /** @return the server's control URI */
    public URI server() {
        return server;
    }

    /** @return this device's ID */
    public DeviceId deviceId() {
        return identity.id();
    }

    // ---------------------------------------------------------------- connection lifecycle (loop thread)

    private void connectNow() {
        if (state == Rendezvous.State.CLOSED) {
            return;
        }
        int gen = ++generation;
        resumeSent = false;
        if (registered.isDone()) {
            registered = new CompletableFuture<>();
        }
        synchronized (sendLock) {
            sendChain = CompletableFuture.completedFuture(null);
        }
        relaySocket = null;
        watchdog = loop.schedule(() -> {
            if (gen == generation && state != Rendezvous.State.REGISTERED && state != Rendezvous.State.CLOSED) {
                disconnected(gen, "not registered within " + REGISTER_TIMEOUT.toSeconds() + " s");
            }
        }, REGISTER_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        if (carrier != null) {
            connectCarrier(gen);
            return;
        }
        trustFailure = null;
        WebSocket.Builder wsb = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(10));
        if (authTunnel != null) {
            authTunnel.clearFailure();
            // A Proxy- header goes to the proxy's CONNECT only (the JDK strips it inside the tunnel).
            wsb.header(ProxyTunnel.TOKEN_HEADER, authTunnel.token());
        }
        wsb.buildAsync(server, new SocketListener(gen))
                .whenCompleteAsync((ws, failure) -> {
                    if (failure != null) {
                        String why = describe(failure);
                        if (!everRegistered && gen == generation) {
                            // Fail fast: whoever waits for the first registration learns the cause now
                            // (refused, unresolvable, wrong pin) instead of at a timeout. Reconnecting goes on.
                            registered.completeExceptionally(new PeerLinkException(why));
                        }
                        disconnected(gen, why);
                    } else if (gen != generation || state == Rendezvous.State.CLOSED) {
                        ws.abort();
                    }
                }, loop);
    }

    /** Opens a control connection over the configured carrier (loop thread). */
    private void connectCarrier(int gen) {
        CarrierLink link = new CarrierLink(gen);
        CompletionStage<ControlCarrier> opening;
        try {
            opening = carrier.apply(link);
        } catch (RuntimeException e) {
            opening = CompletableFuture.failedFuture(e);
        }
        // whenComplete (not async): the carrier is known before any message of it can reach the loop.
        opening.whenComplete((c, failure) -> {
            if (c != null) {
                link.carrier = c;
            }
            loop.execute(() -> {
                if (failure != null) {
                    String why = describe(failure);
                    if (!everRegistered && gen == generation) {
                        registered.completeExceptionally(new PeerLinkException(why));
                    }
                    disconnected(gen, why);
                } else if (gen != generation || state == Rendezvous.State.CLOSED) {
                    c.close();
                } else if (socket == null) {
                    socket = link;
                    lastHeardNanos = System.nanoTime();
                }
            });
        });
    }

    /** One line naming the cause of a failed connection attempt, e.g. "connection refused to ws://...". */
    private String describe(Throwable failure) {
        String pinned = pinFailure;
        if (pinned != null) {
            return pinned;
        }
        String atProxy = authTunnel == null ? null : authTunnel.lastFailure();
        if (atProxy != null) {
            return atProxy;
        }
        String untrusted = trustFailure;
        if (untrusted != null) {
            return untrusted;
        }
        Throwable root = failure;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof SSLHandshakeException || root instanceof ConnectException
                    || root instanceof java.net.http.HttpConnectTimeoutException) {
                // the JDK wraps a refused connect's ClosedChannelException in a ConnectException, and
                // a ConnectException in the HttpConnectTimeoutException of a connect that timed out
                break;
            }
            root = root.getCause();
        }
        if (proxy != null) {
            String viaProxy = describeProxyFailure(root);
            if (viaProxy != null) {
                return viaProxy;
            }
        }
        if (root instanceof ConnectException) {
            return "connection refused to " + server;
        }
        if (root instanceof java.nio.channels.UnresolvedAddressException || root instanceof java.net.UnknownHostException) {
            return "cannot resolve the host of " + server;
        }
        if (root instanceof java.net.http.HttpConnectTimeoutException) {
            return "no answer from " + server + " within 10 s (connect timed out)";
        }
        if (root instanceof SSLHandshakeException) {
            return "TLS handshake with " + server + " failed: " + root.getMessage();
        }
        if (root instanceof java.net.http.WebSocketHandshakeException) {
            return server + " is not a PeerLink rendezvous endpoint (WebSocket upgrade refused)";
        }
        return "cannot connect to " + server + ": " + (root.getMessage() == null ? root.toString() : root.getMessage());
    }

    /** The one-line cause of a failure that the HTTP proxy is to blame for, or null. */
    private String describeProxyFailure(Throwable root) {
        String p = proxyLabel;
        String target = server.getHost() + ":" + (server.getPort() >= 0 ? server.getPort() : "wss".equalsIgnoreCase(server.getScheme()) ? 443 : 80);
        String message = root.getMessage() == null ? "" : root.getMessage();
        // The JDK's HTTP client connects to the proxy first: a refused or silent connect is the proxy's.
        if (root instanceof ConnectException) {
            return "connection refused by " + p + " (proxy for " + server + ")";
        }
        if (root instanceof java.net.http.HttpConnectTimeoutException) {
            return "no answer from " + p + " within 10 s (proxy for " + server + ")";
        }
        if (root instanceof java.nio.channels.UnresolvedAddressException || root instanceof java.net.UnknownHostException) {
            return "cannot resolve " + p + " or " + server.getHost();
        }
        java.util.regex.Matcher tunnel = java.util.regex.Pattern.compile("Tunnel failed, got: (\\d+)").matcher(message);
        if (tunnel.find()) {
            return p + " refused to tunnel to " + target + " (HTTP " + tunnel.group(1) + " to CONNECT)";
        }
        boolean handshake407 = root instanceof java.net.http.WebSocketHandshakeException h && h.getResponse() != null
                && h.getResponse().statusCode() == 407;
        if (handshake407 || java.util.regex.Pattern.compile("\\b407\\b").matcher(message).find()) {
            return p + " wants credentials (HTTP 407): give them as http://user:password@host:port in --proxy or "
                    + "HTTPS_PROXY/HTTP_PROXY (Device.Builder.rendezvousProxy(proxy, user, password))";
        }
        if (root instanceof java.io.EOFException || message.contains("EOF") || message.contains("closed")) {
            return p + " closed the connection while tunnelling to " + target;
        }
        return null;
    }

    private void disconnected(int gen, String why) {
        if (gen != generation || state == Rendezvous.State.CLOSED) {
            return;
        }
        generation++;
        LOG.log(System.Logger.Level.DEBUG, () -> identity.id().shortForm() + ": control connection lost: " + why);
        lastFailure = new PeerLinkException(why);
        ControlLink ws = socket;
        socket = null;
        relaySocket = null;
        if (ws != null) {
            ws.abort();
        }
        cancelTimers();
        failPending(new PeerLinkException("control connection to " + server + " lost: " + why));
        if (registered.isDone()) {
            registered = new CompletableFuture<>();
        }
        setState(Rendezvous.State.RECONNECTING);
        long ceiling = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS << Math.min(attempts, 20));
        attempts++;
        // Full jitter in [ceiling/2, ceiling]: devices that lost the same server do not return in lockstep.
        long delay = ceiling / 2 + ThreadLocalRandom.current().nextLong(ceiling / 2 + 1);
        loop.schedule(this::connectNow, delay, TimeUnit.MILLISECONDS);
    }

    private void cancelTimers() {
        if (linkReportTask != null) {
            linkReportTask.cancel(false);
            linkReportTask = null;
        }
        if (keepaliveTask != null) {
            keepaliveTask.cancel(false);
            keepaliveTask = null;
        }
        if (watchdog != null) {
            watchdog.cancel(false);
            watchdog = null;
        }
    }

    private void failPending(PeerLinkException cause) {
        for (PendingConnect p : connects.values()) {
            p.timeout.cancel(false);
            p.result.completeExceptionally(cause);
        }
        connects.clear();
        accepted.clear();
        for (CompletableFuture<Boolean> f : presences.values()) {
            f.completeExceptionally(cause);
        }
        presences.clear();
    }

    private void setState(Rendezvous.State next) {
        if (state == next) {
            return;
        }
        state = next;
        callbacks.execute(() -> {
            try {
                listener.onStateChange(next);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "listener.onStateChange failed", e);
            }
        });
    }

    private void send(Message message) {
        ControlLink ws = socket;
        if (ws == null) {
            return;
        }
        String text = codec.encode(message);
        int gen = generation;
        // The JDK WebSocket allows one outstanding send: chain them.
        synchronized (sendLock) {
            sendChain = sendChain.thenCompose(v -> ws.sendText(text)).thenApply(w -> (Void) null)
                    .whenCompleteAsync((v, failure) -> {
                        if (failure != null) {
                            disconnected(gen, "send failed: " + failure);
                        }
                    }, loop);
        }
    }

    // ---------------------------------------------------------------- relay frames (any thread)

    /**
     * @param receiver gets the datagram of every relay frame the server sends, with the peer it
     *        came from, on the WebSocket's thread (docs/protocol-rendezvous.md, "Relay frames")
     */
    public void onRelayFrame(java.util.function.BiConsumer<DeviceId, java.nio.ByteBuffer> receiver) {
        this.relayReceiver = receiver;
    }

    /**
     * Sends a datagram to a peer through the server's WebSocket relay. Any thread.
     *
     * @param peer the device it is for
     * @param datagram the datagram (remaining bytes; copied)
     * @return false if it was dropped: not registered, or more than {@link #MAX_RELAY_QUEUED} bytes waiting
     */
    public boolean sendRelay(DeviceId peer, java.nio.ByteBuffer datagram) {
        WebSocket ws = relaySocket;
        if (ws == null || datagram.remaining() > io.peerlink.protocol.rendezvous.RelayFrame.MAX_PAYLOAD) {
            return false;
        }
        java.nio.ByteBuffer frame = io.peerlink.protocol.rendezvous.RelayFrame.encode(peer, datagram);
        long size = frame.remaining();
        if (relayQueued.addAndGet(size) > MAX_RELAY_QUEUED) {
            relayQueued.addAndGet(-size);
            return false;
        }
        synchronized (sendLock) {
            sendChain = sendChain.thenCompose(v -> ws.sendBinary(frame, true)).handle((w, failure) -> {
                relayQueued.addAndGet(-size);
                // A failed send also fails the next text send, which reconnects; here it is a lost datagram.
                return (Void) null;
            });
        }
        return true;
    }

    // ---------------------------------------------------------------- protocol (loop thread)

    private void onMessage(int gen, String text) {
        if (gen != generation || state == Rendezvous.State.CLOSED) {
            return;
        }
        lastHeardNanos = System.nanoTime();
        Message message;
        try {
            message = codec.decode(text);
        } catch (ProtocolException e) {
            LOG.log(System.Logger.Level.WARNING, () -> identity.id().shortForm() + ": bad message from " + server + ": " + e.getMessage());
            send(new Message.Error(e.code(), e.getMessage(), null));
            return;
        }
        if (message instanceof Message.Challenge c) {
            helloCandidates = candidates;
            if (ticket != null && !resumeSent) {
                // Re-admission with the ticket this server gave: it checks an HMAC instead of a signature.
                resumeSent = true;
                send(new Message.Resume(Handshake.VERSION, identity.id(), serverName, ticket,
                        Handshake.resumeProof(resumptionSecret, c.nonce(), identity.id(), serverName), claims, candidates));
                return;
            }
            byte[] signature = identity.sign(Handshake.signedPayload(c.nonce(), identity.id(), serverName));
            send(new Message.Hello(Handshake.VERSION, identity.id(), identity.rawPublicKey(), signature, serverName, claims, candidates));
        } else if (message instanceof Message.Welcome w) {
            if (w.ticket() != null) {
                ticket = w.ticket();
                resumptionSecret = w.resumptionSecret();
            }
            attempts = 0;
            lastFailure = null;
            everRegistered = true;
            if (watchdog != null) {
                watchdog.cancel(false);
            }
            keepaliveMillis = w.keepaliveSeconds() * 1000L;
            keepaliveTask = loop.scheduleWithFixedDelay(() -> keepalive(gen), keepaliveMillis, keepaliveMillis, TimeUnit.MILLISECONDS);
            setState(Rendezvous.State.REGISTERED);
            if (!candidates.equals(helloCandidates)) {
                // Candidates changed while the hello was in flight (STUN answered meanwhile).
                send(new Message.Candidates(candidates));
            }
            send(new Message.Ping(monotonicMicros()));
            // A new connection (perhaps a restarted server) knows none of this device's links: report them again,
            // at once and before any relay frame, so the WebSocket relay carries the links on (docs/relay.md).
            lastLinkReport = null;
            if (linkSource != null) {
                if (pendingLinkReport != null) {
                    pendingLinkReport.cancel(false);
                    pendingLinkReport = null;
                }
                lastLinkReportNanos = System.nanoTime() - TimeUnit.HOURS.toNanos(1);
                sendLinkReport();
                linkReportTask = loop.scheduleWithFixedDelay(this::sendLinkReport, LINK_REPORT_PERIOD_MS, LINK_REPORT_PERIOD_MS,
                        TimeUnit.MILLISECONDS);
            }
            relaySocket = socket instanceof WebSocketLink l ? l.ws() : null; // relay frames ride only on the WebSocket
            registered.complete(null);
        } else if (message instanceof Message.Ping p) {
            send(new Message.Pong(p.t()));
        } else if (message instanceof Message.Pong p) {
            long sample = monotonicMicros() - p.t();
            // t is in microseconds: loopback and LAN round trips are well below a millisecond.
            if (sample >= 0 && sample < 60_000_000L) {
                double ms = sample / 1000.0;
                double s = srttMillis;
                srttMillis = s < 0 ? ms : s * 7 / 8 + ms / 8;
            }
        } else if (message instanceof Message.Incoming in) {
            onIncoming(gen, in);
        } else if (message instanceof Message.Introduce in) {
            onIntroduce(in);
        } else if (message instanceof Message.Unreachable u) {
            PendingConnect p = connects.remove(u.requestId());
            if (p != null) {
                p.timeout.cancel(false);
                p.result.completeExceptionally(new UnreachableException(u.to(), u.reason(), u.message()));
            }
        } else if (message instanceof Message.PresenceResult r) {
            CompletableFuture<Boolean> f = presences.remove(r.requestId());
            if (f != null) {
                f.complete(r.online());
            }
        } else if (message instanceof Message.Trickle t) {
            callbacks.execute(() -> listener.onTrickle(t.requestId(), t.candidates()));
        } else if (message instanceof Message.PeerOffline o) {
            callbacks.execute(() -> listener.onPeerOffline(o.peer()));
        } else if (message instanceof Message.Error e) {
            onError(gen, e);
        } else {
            LOG.log(System.Logger.Level.DEBUG, () -> "ignoring " + message.getClass().getSimpleName() + " from the server");
        }
    }

    private void onIntroduce(Message.Introduce in) {
        Introduction intro = new Introduction(in.peer(), in.peerCandidates(), in.sessionToken(), in.localConnectionId(),
                in.remoteConnectionId(), in.role() == Role.INITIATOR ? Introduction.Role.INITIATOR : Introduction.Role.RESPONDER,
                Duration.ofMillis(in.startInMillis()), in.requestId(), in.relayServers());
        if (in.role() == Role.INITIATOR) {
            PendingConnect p = connects.get(in.requestId());
            if (p == null || !p.target.equals(in.peer())) {
                refuseIntroduction(in, "this device has no pending connect " + in.requestId() + " to " + in.peer());
                return;
            }
            connects.remove(in.requestId());
            p.timeout.cancel(false);
            p.result.complete(intro);
        } else {
            DeviceId expected = accepted.get(in.requestId());
            if (expected == null || !expected.equals(in.peer())) {
                // A server (or a ws:// man in the middle) must not open links the application never accepted.
                refuseIntroduction(in, "this device did not accept an incoming request " + in.requestId() + " from " + in.peer());
                return;
            }
            accepted.remove(in.requestId());
            callbacks.execute(() -> {
                try {
                    listener.onIntroduction(intro);
                } catch (RuntimeException e) {
                    LOG.log(System.Logger.Level.WARNING, "listener.onIntroduction failed", e);
                }
            });
        }
    }

    private void refuseIntroduction(Message.Introduce in, String why) {
        LOG.log(System.Logger.Level.WARNING, () -> identity.id().shortForm() + ": refused an introduction from " + server + ": " + why);
        send(new Message.Error(ErrorCode.UNKNOWN_REQUEST, "introduction refused: " + why, in.requestId()));
    }

    private void onError(int gen, Message.Error e) {
        LOG.log(System.Logger.Level.INFO, () -> identity.id().shortForm() + ": server error " + e.code() + ": " + e.message());
        if (resumeSent && state != Rendezvous.State.REGISTERED) {
            // The ticket was not taken (expired, server key changed, or a server without tickets): forget it; a fresh
            // challenge (or the next connection) gets a signed hello.
            ticket = null;
            resumptionSecret = null;
        }
        if (state != Rendezvous.State.REGISTERED && isAdmissionFailure(e.code())) {
            registered.completeExceptionally(new PeerLinkException("rendezvous server " + server + " refused device "
                    + identity.id() + ": " + e.code() + " (" + e.message() + ")"));
        }
        if (e.requestId() != null) {
            PendingConnect p = connects.remove(e.requestId());
            if (p != null) {
                p.timeout.cancel(false);
                p.result.completeExceptionally(new PeerLinkException("server error " + e.code() + ": " + e.message()));
            }
        }
    }

    private static boolean isAdmissionFailure(ErrorCode code) {
        return code == ErrorCode.DENIED || code == ErrorCode.BAD_SIGNATURE || code == ErrorCode.KEY_MISMATCH || code == ErrorCode.WRONG_SERVER
                || code == ErrorCode.UNSUPPORTED_VERSION;
    }

    private void onIncoming(int gen, Message.Incoming in) {
        AtomicBoolean decided = new AtomicBoolean();
        IncomingDecision decision = new IncomingDecision() {
            @Override
            public void accept() {
                if (decided.compareAndSet(false, true)) {
                    loop.execute(() -> {
                        if (gen == generation) {
                            if (accepted.size() >= MAX_ACCEPTED) {
                                accepted.clear(); // a server that never introduces must not grow this map
                            }
                            accepted.put(in.requestId(), in.from());
                            send(new Message.Accept(in.requestId()));
                        }
                    });
                }
            }

            @Override
            public void reject(String reason) {
                String r = reason == null ? "" : reason.length() > RendezvousCodec.MAX_TEXT ? reason.substring(0, RendezvousCodec.MAX_TEXT) : reason;
                if (decided.compareAndSet(false, true)) {
                    loop.execute(() -> {
                        if (gen == generation) {
                            send(new Message.Reject(in.requestId(), r));
                        }
                    });
                }
            }
        };
        callbacks.execute(() -> {
            try {
                listener.onIncoming(in.from(), decision);
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "listener.onIncoming failed; rejecting", e);
                decision.reject("device error");
            }
        });
    }

    private void keepalive(int gen) {
        if (gen != generation) {
            return;
        }
        if (System.nanoTime() - lastHeardNanos > TimeUnit.MILLISECONDS.toNanos(3 * keepaliveMillis)) {
            disconnected(gen, "server silent for 3 keepalive intervals");
            return;
        }
        send(new Message.Ping(monotonicMicros()));
    }

    private static long monotonicMicros() {
        return TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - START_NANOS);
    }

    /** Closes the control connection; pending requests fail. Idempotent; callable from any thread, including listeners. */
    @Override
    public void close() {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            loop.execute(() -> {
                if (state != Rendezvous.State.CLOSED) {
                    generation++;
                    cancelTimers();
                    PeerLinkException closed = new PeerLinkException("rendezvous client closed");
                    failPending(closed);
                    registered.completeExceptionally(closed);
                    setState(Rendezvous.State.CLOSED);
                    ControlLink ws = socket;
                    socket = null;
                    if (ws != null) {
                        ws.closeGracefully();
                    }
                }
                done.complete(null);
            });
            if (!Thread.currentThread().getName().startsWith("peerlink-rendezvous-")) {
                done.get(2, TimeUnit.SECONDS);
            }
        } catch (java.util.concurrent.RejectedExecutionException e) {
            return; // already shut down
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.log(System.Logger.Level.DEBUG, "close did not finish in time", e);
        }
        loop.schedule(() -> {
            loop.shutdown();
            callbacks.shutdown();
            if (authTunnel != null) {
                authTunnel.close();
            }
        }, 1500, TimeUnit.MILLISECONDS);
    }

    /** One open control connection, whatever carries it. */
    private interface ControlLink {
        /** @return completes when the message was handed on; one outstanding send at a time (the caller chains them) */
        CompletionStage<?> sendText(String text);

        /** Drops the connection at once. */
        void abort();

        /** Tells the server, then drops the connection. */
        void closeGracefully();
    }

    private record WebSocketLink(WebSocket ws) implements ControlLink {
        @Override
        public CompletionStage<?> sendText(String text) {
            return ws.sendText(text, true);
        }

        @Override
        public void abort() {
            ws.abort();
        }

        @Override
        public void closeGracefully() {
            ws.sendClose(WebSocket.NORMAL_CLOSURE, "closed").orTimeout(1, TimeUnit.SECONDS).whenComplete((w, f) -> ws.abort());
        }
    }

    /** A control connection over a {@link ControlCarrier}; hands its events to the loop thread, tagged with its generation. */
    private final class CarrierLink implements ControlLink, ControlCarrier.Receiver {
        private final int gen;
        volatile ControlCarrier carrier;

        CarrierLink(int gen) {
            this.gen = gen;
        }

        @Override
        public CompletionStage<?> sendText(String text) {
            ControlCarrier c = carrier;
            return c == null ? CompletableFuture.failedFuture(new IllegalStateException("carrier not open")) : c.send(text);
        }

        @Override
        public void abort() {
            ControlCarrier c = carrier;
            if (c != null) {
                c.close();
            }
        }

        @Override
        public void closeGracefully() {
            abort();
        }

        @Override
        public void onText(String text) {
            if (text.length() > RendezvousCodec.MAX_MESSAGE_BYTES) {
                loop.execute(() -> disconnected(gen, "server sent a message over " + RendezvousCodec.MAX_MESSAGE_BYTES + " bytes"));
                return;
            }
            loop.execute(() -> {
                if (gen == generation && state != Rendezvous.State.CLOSED && socket == null && carrier != null) {
                    socket = this; // a message can overtake the loop task that adopts the carrier
                }
                onMessage(gen, text);
            });
        }

        @Override
        public void onClosed(String why) {
            loop.execute(() -> disconnected(gen, "closed by server: " + why));
        }
    }

    /** Hands WebSocket events to the loop thread, tagged with their connection's generation. */
    private final class SocketListener implements WebSocket.Listener {
        private final int gen;
        private final StringBuilder partial = new StringBuilder();
        /** A relay frame arriving in parts, or null. */
        private java.nio.ByteBuffer binary;

        SocketListener(int gen) {
            this.gen = gen;
        }

        @Override
        public void onOpen(WebSocket webSocket) {
            // Publish the socket before any message: onOpen precedes onText, and both go through
            // the same single-threaded loop, so the challenge can always be answered. (Setting it
            // only when buildAsync completes raced with the challenge and lost the hello.)
            loop.execute(() -> {
                if (gen == generation && state != Rendezvous.State.CLOSED) {
                    socket = new WebSocketLink(webSocket);
                    lastHeardNanos = System.nanoTime();
                } else {
                    webSocket.abort();
                }
            });
            webSocket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket webSocket, CharSequence data, boolean last) {
            if (partial.length() + data.length() > RendezvousCodec.MAX_MESSAGE_BYTES) {
                partial.setLength(0);
                loop.execute(() -> disconnected(gen, "server sent a message over " + RendezvousCodec.MAX_MESSAGE_BYTES + " bytes"));
                return null;
            }
            partial.append(data);
            if (last) {
                String text = partial.toString();
                partial.setLength(0);
                loop.execute(() -> onMessage(gen, text));
            }
            webSocket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onBinary(WebSocket webSocket, java.nio.ByteBuffer data, boolean last) {
            int max = io.peerlink.protocol.rendezvous.RelayFrame.MAX_FRAME;
            if (binary == null && last) {
                deliver(webSocket, data);
            } else if (binary == null || binary.remaining() >= data.remaining()) {
                if (binary == null) {
                    binary = java.nio.ByteBuffer.allocate(max);
                }
                if (binary.remaining() >= data.remaining()) {
                    binary.put(data);
                }
                if (last) {
                    deliver(webSocket, binary.flip());
                    binary = null;
                }
            } else if (last) {
                binary = null; // oversized: dropped
            }
            webSocket.request(1);
            return null;
        }

        private void deliver(WebSocket webSocket, java.nio.ByteBuffer frame) {
            java.util.function.BiConsumer<DeviceId, java.nio.ByteBuffer> receiver = relayReceiver;
            DeviceId from = io.peerlink.protocol.rendezvous.RelayFrame.peer(frame);
            if (receiver == null || from == null || relaySocket != webSocket) {
                return;
            }
            try {
                receiver.accept(from, io.peerlink.protocol.rendezvous.RelayFrame.payload(frame));
            } catch (RuntimeException e) {
                LOG.log(System.Logger.Level.WARNING, "relay frame receiver failed", e);
            }
        }

        @Override
        public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
            loop.execute(() -> disconnected(gen, "closed by server: " + statusCode + " " + reason));
            return null;
        }

        @Override
        public void onError(WebSocket webSocket, Throwable error) {
            loop.execute(() -> disconnected(gen, "error: " + error));
        }
    }
}
