package io.peerlink.core.internal.device;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.ChannelClosedException;
import io.peerlink.ChannelOptions;
import io.peerlink.CloseReason;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.IncomingHandler;
import io.peerlink.IncomingRequest;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.link.ConnectionTable;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupFormatException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.core.internal.punch.ConnectivityCheck;
import io.peerlink.core.internal.punch.ProbeKeys;
import io.peerlink.core.internal.punch.NoPathException;
import io.peerlink.core.internal.punch.ProbeBudget;
import io.peerlink.core.internal.punch.PunchOptions;
import io.peerlink.core.internal.rendezvous.IncomingDecision;
import io.peerlink.core.internal.rendezvous.Introduction;
import io.peerlink.core.internal.rendezvous.RendezvousClient;
import io.peerlink.core.internal.channel.ReceiveBudget;
import io.peerlink.core.internal.crypto.SessionKeys;
import io.peerlink.core.internal.session.Session;
import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The device runtime: one event loop, any number of transports (each with its receive
 * demultiplexer, a {@link LinkSocket}, all sharing one {@link ConnectionTable}), an optional
 * rendezvous connection, and the links, each a {@link Session} over a set of paths. Link set-up
 * state (pending dials, incoming hellos, connectivity checks) is confined to the event loop.
 *
 * <p>Transport choice: a direct {@link #connect(Endpoint)} uses the first transport (in the order
 * added) that supports the endpoint, preferring one that is not relayed; hole punching through
 * the rendezvous uses the first transport of scheme {@code udp} (the one STUN and candidates
 * describe).
 */
final class DeviceImpl implements Device {
    private static final System.Logger LOG = System.getLogger(DeviceImpl.class.getName());
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long a peer reported offline gets to answer a PING over the link. */
    static final Duration PEER_OFFLINE_CONFIRM = Duration.ofSeconds(1);
    /** As {@link #PEER_OFFLINE_CONFIRM} for a link on the WebSocket relay: room for the peer to reconnect to the rendezvous. */
    static final Duration PEER_OFFLINE_CONFIRM_WS_RELAY = Duration.ofSeconds(5);

    private final DeviceIdentity identity;
    private final EventLoop loop;
    private final List<LinkSocket> sockets;
    /** The socket hole punching, STUN and candidates use: the first UDP transport, else the first. */
    private final LinkSocket socket;
    private final ConnectionTable connections;
    private final ChannelOptions channelOptions;
    private final PunchOptions punchOptions;
    /** Bounds the connectivity-check datagrams of all this device's checks (loop-confined). */
    private final ProbeBudget probeBudget;
    private final Duration connectTimeout;
    private final RendezvousClient rendezvousClient;
    private final RendezvousView rendezvousView;
    private final AtomicBoolean closed = new AtomicBoolean();
    /** Completes once close() or abort() has stopped the loop and the socket. */
    private final CompletableFuture<Void> down = new CompletableFuture<>();
    /** Why the event loop failed (an Error in a task), or null. */
    private volatile Throwable failure;
    private volatile IncomingHandler incomingHandler;
    /** Incoming-link handlers run here, in order, off the loop. */
    private final java.util.concurrent.Executor incomingCallbacks;
    /** Rendezvous state listeners run here, in order, off the loop. */
    private final java.util.concurrent.Executor stateCallbacks;

