package io.peerlink.bench.rendezvous;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.transport.HttpClientTransportOverHTTP;
import org.eclipse.jetty.io.ClientConnector;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import org.eclipse.jetty.websocket.api.Callback;
import org.eclipse.jetty.websocket.client.WebSocketClient;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;
import java.util.stream.IntStream;

/**
 * The simulated devices and the one Jetty WebSocket client they share (two selector threads and
 * a small pool, not a thread per device). Every new TCP connection is bound, round robin, to the
 * next of many loopback source addresses 127.1.x.y, so the 10,000 connections to one server port
 * are not limited by one source address's ephemeral port range, and look like many hosts.
 */
final class Fleet implements AutoCloseable {
    private static final int MAX_NOTES = 20;

    final LongAdder pingsAnswered = new LongAdder();
    final LongAdder protocolErrors = new LongAdder();
    final LongAdder serverErrors = new LongAdder();
    final LongAdder rateLimited = new LongAdder();
    final LongAdder unexpected = new LongAdder();
    final LongAdder unexpectedCloses = new LongAdder();
    final LongAdder sendFailures = new LongAdder();
    /** Admissions by resumption ticket, and resumes the server refused (protocol 2.1). */
    final LongAdder resumed = new LongAdder();
    final LongAdder ticketsRejected = new LongAdder();
    private final AtomicInteger notes = new AtomicInteger();
    /** Devices send a {@code link-report} after an introduction (at most one per 1.1 s each), as PeerLink devices do. */
    volatile boolean linkReports;

    private final URI server;
    /** Device i connects to {@code servers.get(i % servers.size())}: several nodes behind one name, evenly. */
    private final List<URI> servers;
    private final RendezvousCodec codec = new RendezvousCodec();
    private final QueuedThreadPool threads;
    private final HttpClient http;
    private final WebSocketClient client;
    private final List<LoadDevice> devices = new ArrayList<>();
    private final Callback sendCallback = Callback.from(() -> { }, failure -> sendFailures.increment());
    private volatile Introductions introductions;

    /**
     * @param server the control URI
     * @param sourceAddresses how many loopback source addresses to spread connections over
     * @throws Exception if Jetty's client cannot start
     */
    Fleet(URI server, int sourceAddresses) throws Exception {
        this(List.of(server), sourceAddresses, 0);
    }

    /**
     * @param servers the control URIs of the nodes; device i connects to {@code servers[i % n]}
     * @param sourceAddresses how many loopback source addresses to spread connections over
     * @param firstSource index of the first source address (several fleets in several processes use disjoint ones)
     * @throws Exception if Jetty's client cannot start
     */
    Fleet(List<URI> servers, int sourceAddresses, int firstSource) throws Exception {
        this.servers = List.copyOf(servers);
        this.server = servers.get(0);
        List<InetSocketAddress> sources = new ArrayList<>();
        for (int i = firstSource; i < firstSource + sourceAddresses; i++) {
            sources.add(new InetSocketAddress(loopback(i), 0));
        }
        threads = new QueuedThreadPool(16, 4);
        threads.setName("load-ws");
        threads.setDaemon(true);
        ClientConnector connector = new RotatingSourceConnector(sources);
        connector.setSelectors(2);
        connector.setExecutor(threads);
        connector.setConnectTimeout(Duration.ofSeconds(30));
        connector.setIdleTimeout(Duration.ofMinutes(10));
        http = new HttpClient(new HttpClientTransportOverHTTP(connector));
        http.setExecutor(threads);
        // Upgrade requests go through the HTTP connection pool; the defaults (64 connections,
        // 1024 queued requests per destination) would throttle the connect phase, not the server.
        http.setMaxConnectionsPerDestination(1_000_000);
        http.setMaxRequestsQueuedPerDestination(1_000_000);
        http.setIdleTimeout(Duration.ofMinutes(10).toMillis());
        client = new WebSocketClient(http);
        client.setIdleTimeout(Duration.ofMinutes(10));
        client.setStopTimeout(30_000);
        client.start();
    }

