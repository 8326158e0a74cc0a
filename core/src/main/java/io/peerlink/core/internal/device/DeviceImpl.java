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
import io.peerlink.PathInfo;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.channel.ChannelEngine;
import io.peerlink.core.internal.channel.DatagramPath;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.core.internal.link.LinkSocket;
import io.peerlink.core.internal.link.SetupFormatException;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.core.internal.punch.ConnectivityCheck;
import io.peerlink.core.internal.punch.NoPathException;
import io.peerlink.core.internal.punch.ProbeBudget;
import io.peerlink.core.internal.punch.PunchOptions;
import io.peerlink.core.internal.rendezvous.IncomingDecision;
import io.peerlink.core.internal.rendezvous.Introduction;
import io.peerlink.core.internal.rendezvous.RendezvousClient;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The device runtime: one event loop, one UDP socket demultiplexed by {@link LinkSocket}, an
 * optional rendezvous connection, and the links. Link set-up state (pending dials, incoming
 * hellos, connectivity checks) is confined to the event loop.
 */
final class DeviceImpl implements Device {
    private static final System.Logger LOG = System.getLogger(DeviceImpl.class.getName());
    /** Incoming direct hellos awaiting a decision or kept for retransmitted hellos; bounded. */
    private static final int MAX_PENDING_HELLOS = 1024;
    private static final SecureRandom RANDOM = new SecureRandom();
    /** How long a peer reported offline gets to answer a PING over the link. */
    static final Duration PEER_OFFLINE_CONFIRM = Duration.ofSeconds(1);

    private final DeviceIdentity identity;
    private final EventLoop loop;
    private final LinkSocket socket;
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
    private final Map<Long, PendingDial> dials = new HashMap<>();
    private final Map<String, IncomingHello> hellos = new HashMap<>();
    private final Map<Long, ConnectivityCheck> checks = new HashMap<>();
    private final Map<DeviceId, CompletableFuture<PeerLink>> acceptedIncoming = new ConcurrentHashMap<>();
    /** Link set-ups not finished yet; close() fails them, so no caller waits forever. */
    private final Set<CompletableFuture<PeerLink>> pendingLinks = ConcurrentHashMap.newKeySet();
    private volatile int hopsToStun;
    /** Completes once the first candidate gathering (host + STUN) has been published. */
    private final CompletableFuture<Void> gathered = new CompletableFuture<>();

    private DeviceImpl(DeviceBuilderImpl b, DeviceIdentity identity, EventLoop loop, LinkSocket socket) {
        this.identity = identity;
        this.loop = loop;
        this.socket = socket;
        this.channelOptions = b.channelOptions;
        this.punchOptions = b.punchOptions;
        this.probeBudget = new ProbeBudget(loop::nanoTime);
        this.connectTimeout = b.connectTimeout;
        socket.onSetup(this::onSetup);
        this.incomingCallbacks = loop.callbacks().serial();
        this.stateCallbacks = loop.callbacks().serial();
        loop.onFailure(this::fail);
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
        EventLoop loop = new EventLoop("peerlink-" + identity.id().shortForm(), b.callbackExecutor);
        LinkSocket socket = new LinkSocket(createUdp(b.udpBinds.get(0)), loop);
        try {
            socket.start();
        } catch (IOException | RuntimeException e) {
            loop.close();
            socket.close();
            throw new PeerLinkException("cannot bind UDP " + b.udpBinds.get(0) + ": " + e.getMessage(), e);
        }
        DeviceImpl device = new DeviceImpl(b, identity, loop, socket);
        if (device.rendezvousClient != null) {
            InetSocketAddress stun = b.stunServer != null ? b.stunServer
                    : new InetSocketAddress(b.rendezvous.getHost(), 3478);
            device.gatherAndRegister(stun, b.hostCandidates);
            device.rendezvousClient.start();
        }
        return device;
    }