    private final Map<Long, PeerLinkImpl> links = new ConcurrentHashMap<>();
    private final List<java.util.function.Consumer<Rendezvous.State>> stateListeners = new java.util.concurrent.CopyOnWriteArrayList<>();
    // loop-confined set-up state
    private final SecureSetup secureSetup;
    /** Link set-ups by local connection ID, and by the introduction's request ID (trickle). */
    private final Map<Long, LinkRace> races = new HashMap<>();
    private final Map<Long, LinkRace> racesByRequest = new HashMap<>();
    private final Map<Long, List<Candidate>> earlyTrickles = new HashMap<>();
    private final RaceHost raceHost = new RaceHost();
    private final LinkRace.Mode raceMode = LinkRace.Mode.fromSystemProperty();
    /** Sockets of per-link relay allocations (for socketBoundTo); loop-confined writes. */
    private final List<LinkSocket> extraSockets = new java.util.concurrent.CopyOnWriteArrayList<>();
    /** The last-resort path over the rendezvous WebSocket (docs/relay.md), or null without a rendezvous. */
    private final LinkSocket wsRelaySocket;
    /** System property {@code peerlink.wsrelay}: false leaves the WebSocket relay out of link set-up. */
    private final boolean wsRelay = Boolean.parseBoolean(System.getProperty("peerlink.wsrelay", "true"));
    private volatile TransportCatalog turnCatalog;
    private volatile boolean turnMissingLogged;
    /** Blocking relay work (TURN allocations), off the event loop. */
    private final java.util.concurrent.ExecutorService relayExecutor = java.util.concurrent.Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "peerlink-relay-alloc");
        t.setDaemon(true);
        return t;
    });
    private static final TransportConfig.Option<String> TURN_LEG = new TransportConfig.Option<>("turn.leg", String.class, "udp");
    private static final TransportConfig.Option<String> TURN_USERNAME = new TransportConfig.Option<>("turn.username", String.class, "");
    private static final TransportConfig.Option<String> TURN_PASSWORD = new TransportConfig.Option<>("turn.password", String.class, "");
    /** The relay's own relayed IP is permitted at once: the peer allocated on the same relay (the usual case) probes from it. */
    private static final TransportConfig.Option<Boolean> TURN_PERMIT_RELAYED = new TransportConfig.Option<>("turn.permitRelayed", Boolean.class, false);
    /** Reassembly memory of all links of this device (docs/protocol-channel.md). */
    private final ReceiveBudget receiveBudget = ReceiveBudget.shared();
    private final Map<DeviceId, CompletableFuture<PeerLink>> acceptedIncoming = new ConcurrentHashMap<>();
    /** Link set-ups not finished yet; close() fails them, so no caller waits forever. */
    private final Set<CompletableFuture<PeerLink>> pendingLinks = ConcurrentHashMap.newKeySet();
    private volatile int hopsToStun;
    /** Completes once the first candidate gathering (host + STUN) has been published. */
    private final CompletableFuture<Void> gathered = new CompletableFuture<>();
    /** Where reflexive candidates come from, and whether host candidates are published (set when gathering starts). */
    private volatile InetSocketAddress stunServer;
    private volatile boolean advertiseHosts;
    /** Numbers candidate gatherings, so a slow STUN answer never overwrites a newer gathering (loop-confined). */
    private int gathering;
    /** The candidates the last complete gathering published (loop-confined), or null. */
    private List<Candidate> published;
    /** True once the rendezvous registered once: a later registration is a reconnect. */
    private volatile boolean everRegistered;
    /** Watches interface addresses when the punching socket is bound to the wildcard address; null otherwise. */
    private volatile AddressWatcher addressWatcher;

    private DeviceImpl(DeviceBuilderImpl b, DeviceIdentity identity, EventLoop loop, List<LinkSocket> sockets,
                       ConnectionTable connections) {
        this.identity = identity;
        this.loop = loop;
        this.sockets = List.copyOf(sockets);
        this.connections = connections;
        this.socket = sockets.stream().filter(s -> "udp".equals(s.localEndpoint().scheme())).findFirst().orElse(sockets.get(0));
        this.channelOptions = b.channelOptions;
        this.punchOptions = b.punchOptions;
        this.probeBudget = new ProbeBudget(loop::nanoTime);
        this.connectTimeout = b.connectTimeout;
        this.secureSetup = new SecureSetup(identity, loop, new SetupHost(), b.pendingRequestTimeout.toNanos(), b.incomingRequestsPerSecond,
                b.cookieFreeRequestsPerSecond);
        for (LinkSocket s : sockets) {
            s.onSetup((source, datagram) -> onSetup(s, source, datagram));
            s.onFailure(failure -> onLoop(() -> transportFailed(s)));
            s.onLocalEndpointChanged(() -> onLoop(() -> localEndpointChanged(s)));
        }
        this.incomingCallbacks = loop.callbacks().serial();
        this.stateCallbacks = loop.callbacks().serial();
        loop.onFailure(this::fail);
        if (b.rendezvous != null) {
            rendezvousClient = new RendezvousClient(b.rendezvous, new RendezvousClient.Connection(b.rendezvousPin, b.rendezvousCas,
                    b.rendezvousProxy, b.rendezvousProxySocks, b.rendezvousProxyUser, b.rendezvousProxyPassword), identity, Map.of(),
                    new RendezvousListener(), ControlCarriers.opener(b, identity.id()));
            rendezvousView = new RendezvousView(b.rendezvous);
            rendezvousClient.reportLinks(this::linkReport);
            wsRelaySocket = wsRelay ? startWsRelay(rendezvousClient, loop, connections) : null;
        } else {
            rendezvousClient = null;
            rendezvousView = null;
            wsRelaySocket = null;
        }
    }

    /** Starts the WebSocket relay's socket; set-up packets on it reach the link races like any relayed socket's. */
    private LinkSocket startWsRelay(RendezvousClient client, EventLoop eventLoop, ConnectionTable connections) {
        LinkSocket s = new LinkSocket(new io.peerlink.core.internal.rendezvous.WsRelayTransport(client), eventLoop, connections);
        try {
            s.start();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
        s.onSetup((source, datagram) -> onSetup(s, source, datagram));
        extraSockets.add(s);
        return s;
    }

    static DeviceImpl start(DeviceBuilderImpl b) {
        DeviceIdentity identity = b.ephemeral ? DeviceIdentity.ephemeral() : DeviceIdentity.loadOrCreate(b.keyFile);
        TransportCatalog catalog = b.transports.stream().anyMatch(t -> t.instance() == null) ? TransportCatalog.load() : null;
        List<Transport> transports = new ArrayList<>();
        for (DeviceBuilderImpl.TransportSpec spec : b.transports) {
            try {
                transports.add(spec.instance() != null ? spec.instance() : catalog.create(spec.bind(), spec.provider(), spec.options()));
            } catch (RuntimeException e) {
                transports.forEach(Transport::destroy);
                throw e;
            }
        }
        EventLoop loop = new EventLoop("peerlink-" + identity.id().shortForm(), b.callbackExecutor);
        ConnectionTable connections = new ConnectionTable();
        List<LinkSocket> sockets = new ArrayList<>();
        for (int i = 0; i < transports.size(); i++) {
            LinkSocket s = new LinkSocket(transports.get(i), loop, connections);
            try {
                s.start();
                sockets.add(s);
            } catch (IOException | RuntimeException e) {
                sockets.forEach(LinkSocket::close);
                for (int j = i; j < transports.size(); j++) {
                    transports.get(j).destroy();
                }
                loop.close();
                DeviceBuilderImpl.TransportSpec spec = b.transports.get(i);
                throw new PeerLinkException("cannot start transport " + (spec.bind() != null ? spec.bind() : transports.get(i))
                        + ": " + e.getMessage(), e);
            }
        }
        DeviceImpl device = new DeviceImpl(b, identity, loop, sockets, connections);
        if (device.rendezvousClient != null) {
            warmUpPunchCrypto();
            InetSocketAddress stun = b.stunServer != null ? b.stunServer
                    : new InetSocketAddress(b.rendezvous.getHost(), 3478);
            device.stunServer = stun;
            device.advertiseHosts = b.hostCandidates;
            device.gatherAndRegister();
            device.rendezvousClient.start();
        }
        device.watchAddresses();
        return device;
    }

    /** Starts the address watch if the punching socket is bound to the wildcard address (its local endpoint never changes). */
    private void watchAddresses() {
        if ("udp".equals(socket.localEndpoint().scheme()) && socket.localEndpoint().toSocketAddress().getAddress().isAnyLocalAddress()) {
            addressWatcher = AddressWatcher.start(loop, relayExecutor, (added, removed) -> networkChanged(!removed.isEmpty()));
        }
    }

    /**
     * Loop thread: the device's interface addresses changed (it moved to another network):
     * docs/protocol-paths.md, "A device changes its address". Every transport is told (a TURN
     * allocation made from the old address is checked and replaced at once); every link probes
     * its active path from the new address and validates its other paths on the wildcard socket
     * again; candidates are gathered again (host + STUN) and published to the rendezvous, whose
     * control connection is re-opened if an address went away (it was bound to it).
     *
     * @param lostAnAddress true if an address went away
     */
    private void networkChanged(boolean lostAnAddress) {
        if (closed.get()) {
            return;
        }
        for (LinkSocket s : sockets) {
            s.transport().onNetworkChanged();
        }
        for (LinkSocket s : extraSockets) {
            s.transport().onNetworkChanged();
        }
        for (PeerLinkImpl link : links.values()) {
            if (link.session() != null) {
                link.session().localEndpointChanged(socket, lostAnAddress);
            }
        }
        for (LinkRace race : List.copyOf(races.values())) {
            race.localAddressChanged();
        }
        if (rendezvousClient != null) {
            if (lostAnAddress) {
                rendezvousClient.reconnectNow("a local address went away");
            }
            gatherAndRegister();
        }
    }

    /**
     * Loop thread: a transport reports a new local endpoint (a relay allocation replaced); its
     * links' paths follow, and the link set-up that made the allocation trickles the new relayed
     * address to the peer through the rendezvous.
     */
    private void localEndpointChanged(LinkSocket s) {
        for (PeerLinkImpl link : links.values()) {
            if (link.session() != null) {
                link.session().localEndpointChanged(s);
            }
        }
        for (LinkRace race : List.copyOf(races.values())) {
            if (race.relayedAddressChanged(s)) {
                break;
            }
        }
    }

    /**
     * Loop thread: gathers host candidates and the server-reflexive one (STUN) and publishes
     * them to the rendezvous; again at every address change and rendezvous reconnect. A gathering
     * overtaken by a newer one publishes nothing.
     */
    private void gatherAndRegister() {
        int number = ++gathering;
        InetSocketAddress stunServer = this.stunServer;
        boolean udp = "udp".equals(socket.localEndpoint().scheme());
        List<Candidate> candidates = advertiseHosts && udp ? new ArrayList<>(HostCandidates.gather(socket.localEndpoint())) : new ArrayList<>();
        candidates.addAll(brokerCandidates());
        rendezvousClient.updateCandidates(candidates);
        if (!udp) {
            gathered.complete(null); // no UDP socket: nothing to ask STUN about
            return;
        }
        ReflexiveDiscovery discovery = new ReflexiveDiscovery(loop, socket, stunServer);
        discovery.run().whenComplete((result, error) -> {
            try {
                onLoop(() -> gathered(number, candidates, result, error));
            } catch (java.util.concurrent.RejectedExecutionException closedMeanwhile) {
                gathered.complete(null);
            }
        });
    }

    private void gathered(int number, List<Candidate> candidates, ReflexiveDiscovery.Result result, Throwable error) {
        {
            if (number != gathering) {
                return;
            }
            if (error != null) {
                // A device closed meanwhile (e.g. its rendezvous was unreachable) has nothing to warn about.
                LOG.log(closed.get() ? System.Logger.Level.DEBUG : System.Logger.Level.WARNING,
                        "no reflexive candidate from STUN " + stunServer + ": " + error.getMessage());
                gathered.complete(null);
                return;
            }
            hopsToStun = result.hops();
            List<Candidate> all = new ArrayList<>(candidates);
            Endpoint mapped = Endpoint.udp(result.mapped());
            if (all.stream().noneMatch(c -> c.endpoint().equals(mapped))) {
                all.add(Candidate.of(mapped, CandidateType.SERVER_REFLEXIVE, 65535));
            }
            rendezvousClient.updateCandidates(all);
            LOG.log(System.Logger.Level.DEBUG, () -> "candidates " + all + " (STUN hops " + result.hops() + ")");
            if (published != null && !published.equals(all)) {
                // The peers of live links learn them over the links (docs/protocol-punching.md, "Fresh candidates").
                for (LinkRace race : List.copyOf(races.values())) {
                    race.localCandidatesChanged(all);
                }
            }
            published = all;
            gathered.complete(null);
        }
    }

    /**
     * A device's inboxes on brokers (its relayed transports other than UDP and TURN, e.g.
     * {@code mqtt://broker:1883/<id>}) as RELAY candidates, so that a peer on the same broker is
     * introduced with a path to it (docs/protocol-rendezvous.md, "The MQTT carrier").
     */
    private List<Candidate> brokerCandidates() {
        List<Candidate> out = new ArrayList<>();
        for (LinkSocket s : sockets) {
            Endpoint local = s.localEndpoint();
            if (s.transport().capabilities().relayed() && !"udp".equals(local.scheme()) && !local.scheme().startsWith("turn")) {
                out.add(Candidate.of(local, CandidateType.RELAY, 65535 - out.size()));
            }
        }
        return out;
    }

    @Override
    public DeviceId id() {
        return identity.id();
    }

    @Override
    public Rendezvous rendezvous() {
        if (rendezvousView == null) {
            throw new IllegalStateException("this device was built without a rendezvous server");
        }
        return rendezvousView;
    }

    @Override
    public List<Endpoint> localEndpoints() {
        return sockets.stream().map(LinkSocket::localEndpoint).toList();
    }

    /** @return the demultiplexer of the transport bound to {@code local}, or null */
    LinkSocket socketBoundTo(Endpoint local) {
        for (LinkSocket s : sockets) {
            if (s.localEndpoint().equals(local)) {
                return s;
            }
        }
        for (LinkSocket s : extraSockets) {
            if (s.localEndpoint().equals(local)) {
                return s;
            }
        }
        return null;
    }

    /** @return the transport for a direct link to {@code remote}: the first supporting it, unrelayed first */
    private LinkSocket socketFor(Endpoint remote) {
        LinkSocket relayed = null;
        for (LinkSocket s : sockets) {
            if (s.transport().supports(remote)) {
                if (!s.transport().capabilities().relayed()) {
                    return s;
                }
                if (relayed == null) {
                    relayed = s;
                }
            }
        }
        return relayed;
    }

    private void transportFailed(LinkSocket failed) {
        LOG.log(System.Logger.Level.WARNING, "transport " + failed.transport() + " stopped; moving its links to other paths");
        for (PeerLinkImpl link : links.values()) {
            link.session().transportFailed(failed);
        }
    }

    @Override
    public void onIncoming(IncomingHandler handler) {
        this.incomingHandler = Objects.requireNonNull(handler, "handler");
    }

    private void checkOpen() {
        if (closed.get()) {
            Throwable f = failure;
            throw new IllegalStateException(f == null ? "device is closed" : "device failed: " + f, f);
        }
    }

    /** Loop thread: a task threw an Error. Close everything, telling links and waiters why. */
    private void fail(Throwable cause) {
        failure = cause;
        abort();
    }

    // ---------------------------------------------------------------- rendezvous links

    @Override
    public CompletionStage<PeerLink> connect(DeviceId peer) {
        Objects.requireNonNull(peer, "peer");
        checkOpen();
        if (rendezvousClient == null) {
            throw new IllegalStateException("connect(DeviceId) needs a rendezvous server; use connect(Endpoint) for direct links");
        }
        CompletableFuture<PeerLink> result = pending(new CompletableFuture<>());
        LOG.log(System.Logger.Level.DEBUG, () -> "connect to " + peer.shortForm() + (gathered.isDone() ? "" : " (candidates still being gathered)"));
        // Publish our reflexive candidate before asking: the peer will punch towards it.
        gathered.thenCompose(v -> rendezvousClient.connect(peer)).whenComplete((intro, error) -> {
            if (error != null) {
                result.completeExceptionally(unwrap(error));
            } else {
                loop.execute(() -> punch(intro, result));
            }
        });
        return loop.callbacks().expose(withTimeout(result, connectTimeout.plus(punchOptions.totalDuration()), peer));
    }

    /**
     * Runs link set-up for an introduction (as the rendezvous listener does); tests drive it with
     * introductions a misbehaving server would send.
     *
     * @param intro the introduction
     * @param result completes with the link
     */
    void introduced(Introduction intro, CompletableFuture<PeerLink> result) {
        loop.execute(() -> punch(intro, result));
    }

    private void punch(Introduction intro, CompletableFuture<PeerLink> result) {
        LOG.log(System.Logger.Level.DEBUG, () -> "introduced to " + intro.peer().shortForm() + " as " + intro.role()
                + ", start in " + intro.startIn().toMillis() + " ms, opener TTL " + punchOptions.effectiveOpenerTtl(hopsToStun)
                + ", peer candidates " + intro.peerCandidates() + ", relays " + intro.relays().size());
        ConnectivityCheck check = directCheck(intro);
        boolean initiator = intro.role() == Introduction.Role.INITIATOR;
        long initiatorCid = initiator ? intro.localConnectionId() : intro.remoteConnectionId();
        long responderCid = initiator ? intro.remoteConnectionId() : intro.localConnectionId();
        byte[] prologue = SecureSetup.rendezvousPrologue(sha256(intro.sessionToken()), initiatorCid, responderCid);
        if (!initiator) {
            // The handshake, not the check, opens the responder's link: it proves the introduced
            // peer and the path its messages came on.
            secureSetup.expect(intro.localConnectionId(), intro.remoteConnectionId(), prologue, intro.peer(), result,
                    (via, remote) -> via.transport().capabilities().relayed() ? Session.kindOf(via, remote) : kindOf(intro, remote));
        }
        LinkRace race = new LinkRace(raceHost, raceMode, intro, socket, check, prologue, result);
        races.put(intro.localConnectionId(), race);
        if (intro.requestId() >= 0) {
            racesByRequest.put(intro.requestId(), race);
            List<Candidate> early = earlyTrickles.remove(intro.requestId());
            race.start();
            if (early != null) {
                race.onTrickle(early);
            }
        } else {
            race.start();
        }
    }

    /** @return a direct connectivity check on the UDP socket for an introduction (the punch, or a re-punch) */
    private ConnectivityCheck directCheck(Introduction intro) {
        return new ConnectivityCheck(loop, socket, intro.localConnectionId(), intro.remoteConnectionId(),
                intro.sessionToken(), intro.role() == Introduction.Role.INITIATOR,
                raceMode == LinkRace.Mode.RELAY ? List.of() : intro.peerCandidates(), punchOptions,
                punchOptions.effectiveOpenerTtl(hopsToStun), probeBudget);
    }

    /** Loop thread: the peer of an introduction trickled candidates. */
    private void onTrickle(long requestId, List<Candidate> candidates) {
        LinkRace race = racesByRequest.get(requestId);
        if (race != null) {
            race.onTrickle(candidates);
        } else if (earlyTrickles.size() < 64) {
            // The trickle overtook our own handling of the introduction.
            earlyTrickles.put(requestId, candidates);
            loop.schedule(() -> earlyTrickles.remove(requestId), 10_000_000_000L);
        }
    }

    /** What link races use of this device. */
    private final class RaceHost implements LinkRace.Host {
        @Override
        public ConnectivityCheck directCheck(Introduction intro) {
            return DeviceImpl.this.directCheck(intro);
        }

        @Override
        public EventLoop loop() {
            return loop;
        }

        @Override
        public PunchOptions punchOptions() {
            return punchOptions;
        }

        @Override
        public ProbeBudget probeBudget() {
            return probeBudget;
        }

        @Override
        public List<LinkSocket> relayedSockets() {
            return sockets.stream().filter(s -> s != socket && s.transport().capabilities().relayed()).toList();
        }

        @Override
        public void initiate(Introduction intro, LinkSocket via, Endpoint remote, byte[] prologue, CompletableFuture<PeerLink> result,
                             PathKind kind) {
            secureSetup.initiate(via, remote, intro.localConnectionId(), intro.remoteConnectionId(), prologue, intro.peer(), result,
                    connectTimeout.toNanos(), kind);
        }

        @Override
        public void trickle(long requestId, List<Candidate> candidates) {
            if (rendezvousClient != null && requestId >= 0) {
                rendezvousClient.trickle(requestId, candidates);
            }
        }

        @Override
        public Transport turnTransport(Endpoint server, RelayServer relay) {
            return DeviceImpl.this.turnTransport(server, relay);
        }

        @Override
        public LinkSocket wsRelaySocket() {
            return wsRelaySocket;
        }

        @Override
        public java.util.concurrent.Executor blocking() {
            return relayExecutor;
        }

        @Override
        public void attach(LinkSocket s) {
            s.onSetup((source, datagram) -> onSetup(s, source, datagram));
            s.onFailure(failure -> onLoop(() -> transportFailed(s)));
            s.onLocalEndpointChanged(() -> onLoop(() -> localEndpointChanged(s)));
            extraSockets.add(s);
        }

        @Override
        public void detach(LinkSocket s) {
            extraSockets.remove(s);
        }

        @Override
        public ConnectionTable connections() {
            return connections;
        }

        @Override
        public void finished(LinkRace race) {
            races.remove(race.intro.localConnectionId(), race);
            racesByRequest.remove(race.intro.requestId(), race);
        }
    }

    /** @return a TURN transport for one link's allocation, or null without a {@code turn} provider (logged once) */
    private Transport turnTransport(Endpoint server, RelayServer relay) {
        TransportCatalog catalog = turnCatalog;
        if (catalog == null) {
            catalog = TransportCatalog.load();
            turnCatalog = catalog;
        }
        TransportConfig config = TransportConfig.bind(server)
                .set(TURN_LEG, relay.leg().name().toLowerCase(java.util.Locale.ROOT))
                .set(TURN_USERNAME, relay.username())
                .set(TURN_PASSWORD, relay.credential())
                .set(TURN_PERMIT_RELAYED, true)
                .build();
        try {
            return catalog.create(config, null);
        } catch (PeerLinkException e) {
            if (!turnMissingLogged) {
                turnMissingLogged = true;
                LOG.log(System.Logger.Level.WARNING, "the rendezvous offers TURN relays, but this device cannot use them: "
                        + e.getMessage());
            }
            return null;
        }
    }

    /**
     * The server says the link's peer lost its control connection. A peer that only lost the
     * server still answers over the link, so ask it: no answer to a PING within
     * {@link #PEER_OFFLINE_CONFIRM} closes the link with PEER_OFFLINE.
     */
    private void confirmOffline(PeerLinkImpl link) {
        CompletableFuture<java.time.Duration> ping = link.engine().ping().toCompletableFuture();
        // A link on the WebSocket relay rides on the peer's control connection: the peer reported
        // offline is most likely reconnecting it, and its answer comes only once it has.
        io.peerlink.PathInfo path = link.path();
        Duration within = path != null && io.peerlink.core.internal.rendezvous.WsRelayTransport.SCHEME.equals(path.local().scheme())
                ? PEER_OFFLINE_CONFIRM_WS_RELAY : PEER_OFFLINE_CONFIRM;
        EventLoop.Timer t = loop.schedule(() -> {
            if (!ping.isDone()) {
                link.engine().abort(CloseReason.PEER_OFFLINE,
                        "the rendezvous server reported the peer offline and it did not answer a ping within "
                                + within.toMillis() + " ms");
            }
        }, within.toNanos());
        ping.whenComplete((d, e) -> t.cancel());
    }

    private void onLoop(Runnable task) {
        if (loop.inLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    private static PathKind kindOf(Introduction intro, Endpoint remote) {
        for (Candidate c : intro.peerCandidates()) {
            if (c.endpoint().equals(remote)) {
                return c.type() == CandidateType.HOST ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC;
            }
        }
        return PathKind.DIRECT_PUBLIC;
    }

    static byte[] sha256(String sessionToken) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(sessionToken.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new PeerLinkException("SHA-256 unavailable", e);
        }
    }

    private final class RendezvousListener implements RendezvousClient.Listener {
        @Override
        public void onIncoming(DeviceId from, IncomingDecision decision) {
            IncomingHandler handler = incomingHandler;
            if (handler == null) {
                decision.reject("device accepts no incoming links");
                return;
            }
            AtomicBoolean decided = new AtomicBoolean();
            IncomingRequest request = new IncomingRequest() {
                @Override
                public DeviceId from() {
                    return from;
                }

                @Override
                public CompletionStage<PeerLink> accept() {
                    if (!decided.compareAndSet(false, true)) {
                        throw new IllegalStateException("already decided");
                    }
                    CompletableFuture<PeerLink> f = pending(new CompletableFuture<>());
                    acceptedIncoming.put(from, f);
                    decision.accept();
                    return loop.callbacks().expose(withTimeout(f, connectTimeout.plus(punchOptions.totalDuration()), from));
                }

                @Override
                public void reject(String reason) {
                    if (!decided.compareAndSet(false, true)) {
                        throw new IllegalStateException("already decided");
                    }
                    decision.reject(reason);
                }
            };
            incomingCallbacks.execute(() -> handler.onIncoming(request));
        }

        @Override
        public void onStateChange(Rendezvous.State state) {
            if (state == Rendezvous.State.REGISTERED && !everRegistered) {
                everRegistered = true;
            } else if (state == Rendezvous.State.REGISTERED) {
                // A reconnect: the reflexive address may have changed with the connection.
                onLoop(() -> {
                    if (!closed.get()) {
                        gatherAndRegister();
                    }
                });
            }
            for (java.util.function.Consumer<Rendezvous.State> l : stateListeners) {
                stateCallbacks.execute(() -> l.accept(state));
            }
        }

        @Override
        public void onTrickle(long requestId, List<Candidate> candidates) {
            onLoop(() -> DeviceImpl.this.onTrickle(requestId, candidates));
        }

        @Override
        public void onPeerOffline(DeviceId peer) {
            for (PeerLinkImpl link : List.copyOf(links.values())) {
                if (link.peer().equals(peer) && link.engine().isOpen()) {
                    loop.execute(() -> confirmOffline(link));
                }
            }
        }

        @Override
        public void onIntroduction(Introduction introduction) {
            CompletableFuture<PeerLink> f = acceptedIncoming.remove(introduction.peer());
            CompletableFuture<PeerLink> target = f != null ? f : pending(new CompletableFuture<>());
            loop.execute(() -> punch(introduction, target));
        }
    }

    private final class RendezvousView implements Rendezvous {
        private final URI server;

        RendezvousView(URI server) {
            this.server = server;
        }

        @Override
        public URI server() {
            return server;
        }

        @Override
        public State state() {
            return rendezvousClient.state();
        }

        @Override
        public CompletionStage<Void> registered() {
            // Registered and candidates gathered; but a failed registration (refused connection,
            // refused admission) fails at once rather than after STUN gathering gives up (~5 s).
            CompletableFuture<Void> ready = new CompletableFuture<>();
            rendezvousClient.registered().whenComplete((v, error) -> {
                if (error != null) {
                    ready.completeExceptionally(error);
                } else {
                    gathered.whenComplete((g, e) -> ready.complete(null));
                }
            });
            return loop.callbacks().expose(ready);
        }

        @Override
        public void onStateChange(java.util.function.Consumer<State> listener) {
            stateListeners.add(Objects.requireNonNull(listener, "listener"));
        }

        @Override
        public CompletionStage<Boolean> isOnline(DeviceId peer) {
            return loop.callbacks().expose(rendezvousClient.isOnline(Objects.requireNonNull(peer, "peer")));
        }
    }

    // ---------------------------------------------------------------- direct links

    @Override
    public CompletionStage<PeerLink> connect(Endpoint endpoint) {
        return connect(endpoint, null);
    }

    @Override
    public CompletionStage<PeerLink> connect(Endpoint endpoint, DeviceId expected) {
        Objects.requireNonNull(endpoint, "endpoint");
        checkOpen();
        // Resolved once, here: handshake answers must come from exactly where the request went.
        Endpoint target = "udp".equals(endpoint.scheme()) ? Endpoint.udp(endpoint.toSocketAddress()) : endpoint;
        LinkSocket via = socketFor(target);
        if (via == null) {
            throw new IllegalArgumentException("no transport of this device supports " + endpoint);
        }
        CompletableFuture<PeerLink> result = pending(new CompletableFuture<>());
        loop.execute(() -> {
            long cid = newConnectionId();
            secureSetup.initiate(via, target, cid, 0, SecureSetup.directPrologue(cid), expected, result,
                    connectTimeout.toNanos(), Session.kindOf(via, target));
        });
        return loop.callbacks().expose(result);
    }

    private void onSetup(LinkSocket via, Endpoint source, ByteBuffer datagram) {
        int type = datagram.get(datagram.position()) & 0xff;
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> {
                    SetupPacket.Probe probe = SetupPacket.readProbe(datagram);
                    LinkRace race = races.get(probe.destinationCid());
                    if (race != null) {
                        race.onProbe(via, source, probe);
                    }
                }
                case SetupPacket.HS_INIT, SetupPacket.HS_RESP, SetupPacket.HS_FIN, SetupPacket.HS_INIT_COOKIE ->
                        secureSetup.onHandshake(via, source, SetupPacket.readHandshake(datagram));
                case SetupPacket.HELLO_REJECT -> secureSetup.onReject(via, source, SetupPacket.readHelloReject(datagram));
                case SetupPacket.HS_COOKIE -> secureSetup.onCookie(via, source, SetupPacket.readCookie(datagram));
                default -> LOG.log(System.Logger.Level.DEBUG, "unknown set-up type 0x" + Integer.toHexString(type) + " from " + source);
            }
        } catch (SetupFormatException e) {
            LOG.log(System.Logger.Level.DEBUG, "dropped malformed set-up datagram from " + source + ": " + e.getMessage());
        }
    }

    /** @return incoming direct requests held now (tests); completes on the loop */
    CompletableFuture<Integer> pendingRequests() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(secureSetup.pendingRequests()));
        return f;
    }

    /** @return {handshake cookies sent, echoed cookies accepted} (tests); completes on the loop */
    CompletableFuture<long[]> cookieCounters() {
        CompletableFuture<long[]> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(secureSetup.cookieCounters()));
        return f;
    }

    private final class SetupHost implements SecureSetup.Host {
        @Override
        public PeerLinkImpl openLink(DeviceId peer, long localCid, long remoteCid, LinkSocket via, Endpoint remote,
                                     PathKind kind, SessionKeys keys) {
            return DeviceImpl.this.openLink(peer, localCid, remoteCid, via, remote, kind, keys);
        }

        @Override
        public long newConnectionId() {
            return DeviceImpl.this.newConnectionId();
        }

        @Override
        public IncomingHandler incomingHandler() {
            return incomingHandler;
        }

        @Override
        public CompletableFuture<PeerLink> pending(CompletableFuture<PeerLink> f) {
            return DeviceImpl.this.pending(f);
        }

        @Override
        public void offer(IncomingHandler handler, IncomingRequest request) {
            incomingCallbacks.execute(() -> handler.onIncoming(request));
        }

        @Override
        public CompletionStage<PeerLink> expose(CompletableFuture<PeerLink> internal) {
            return loop.callbacks().expose(internal);
        }
    }

    // ---------------------------------------------------------------- links

    private PeerLinkImpl openLink(DeviceId peer, long localCid, long remoteCid, LinkSocket via, Endpoint remote, PathKind kind,
                                  SessionKeys keys) {
        PeerLinkImpl link = new PeerLinkImpl(peer, this::socketBoundTo);
        Session session = new Session(loop, localCid, remoteCid, via, remote, kind, channelOptions, event -> {
            link.fire(event);
            linksChanged();
            LinkRace race = races.get(localCid);
            if (race != null) {
                race.pathChanged(event);
            }
        }, keys, receiveBudget);
        link.attach(session);
        links.put(localCid, link);
        connections.register(localCid, session::onDatagram);
        session.engine().closedOnLoop().thenRun(() -> {
            connections.unregister(localCid);
            links.remove(localCid);
            linksChanged();
        });
        linksChanged();
        session.start();
        return link;
    }

    private void linksChanged() {
        if (rendezvousClient != null) {
            rendezvousClient.linksChanged();
        }
    }

    /** This device's open links, one per peer (the busiest), for the server's dashboard (docs/protocol-rendezvous.md). */
    private List<Message.LinkReport.Link> linkReport() {
        Map<DeviceId, Message.LinkReport.Link> byPeer = new java.util.LinkedHashMap<>();
        for (PeerLinkImpl link : links.values()) {
            if (link.session() == null || link.engine().closed().toCompletableFuture().isDone()) {
                continue;
            }
            io.peerlink.ChannelStats stats = link.channel().stats();
            long rttMicros = Math.min(60_000_000L, Math.max(0, stats.smoothedRtt().toNanos() / 1000));
            long max = io.peerlink.protocol.rendezvous.RendezvousCodec.MAX_REQUEST_ID;
            Message.LinkReport.Link entry = new Message.LinkReport.Link(link.peer(), link.path().kind(), rttMicros,
                    Math.min(max, stats.bytesSent()), Math.min(max, stats.bytesReceived()));
            byPeer.merge(link.peer(), entry, (a, b) -> a.bytesSent() + a.bytesReceived() >= b.bytesSent() + b.bytesReceived() ? a : b);
            if (byPeer.size() >= io.peerlink.protocol.rendezvous.RendezvousCodec.MAX_LINKS) {
                break;
            }
        }
        return List.copyOf(byPeer.values());
    }

    private long newConnectionId() {
        long id;
        do {
            id = RANDOM.nextLong();
        } while (id == 0 || connections.contains(id) || links.containsKey(id) || secureSetup.holds(id));
        return id;
    }

    private CompletableFuture<PeerLink> pending(CompletableFuture<PeerLink> f) {
        pendingLinks.add(f);
        f.whenComplete((link, error) -> pendingLinks.remove(f));
        return f;
    }

    private <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, Duration timeout, DeviceId peer) {
        EventLoop.Timer t = loop.schedule(() -> f.completeExceptionally(new UnreachableException(peer,
                UnreachableException.Reason.TIMEOUT, "no link within " + timeout,
                rendezvousClient == null ? null : rendezvousClient.lastFailure())), timeout.toNanos());
        f.whenComplete((v, e) -> t.cancel());
        return f;
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    @Override
    public void close() {
        EventLoop.checkNotOnLoop("Device.close() waits for its links to close");
        if (!closed.compareAndSet(false, true)) {
            awaitDown();
            return;
        }
        failPendingLinks("device closed");
        List<CompletableFuture<CloseReason>> closing = new ArrayList<>();
        for (PeerLinkImpl link : List.copyOf(links.values())) {
            link.engine().close();
            closing.add(link.engine().closedOnLoop().toCompletableFuture());
        }
        // Bounded: each engine aborts itself after closeTimeout; the extra second covers the
        // loop's latency. Whatever is still open then is aborted below (its sends fail).
        try {
            CompletableFuture.allOf(closing.toArray(CompletableFuture[]::new))
                    .get(channelOptions.closeTimeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.log(System.Logger.Level.WARNING, "links did not close within " + channelOptions.closeTimeout() + " + 1 s; aborting them");
        }
        stop(CloseReason.SHUTDOWN, "device closed; graceful close did not finish in time");
    }

    @Override
    public void abort() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        Throwable failed = failure;
        failPendingLinks(failed == null ? "device aborted" : "device failed: " + failed);
        if (failed == null) {
            stop(CloseReason.ABORTED, "device aborted");
        } else {
            stop(CloseReason.SHUTDOWN, "device failed: " + failed);
        }
    }

    private void failPendingLinks(String why) {
        ChannelClosedException closing = new ChannelClosedException(new CloseReason(CloseReason.SHUTDOWN, why, false));
        for (CompletableFuture<PeerLink> f : List.copyOf(pendingLinks)) {
            f.completeExceptionally(closing);
        }
    }

    /** Waits (bounded) until the first close() or abort() has stopped the device. */
    private void awaitDown() {
        try {
            down.get(channelOptions.closeTimeout().toMillis() + 2000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            // the first close reports its own trouble
        }
    }

    /** Aborts what is left with the given reason, then stops the rendezvous, socket and loop. */
    private void stop(int code, String why) {
        AddressWatcher w = addressWatcher;
        if (w != null) {
            w.stop();
        }
        for (PeerLinkImpl link : List.copyOf(links.values())) {
            link.engine().abort(code, why);
        }
        if (rendezvousClient != null) {
            rendezvousClient.close();
        }
        // Let the loop run what is queued (the aborts send CLOSE frames) before it stops.
        if (loop.inLoop()) {
            // Closing from the loop (it failed): the aborts are queued; the loop runs queued
            // tasks when it closes, so close the socket in a task behind them.
            try {
                loop.execute(socket::close);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                socket.close();
            }
            loop.close();
            down.complete(null);
            return;
        }
        {
            java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
            loop.execute(() -> {
                // Checks still running (a punch racing a link that opened on a relay) stop sending
                // before the sockets close under them.
                for (LinkRace race : List.copyOf(races.values())) {
                    race.stopChecks();
                }
                drained.countDown();
            });
            try {
                drained.await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sockets.forEach(LinkSocket::close);
        extraSockets.forEach(LinkSocket::close);
        relayExecutor.shutdownNow();
        loop.close();
        down.complete(null);
    }

    @Override
    public String toString() {
        return "Device[" + identity.id().shortForm() + " on " + localEndpoints() + "]";
    }

    private static final java.util.concurrent.atomic.AtomicBoolean PUNCH_CRYPTO_WARM = new java.util.concurrent.atomic.AtomicBoolean();

    /**
     * A cold JVM loads its MAC provider on first use, which can take tens of milliseconds; the
     * connectivity check derives its probe keys between the introduction and the synchronised
     * start, so on a cold JVM that cost made one side's openers late and let the peer's probes
     * poison its NAT's mapping. Pay it once per JVM, off the loop, when the device starts.
     */
    private static void warmUpPunchCrypto() {
        if (PUNCH_CRYPTO_WARM.compareAndSet(false, true)) {
            Thread t = new Thread(() -> ProbeKeys.derive("peerlink-warm-up", true).outbound().doFinal(new byte[64]),
                    "peerlink-crypto-warm-up");
            t.setDaemon(true);
            t.start();
        }
    }
}