    /**
     * @param i index of a source address
     * @return {@code 127.1.x.y}: loopback (all of 127.0.0.0/8 is local on Linux), never 127.0.0.1 the server uses
     */
    static InetAddress loopback(int i) {
        try {
            return InetAddress.getByAddress(new byte[] {127, 1, (byte) (i / 250), (byte) (1 + i % 250)});
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e);
        }
    }

    URI server() {
        return server;
    }

    RendezvousCodec codec() {
        return codec;
    }

    Callback sendCallback() {
        return sendCallback;
    }

    Introductions introductions() {
        return introductions;
    }

    void introductions(Introductions run) {
        introductions = run;
    }

    /** @param text a diagnostic printed for the first few occurrences only, so a storm does not drown the results */
    void note(String text) {
        if (notes.incrementAndGet() <= MAX_NOTES) {
            System.err.println("  ! " + text);
        }
    }

    /**
     * Creates fresh Ed25519 identities in parallel, before any connection is made, so key
     * generation never counts towards a measured phase.
     *
     * @param count how many
     * @return the identities
     */
    static DeviceIdentity[] identities(int count) {
        DeviceIdentity[] ids = new DeviceIdentity[count];
        IntStream.range(0, count).parallel().forEach(i -> ids[i] = DeviceIdentity.ephemeral());
        return ids;
    }

    /** @param identities one device per identity, appended in order */
    void add(DeviceIdentity[] identities) {
        for (DeviceIdentity identity : identities) {
            devices.add(new LoadDevice(devices.size(), identity, this));
        }
    }

    /** @param keys one device per key (signing with BouncyCastle, cheap for the load generator), appended in order */
    void add(FastKey[] keys) {
        for (FastKey key : keys) {
            devices.add(new LoadDevice(devices.size(), key.id(), key.publicKey(), key::sign, this));
        }
    }

    /** @return every device created so far, in index order */
    List<LoadDevice> devices() {
        return devices;
    }

    /** What a connect phase achieved. @param registered devices welcomed @param failed devices that were not @param nanos elapsed */
    record ConnectResult(int registered, int failed, long nanos) {
    }

    /**
     * Like {@link #connect(int, int, int)}, then connects the devices whose registration failed
     * again (as a real device reconnects after, e.g., a hello timeout on an overloaded server), up
     * to {@code attempts} rounds in all.
     *
     * @param count devices 0..count-1
     * @param parallelism handshakes in flight
     * @param attempts rounds at most
     * @return the outcome over all rounds, and how many reconnects were needed
     * @throws InterruptedException if interrupted
     */
    RetriedConnect connectRetrying(int count, int parallelism, int attempts) throws InterruptedException {
        long start = System.nanoTime();
        List<Integer> todo = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            todo.add(i);
        }
        int reconnects = 0;
        for (int round = 0; round < attempts && !todo.isEmpty(); round++) {
            if (round > 0) {
                reconnects += todo.size();
                for (int i : todo) {
                    devices.get(i).reset();
                }
            }
            todo = connect(todo, parallelism);
        }
        return new RetriedConnect(count - todo.size(), todo.size(), reconnects, System.nanoTime() - start);
    }

    /** @param registered welcomed @param failed not, after every round @param reconnects second and later attempts @param nanos elapsed */
    record RetriedConnect(int registered, int failed, int reconnects, long nanos) {
    }

    /**
     * Connects and registers devices {@code from} (inclusive) to {@code to} (exclusive), with at most
     * {@code parallelism} handshakes in flight, and waits for all of them.
     *
     * @param from first device index
     * @param to end index
     * @param parallelism handshakes in flight
     * @return the outcome
     * @throws InterruptedException if interrupted
     */
    ConnectResult connect(int from, int to, int parallelism) throws InterruptedException {
        List<Integer> indices = new ArrayList<>(to - from);
        for (int i = from; i < to; i++) {
            indices.add(i);
        }
        long start = System.nanoTime();
        List<Integer> failed = connect(indices, parallelism);
        return new ConnectResult(indices.size() - failed.size(), failed.size(), System.nanoTime() - start);
    }

    /** @return the indices of the devices that did not register */
    private List<Integer> connect(List<Integer> indices, int parallelism) throws InterruptedException {
        Semaphore inFlight = new Semaphore(parallelism);
        List<Integer> failed = java.util.Collections.synchronizedList(new ArrayList<>());
        List<CompletableFuture<Void>> all = new ArrayList<>(indices.size());
        for (int i : indices) {
            LoadDevice d = devices.get(i);
            inFlight.acquire();
            CompletableFuture<Void> registered = d.registered;
            CompletableFuture<Void> done = registered.orTimeout(60, TimeUnit.SECONDS).whenComplete((v, failure) -> {
                inFlight.release();
                if (failure != null) {
                    failed.add(d.index);
                    note("device " + d.index + " did not register: " + failure);
                }
            });
            all.add(done);
            try {
                client.connect(d, servers.get(d.index % servers.size())).whenComplete((session, failure) -> {
                    if (failure != null) {
                        registered.completeExceptionally(failure);
                    }
                });
            } catch (Exception e) {
                registered.completeExceptionally(e);
            }
        }
        CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).handle((v, e) -> null).join();
        return new ArrayList<>(failed);
    }

    /** @return how many distinct source addresses the live connections use */
    int distinctSourceAddresses() {
        Set<InetAddress> seen = new HashSet<>();
        for (LoadDevice d : devices) {
            if (d.localAddress() instanceof InetSocketAddress a) {
                seen.add(a.getAddress());
            }
        }
        return seen.size();
    }

    /**
     * Closes every connection and stops the client. A slow close handshake with thousands of
     * sessions is not a benchmark failure: it is reported, and the client is stopped anyway.
     */
    @Override
    public void close() {
        for (LoadDevice d : devices) {
            d.closing();
        }
        try {
            client.stop();
        } catch (Exception e) {
            System.err.println("  ! WebSocket client stop: " + e);
        }
        try {
            http.stop();
        } catch (Exception e) {
            System.err.println("  ! HTTP client stop: " + e);
        }
        codec.close();
    }

    /** Binds each new socket to the next source address instead of one fixed bind address. */
    private static final class RotatingSourceConnector extends ClientConnector {
        private final List<InetSocketAddress> sources;
        private final AtomicInteger next = new AtomicInteger();

        RotatingSourceConnector(List<InetSocketAddress> sources) {
            this.sources = List.copyOf(sources);
        }

        @Override
        public SocketAddress getBindAddress() {
            // ClientConnector.connect() asks once per new socket, just before bind(): rotate here.
            return sources.get(Math.floorMod(next.getAndIncrement(), sources.size()));
        }
    }
}