    private static Transport createUdp(InetSocketAddress bind) {
        for (TransportProvider p : ServiceLoader.load(TransportProvider.class, DeviceImpl.class.getClassLoader())) {
            if (p.scheme().equals("udp")) {
                return p.create(TransportConfig.bind(Endpoint.udp(bind)).build());
            }
        }
        throw new PeerLinkException("no UDP transport found: add io.peerlink:peerlink-transport-udp to the class or module path");
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
        return List.of(socket.localEndpoint());
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

    private void punch(Introduction intro, CompletableFuture<PeerLink> result) {
        LOG.log(System.Logger.Level.DEBUG, () -> "introduced to " + intro.peer().shortForm() + " as " + intro.role()
                + ", start in " + intro.startIn().toMillis() + " ms, opener TTL " + punchOptions.effectiveOpenerTtl(hopsToStun)
                + ", peer candidates " + intro.peerCandidates());
        int ttl = punchOptions.effectiveOpenerTtl(hopsToStun);
        ConnectivityCheck check = new ConnectivityCheck(loop, socket, intro.localConnectionId(), intro.remoteConnectionId(),
                intro.sessionToken(), intro.role() == Introduction.Role.INITIATOR, intro.peerCandidates(), punchOptions, ttl,
                probeBudget);
        checks.put(intro.localConnectionId(), check);
        // The check completes on the loop; open the link right there. A further hop through the
        // loop's queue would let the peer's first channel packet (its flow-control credit), already
        // queued behind the nominating PROBE_ACK, find no link and be dropped, stalling the sender
        // for a retransmission timeout.
        check.result().whenComplete((selected, error) -> onLoop(() -> {
            if (error != null) {
                checks.remove(intro.localConnectionId());
                Throwable cause = error instanceof java.util.concurrent.CompletionException ? error.getCause() : error;
                result.completeExceptionally(new UnreachableException(intro.peer(), UnreachableException.Reason.NO_PATH,
                        cause instanceof NoPathException ? cause.getMessage() : String.valueOf(cause)));
                return;
            }
            // The finished check keeps answering the peer's (authenticated) probes for a while: the
            // peer may still be checking, e.g. when our answer to its nomination was lost.
            loop.schedule(() -> checks.remove(intro.localConnectionId()), punchOptions.totalDuration().toNanos());
            PathKind kind = selected.type() == CandidateType.HOST ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC;
            result.complete(openLink(intro.peer(), intro.localConnectionId(), intro.remoteConnectionId(), selected.remote(), kind));
        }));
        check.start(intro.startIn());
    }

    /**
     * The server says the link's peer lost its control connection. A peer that only lost the
     * server still answers over the link, so ask it: no answer to a PING within
     * {@link #PEER_OFFLINE_CONFIRM} closes the link with PEER_OFFLINE.
     */
    private void confirmOffline(PeerLinkImpl link) {
        CompletableFuture<java.time.Duration> ping = link.engine().ping().toCompletableFuture();
        EventLoop.Timer t = loop.schedule(() -> {
            if (!ping.isDone()) {
                link.engine().abort(CloseReason.PEER_OFFLINE,
                        "the rendezvous server reported the peer offline and it did not answer a ping within "
                                + PEER_OFFLINE_CONFIRM.toMillis() + " ms");
            }
        }, PEER_OFFLINE_CONFIRM.toNanos());
        ping.whenComplete((d, e) -> t.cancel());
    }

    private void onLoop(Runnable task) {
        if (loop.inLoop()) {
            task.run();
        } else {
            loop.execute(task);
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
            for (java.util.function.Consumer<Rendezvous.State> l : stateListeners) {
                stateCallbacks.execute(() -> l.accept(state));
            }
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
            return loop.callbacks().expose(rendezvousClient.registered().thenCombine(gathered, (a, b) -> null));
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

    private record PendingDial(long nonce, Endpoint remote, CompletableFuture<PeerLink> future, long deadline) {
    }

    private static final class IncomingHello {
        final long clientCid;
        final long nonce;
        final DeviceId device;
        long serverCid;
        boolean rejected;
        String rejectReason;

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
        if (!socket.transport().supports(endpoint)) {
            throw new IllegalArgumentException("no transport of this device supports " + endpoint);
        }
        CompletableFuture<PeerLink> result = pending(new CompletableFuture<>());
        loop.execute(() -> {
            long cid = newConnectionId();
            long nonce = RANDOM.nextLong();
            dials.put(cid, new PendingDial(nonce, endpoint, result, loop.nanoTime() + connectTimeout.toNanos()));
            sendHello(cid, 100_000_000L);
        });
        return loop.callbacks().expose(result);
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
        socket.send(d.remote(), b);
        loop.schedule(() -> sendHello(cid, Math.min(interval * 2, 1_000_000_000L)), interval);
    }

    private void onSetup(Endpoint source, ByteBuffer datagram) {
        int type = datagram.get(datagram.position()) & 0xff;
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> {
                    SetupPacket.Probe probe = SetupPacket.readProbe(datagram);
                    ConnectivityCheck check = checks.get(probe.destinationCid());
                    if (check != null) {
                        check.onProbe(source, probe);
                    }
                }
                case SetupPacket.HELLO -> onHello(source, SetupPacket.readHello(datagram));
                case SetupPacket.HELLO_ACK -> onHelloAck(source, SetupPacket.readHello(datagram));
                case SetupPacket.HELLO_REJECT -> {
                    SetupPacket.HelloReject r = SetupPacket.readHelloReject(datagram);
                    PendingDial d = dials.get(r.clientCid());
                    if (d != null && d.nonce() == r.nonce()) {
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

    private void onHello(Endpoint source, SetupPacket.Hello hello) {
        String key = source + "/" + Long.toHexString(hello.clientCid());
        IncomingHello state = hellos.get(key);
        if (state != null) {
            if (state.nonce == hello.nonce()) {
                answerHello(source, state);
            }
            return;
        }
        if (hellos.size() >= MAX_PENDING_HELLOS) {
            LOG.log(System.Logger.Level.WARNING, "dropping HELLO from " + source + ": " + MAX_PENDING_HELLOS + " link requests pending");
            return;
        }
        IncomingHello fresh = new IncomingHello(hello.clientCid(), hello.nonce(), hello.device());
        hellos.put(key, fresh);
        IncomingHandler handler = incomingHandler;
        if (handler == null) {
            fresh.rejected = true;
            fresh.rejectReason = "device accepts no incoming links";
            answerHello(source, fresh);
            return;
        }
        AtomicBoolean decided = new AtomicBoolean();
        IncomingRequest request = new IncomingRequest() {
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
                    fresh.serverCid = newConnectionId();
                    PeerLinkImpl link = openLink(hello.device(), fresh.serverCid, fresh.clientCid, source, kindOf(source));
                    link.engine().closed().thenRun(() -> loop.execute(() -> hellos.remove(key)));
                    answerHello(source, fresh);
                    f.complete(link);
                });
                return loop.callbacks().expose(f);
            }

            @Override
            public void reject(String reason) {
                if (!decided.compareAndSet(false, true)) {
                    throw new IllegalStateException("already decided");
                }
                loop.execute(() -> {
                    fresh.rejected = true;
                    fresh.rejectReason = reason;
                    answerHello(source, fresh);
                    loop.schedule(() -> hellos.remove(key), TimeUnit.SECONDS.toNanos(30));
                });
            }
        };
        incomingCallbacks.execute(() -> handler.onIncoming(request));
    }

    private void answerHello(Endpoint source, IncomingHello state) {
        ByteBuffer b = ByteBuffer.allocate(256);
        if (state.rejected) {
            SetupPacket.writeHelloReject(b, state.clientCid, state.nonce, state.rejectReason);
        } else if (state.serverCid != 0) {
            SetupPacket.writeHello(b, SetupPacket.HELLO_ACK, state.clientCid, state.serverCid, state.nonce, identity.id());
        } else {
            return;
        }
        b.flip();
        socket.send(source, b);
    }

    private void onHelloAck(Endpoint source, SetupPacket.Hello ack) {
        PendingDial d = dials.get(ack.clientCid());
        if (d == null || d.nonce() != ack.nonce()) {
            return;
        }
        dials.remove(ack.clientCid());
        d.future().complete(openLink(ack.device(), ack.clientCid(), ack.serverCid(), source, kindOf(source)));
    }

    private static PathKind kindOf(Endpoint remote) {
        InetAddress a = remote.toSocketAddress().getAddress();
        return a.isLoopbackAddress() || a.isSiteLocalAddress() || a.isLinkLocalAddress()
                ? PathKind.DIRECT_PRIVATE : PathKind.DIRECT_PUBLIC;
    }

    // ---------------------------------------------------------------- links

    private PeerLinkImpl openLink(DeviceId peer, long localCid, long remoteCid, Endpoint remote, PathKind kind) {
        int maxDatagram = socket.transport().capabilities().maxDatagramSize();
        DatagramPath path = new DatagramPath() {
            @Override
            public boolean send(ByteBuffer datagram) {
                try {
                    return socket.send(remote, datagram);
                } catch (IllegalStateException e) {
                    // The device is closing and its transport already stopped: a lost datagram,
                    // as TransportPath treats it; the channel is being aborted anyway.
                    datagram.position(datagram.limit());
                    return false;
                }
            }

            @Override
            public int maxDatagramSize() {
                return maxDatagram;
            }
        };
        ChannelEngine engine = new ChannelEngine(loop, localCid, remoteCid, path, channelOptions);
        PeerLinkImpl link = new PeerLinkImpl(peer, engine, new PathInfo(kind, socket.localEndpoint(), remote));
        links.put(localCid, link);
        socket.register(localCid, (src, datagram) -> engine.onDatagram(datagram));
        engine.closed().thenRun(() -> {
            socket.unregister(localCid);
            links.remove(localCid);
        });
        engine.start();
        return link;
    }

    private long newConnectionId() {
        long id;
        do {
            id = RANDOM.nextLong();
        } while (id == 0 || links.containsKey(id) || dials.containsKey(id));
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
            loop.execute(drained::countDown);
            try {
                drained.await(1, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        socket.close();
        loop.close();
        down.complete(null);
    }

    @Override
    public String toString() {
        return "Device[" + identity.id().shortForm() + " on " + socket.localEndpoint() + "]";
    }
}
