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
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupFormatException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.core.internal.punch.ConnectivityCheck;
import io.peerlink.core.internal.punch.NoPathException;
import io.peerlink.core.internal.punch.PunchOptions;
import io.peerlink.core.internal.rendezvous.IncomingDecision;
import io.peerlink.core.internal.rendezvous.Introduction;
import io.peerlink.core.internal.rendezvous.RendezvousClient;
import io.peerlink.core.internal.session.Session;
import io.peerlink.spi.Transport;

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
    /** Incoming direct hellos awaiting a decision or kept for retransmitted hellos; bounded. */
    static final int MAX_PENDING_HELLOS = 1024;
    private static final SecureRandom RANDOM = new SecureRandom();

    private final DeviceIdentity identity;
    private final EventLoop loop;
    private final List<LinkSocket> sockets;
    /** The socket hole punching, STUN and candidates use: the first UDP transport, else the first. */
    private final LinkSocket socket;
    private final ConnectionTable connections;
    private final ChannelOptions channelOptions;
    private final PunchOptions punchOptions;
    private final Duration connectTimeout;
    private final RendezvousClient rendezvousClient;
    private final RendezvousView rendezvousView;
    private final AtomicBoolean closed = new AtomicBoolean();
    private volatile IncomingHandler incomingHandler;

    private final Map<Long, PeerLinkImpl> links = new ConcurrentHashMap<>();
    // loop-confined set-up state
    private final Map<Long, PendingDial> dials = new HashMap<>();
    private final Map<String, IncomingHello> hellos = new HashMap<>();
    /** How long an undecided or rejected direct request is kept (answering retransmitted HELLOs). */
    private final long pendingRequestNanos;
    private long hellosDropped;
    private final Map<Long, ConnectivityCheck> checks = new HashMap<>();
    private final Map<DeviceId, CompletableFuture<PeerLink>> acceptedIncoming = new ConcurrentHashMap<>();
    /** Link set-ups not finished yet; close() fails them, so no caller waits forever. */
    private final Set<CompletableFuture<PeerLink>> pendingLinks = ConcurrentHashMap.newKeySet();
    private volatile int hopsToStun;
    /** Completes once the first candidate gathering (host + STUN) has been published. */
    private final CompletableFuture<Void> gathered = new CompletableFuture<>();

    private DeviceImpl(DeviceBuilderImpl b, DeviceIdentity identity, EventLoop loop, List<LinkSocket> sockets,
                       ConnectionTable connections) {
        this.identity = identity;
        this.loop = loop;
        this.sockets = List.copyOf(sockets);
        this.connections = connections;
        this.socket = sockets.stream().filter(s -> "udp".equals(s.localEndpoint().scheme())).findFirst().orElse(sockets.get(0));
        this.channelOptions = b.channelOptions;
        this.punchOptions = b.punchOptions;
        this.connectTimeout = b.connectTimeout;
        this.pendingRequestNanos = b.pendingRequestTimeout.toNanos();
        for (LinkSocket s : sockets) {
            s.onSetup((source, datagram) -> onSetup(s, source, datagram));
            s.onFailure(failure -> onLoop(() -> transportFailed(s)));
        }
        if (b.rendezvous != null) {
            rendezvousClient = new RendezvousClient(b.rendezvous, b.rendezvousPin, identity, Map.of(), new RendezvousListener());
            rendezvousView = new RendezvousView(b.rendezvous);
        } else {
            rendezvousClient = null;
            rendezvousView = null;
        }
    }

    static DeviceImpl start(DeviceBuilderImpl b) {
        DeviceIdentity identity = b.ephemeral ? DeviceIdentity.ephemeral() : DeviceIdentity.loadOrCreate(b.keyFile);
        TransportCatalog catalog = b.transports.stream().anyMatch(t -> t.instance() == null) ? TransportCatalog.load() : null;
        List<Transport> transports = new ArrayList<>();
        for (DeviceBuilderImpl.TransportSpec spec : b.transports) {
            try {
                transports.add(spec.instance() != null ? spec.instance() : catalog.create(spec.bind(), spec.provider()));
            } catch (RuntimeException e) {
                transports.forEach(Transport::destroy);
                throw e;
            }
        }
        EventLoop loop = new EventLoop("peerlink-" + identity.id().shortForm());
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
            InetSocketAddress stun = b.stunServer != null ? b.stunServer
                    : new InetSocketAddress(b.rendezvous.getHost(), 3478);
            device.gatherAndRegister(stun, b.hostCandidates);
            device.rendezvousClient.start();
        }
        return device;
    }

    private void gatherAndRegister(InetSocketAddress stunServer, boolean advertiseHosts) {
        List<Candidate> candidates = advertiseHosts ? new ArrayList<>(HostCandidates.gather(socket.localEndpoint())) : new ArrayList<>();
        rendezvousClient.updateCandidates(candidates);
        ReflexiveDiscovery discovery = new ReflexiveDiscovery(loop, socket, stunServer);
        discovery.run().whenComplete((result, error) -> {
            if (error != null) {
                LOG.log(System.Logger.Level.WARNING, "no reflexive candidate from STUN " + stunServer + ": " + error.getMessage());
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
            gathered.complete(null);
        });
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
            throw new IllegalStateException("device is closed");
        }
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
        // Publish our reflexive candidate before asking: the peer will punch towards it.
        gathered.thenCompose(v -> rendezvousClient.connect(peer)).whenComplete((intro, error) -> {
            if (error != null) {
                result.completeExceptionally(unwrap(error));
            } else {
                loop.execute(() -> punch(intro, result));
            }
        });
        return withTimeout(result, connectTimeout.plus(punchOptions.totalDuration()), peer);
    }

    private void punch(Introduction intro, CompletableFuture<PeerLink> result) {
        LOG.log(System.Logger.Level.DEBUG, () -> "introduced to " + intro.peer().shortForm() + " as " + intro.role()
                + ", start in " + intro.startIn().toMillis() + " ms, opener TTL " + punchOptions.effectiveOpenerTtl(hopsToStun)
                + ", peer candidates " + intro.peerCandidates());
        byte[] token = tokenDigest(intro.sessionToken());
        int ttl = punchOptions.effectiveOpenerTtl(hopsToStun);
        ConnectivityCheck check = new ConnectivityCheck(loop, socket, intro.localConnectionId(), intro.remoteConnectionId(),
                token, intro.role() == Introduction.Role.INITIATOR, intro.peerCandidates(), punchOptions, ttl);
        checks.put(intro.localConnectionId(), check);
        // The check completes on the loop; open the link right there. A further hop through the
        // loop's queue would let the peer's first channel packet (its flow-control credit), already
        // queued behind the nominating PROBE_ACK, find no link and be dropped, stalling the sender
        // for a retransmission timeout.
        check.result().whenComplete((selected, error) -> onLoop(() -> {
            checks.remove(intro.localConnectionId());
            if (error != null) {
                Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
                result.completeExceptionally(new UnreachableException(intro.peer(), UnreachableException.Reason.NO_PATH,
                        cause instanceof NoPathException ? cause.getMessage() : String.valueOf(cause)));
                return;
            }
            PathKind kind = selected.type() == CandidateType.HOST ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC;
            result.complete(openLink(intro.peer(), intro.localConnectionId(), intro.remoteConnectionId(), socket, selected.remote(), kind));
        }));
        check.start(intro.startIn());
    }

    private void onLoop(Runnable task) {
        if (loop.inLoop()) {
            task.run();
        } else {
            loop.execute(task);
        }
    }

    static byte[] tokenDigest(String sessionToken) {
        try {
            byte[] d = MessageDigest.getInstance("SHA-256").digest(sessionToken.getBytes(StandardCharsets.UTF_8));
            return java.util.Arrays.copyOf(d, SetupPacket.TOKEN_LENGTH);
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
            handler.onIncoming(new IncomingRequest() {
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
                    return withTimeout(f, connectTimeout.plus(punchOptions.totalDuration()), from);
                }

                @Override
                public void reject(String reason) {
                    if (!decided.compareAndSet(false, true)) {
                        throw new IllegalStateException("already decided");
                    }
                    decision.reject(reason);
                }
            });
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
            return rendezvousClient.registered().thenCombine(gathered, (a, b) -> null);
        }

        @Override
        public CompletionStage<Boolean> isOnline(DeviceId peer) {
            return rendezvousClient.isOnline(Objects.requireNonNull(peer, "peer"));
        }
    }

    // ---------------------------------------------------------------- direct links

    private record PendingDial(long nonce, LinkSocket socket, Endpoint remote, CompletableFuture<PeerLink> future, long deadline) {
    }

    private static final class IncomingHello {
        final long clientCid;
        final long nonce;
        final DeviceId device;
        long serverCid;
        boolean rejected;
        String rejectReason;
        EventLoop.Timer expiry;
        boolean expired;

        IncomingHello(long clientCid, long nonce, DeviceId device) {
            this.clientCid = clientCid;
            this.nonce = nonce;
            this.device = device;
        }
    }

    @Override
    public CompletionStage<PeerLink> connect(Endpoint endpoint) {
        Objects.requireNonNull(endpoint, "endpoint");
        checkOpen();
        // Resolved once, here: the HELLO_ACK must come from exactly where the HELLO went.
        Endpoint target = "udp".equals(endpoint.scheme()) ? Endpoint.udp(endpoint.toSocketAddress()) : endpoint;
        LinkSocket via = socketFor(target);
        if (via == null) {
            throw new IllegalArgumentException("no transport of this device supports " + endpoint);
        }
        CompletableFuture<PeerLink> result = pending(new CompletableFuture<>());
        loop.execute(() -> {
            long cid = newConnectionId();
            long nonce = RANDOM.nextLong();
            dials.put(cid, new PendingDial(nonce, via, target, result, loop.nanoTime() + connectTimeout.toNanos()));
            sendHello(cid, 100_000_000L);
        });
        return result;
    }

    private void sendHello(long cid, long interval) {
        PendingDial d = dials.get(cid);
        if (d == null || d.future().isDone()) {
            dials.remove(cid);
            return;
        }
        if (loop.nanoTime() >= d.deadline()) {
            dials.remove(cid);
            d.future().completeExceptionally(new UnreachableException(null, UnreachableException.Reason.TIMEOUT,
                    "no answer from " + d.remote() + " within " + connectTimeout));
            return;
        }
        ByteBuffer b = ByteBuffer.allocate(128);
        SetupPacket.writeHello(b, SetupPacket.HELLO, cid, 0, d.nonce(), identity.id());
        b.flip();
        try {
            d.socket().send(d.remote(), b);
        } catch (IllegalStateException e) {
            // Transport stopped: keep retrying until the deadline, as for a lost datagram.
            LOG.log(System.Logger.Level.DEBUG, "HELLO not sent: " + e.getMessage());
        }
        loop.schedule(() -> sendHello(cid, Math.min(interval * 2, 1_000_000_000L)), interval);
    }

    private void onSetup(LinkSocket via, Endpoint source, ByteBuffer datagram) {
        int type = datagram.get(datagram.position()) & 0xff;
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> {
                    SetupPacket.Probe probe = SetupPacket.readProbe(datagram);
                    ConnectivityCheck check = via == socket ? checks.get(probe.destinationCid()) : null;
                    if (check != null) {
                        check.onProbe(source, probe);
                    } else if (probe.type() == SetupPacket.PROBE && links.containsKey(probe.destinationCid())) {
                        // The peer is still checking after we finished: answer so it can finish too.
                        ByteBuffer b = ByteBuffer.allocate(64);
                        SetupPacket.writeProbeAck(b, probe.sourceCid(), probe.txid(), probe.token(), probe.flags(), source.toSocketAddress());
                        b.flip();
                        via.send(source, b);
                    }
                }
                case SetupPacket.HELLO -> onHello(via, source, SetupPacket.readHello(datagram));
                case SetupPacket.HELLO_ACK -> onHelloAck(via, source, SetupPacket.readHello(datagram));
                case SetupPacket.HELLO_REJECT -> {
                    SetupPacket.HelloReject r = SetupPacket.readHelloReject(datagram);
                    PendingDial d = dials.get(r.clientCid());
                    if (d != null && d.nonce() == r.nonce() && d.socket() == via && d.remote().equals(source)) {
                        dials.remove(r.clientCid());
                        d.future().completeExceptionally(new UnreachableException(null, UnreachableException.Reason.REJECTED, r.reason()));
                    }
                }
                default -> LOG.log(System.Logger.Level.DEBUG, "unknown set-up type 0x" + Integer.toHexString(type) + " from " + source);
            }
        } catch (SetupFormatException e) {
            LOG.log(System.Logger.Level.DEBUG, "dropped malformed set-up datagram from " + source + ": " + e.getMessage());
        }
    }

    private void onHello(LinkSocket via, Endpoint source, SetupPacket.Hello hello) {
        String key = via.localEndpoint() + "/" + source + "/" + Long.toHexString(hello.clientCid());
        IncomingHello state = hellos.get(key);
        if (state != null) {
            if (state.nonce == hello.nonce()) {
                answerHello(via, source, state);
            }
            return;
        }
        if (hellos.size() >= MAX_PENDING_HELLOS) {
            // Once per power of two: a flood must not turn into a flood of log lines.
            if (Long.bitCount(++hellosDropped) == 1) {
                LOG.log(System.Logger.Level.WARNING, "dropping HELLO from " + source + ": " + MAX_PENDING_HELLOS
                        + " link requests pending (" + hellosDropped + " dropped so far)");
            }
            return;
        }
        IncomingHello fresh = new IncomingHello(hello.clientCid(), hello.nonce(), hello.device());
        hellos.put(key, fresh);
        // Undecided requests expire too, so spoofed HELLOs cannot hold the table for ever.
        fresh.expiry = loop.schedule(() -> {
            fresh.expired = true;
            hellos.remove(key, fresh);
        }, pendingRequestNanos);
        IncomingHandler handler = incomingHandler;
        if (handler == null) {
            fresh.rejected = true;
            fresh.rejectReason = "device accepts no incoming links";
            answerHello(via, source, fresh);
            return;
        }
        AtomicBoolean decided = new AtomicBoolean();
        handler.onIncoming(new IncomingRequest() {
            @Override
            public DeviceId from() {
                return hello.device();
            }

            @Override
            public CompletionStage<PeerLink> accept() {
                if (!decided.compareAndSet(false, true)) {
                    throw new IllegalStateException("already decided");
                }
                CompletableFuture<PeerLink> f = pending(new CompletableFuture<>());
                loop.execute(() -> {
                    if (fresh.expired) {
                        f.completeExceptionally(new UnreachableException(hello.device(), UnreachableException.Reason.TIMEOUT,
                                "the request expired before it was accepted"));
                        return;
                    }
                    fresh.expiry.cancel();
                    fresh.serverCid = newConnectionId();
                    PeerLinkImpl link = openLink(hello.device(), fresh.serverCid, fresh.clientCid, via, source,
                            Session.kindOf(via, source));
                    link.engine().closed().thenRun(() -> loop.execute(() -> hellos.remove(key, fresh)));
                    answerHello(via, source, fresh);
                    f.complete(link);
                });
                return f;
            }

            @Override
            public void reject(String reason) {
                if (!decided.compareAndSet(false, true)) {
                    throw new IllegalStateException("already decided");
                }
                loop.execute(() -> {
                    if (fresh.expired) {
                        return;
                    }
                    fresh.rejected = true;
                    fresh.rejectReason = reason;
                    answerHello(via, source, fresh);
                    // The expiry already scheduled removes the entry; until then retransmitted
                    // HELLOs get the same HELLO_REJECT.
                });
            }
        });
    }

    /** @return incoming direct requests held now (tests); completes on the loop */
    CompletableFuture<Integer> pendingHellos() {
        CompletableFuture<Integer> f = new CompletableFuture<>();
        loop.execute(() -> f.complete(hellos.size()));
        return f;
    }

    private void answerHello(LinkSocket via, Endpoint source, IncomingHello state) {
        ByteBuffer b = ByteBuffer.allocate(256);
        if (state.rejected) {
            SetupPacket.writeHelloReject(b, state.clientCid, state.nonce, state.rejectReason);
        } else if (state.serverCid != 0) {
            SetupPacket.writeHello(b, SetupPacket.HELLO_ACK, state.clientCid, state.serverCid, state.nonce, identity.id());
        } else {
            return;
        }
        b.flip();
        via.send(source, b);
    }

    private void onHelloAck(LinkSocket via, Endpoint source, SetupPacket.Hello ack) {
        PendingDial d = dials.get(ack.clientCid());
        // Only from where the HELLO went: the nonce round trip is what validates that path.
        if (d == null || d.nonce() != ack.nonce() || d.socket() != via || !d.remote().equals(source)) {
            return;
        }
        dials.remove(ack.clientCid());
        d.future().complete(openLink(ack.device(), ack.clientCid(), ack.serverCid(), via, source, Session.kindOf(via, source)));
    }

    // ---------------------------------------------------------------- links

    private PeerLinkImpl openLink(DeviceId peer, long localCid, long remoteCid, LinkSocket via, Endpoint remote, PathKind kind) {
        PeerLinkImpl link = new PeerLinkImpl(peer, this::socketBoundTo);
        Session session = new Session(loop, localCid, remoteCid, via, remote, kind, channelOptions, link::fire);
        link.attach(session);
        links.put(localCid, link);
        connections.register(localCid, session::onDatagram);
        session.engine().closed().thenRun(() -> {
            connections.unregister(localCid);
            links.remove(localCid);
        });
        session.start();
        return link;
    }

    private long newConnectionId() {
        long id;
        do {
            id = RANDOM.nextLong();
        } while (id == 0 || connections.contains(id) || links.containsKey(id) || dials.containsKey(id));
        return id;
    }

    private CompletableFuture<PeerLink> pending(CompletableFuture<PeerLink> f) {
        pendingLinks.add(f);
        f.whenComplete((link, error) -> pendingLinks.remove(f));
        return f;
    }

    private <T> CompletableFuture<T> withTimeout(CompletableFuture<T> f, Duration timeout, DeviceId peer) {
        EventLoop.Timer t = loop.schedule(() -> f.completeExceptionally(new UnreachableException(peer,
                UnreachableException.Reason.TIMEOUT, "no link within " + timeout)), timeout.toNanos());
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
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        for (PeerLinkImpl link : List.copyOf(links.values())) {
            link.engine().abort();
        }
        ChannelClosedException closing = new ChannelClosedException(new CloseReason(CloseReason.SHUTDOWN, "device closed", false));
        for (CompletableFuture<PeerLink> f : List.copyOf(pendingLinks)) {
            f.completeExceptionally(closing);
        }
        if (rendezvousClient != null) {
            rendezvousClient.close();
        }
        // Let the loop run what is queued (the aborts send CLOSE frames) before it stops.
        if (!loop.inLoop()) {
            java.util.concurrent.CountDownLatch drained = new java.util.concurrent.CountDownLatch(1);
            loop.execute(drained::countDown);
            try {
                drained.await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        sockets.forEach(LinkSocket::close);
        loop.close();
    }

    @Override
    public String toString() {
        return "Device[" + identity.id().shortForm() + " on " + localEndpoints() + "]";
    }
}
