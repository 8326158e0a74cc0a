package io.peerlink.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.binder.jetty.JettyConnectionMetrics;
import io.micrometer.core.instrument.binder.jetty.JettyServerThreadPoolMetrics;
import io.micrometer.core.instrument.Tags;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.server.rendezvous.RendezvousEvents;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.stun.StunService;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.thread.ThreadPool;

import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The server's Micrometer meters, exposed in the Prometheus text format at {@code GET /metrics}
 * (every meter is listed in docs/operations.md). Counters are bumped by {@link RendezvousEvents}
 * callbacks; gauges read the service, STUN and Jetty when scraped, so the hot path pays one
 * counter increment per event and nothing per device.
 */
public final class ServerMetrics implements RendezvousEvents {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final RendezvousService rendezvous;
    /** Held here: Micrometer's function counters keep only weak references to what they read. */
    private final StunService stun;
    private final Counter introductions;
    private final Map<String, Counter> admissions = new ConcurrentHashMap<>();
    private final Map<ErrorCode, Counter> refusals = new ConcurrentHashMap<>();
    private final Map<UnreachableException.Reason, Counter> unreachable = new ConcurrentHashMap<>();
    /** One gauge per network ever seen; a network that empties reads 0 rather than vanishing. */
    private final Map<String, AtomicInteger> online = new ConcurrentHashMap<>();
    /** Links the devices report, per path kind (docs/protocol-rendezvous.md, "Link reports"); refreshed per scrape. */
    private final Map<io.peerlink.PathKind, AtomicInteger> links = new java.util.EnumMap<>(io.peerlink.PathKind.class);

    /**
     * Registers the meters and subscribes to the service's events.
     *
     * @param rendezvous the rendezvous service
     * @param stun the STUN service, or null when STUN is off
     * @param jetty the Jetty server, before it starts (connection metrics attach to its connectors)
     */
    public ServerMetrics(RendezvousService rendezvous, StunService stun, Server jetty) {
        this.rendezvous = rendezvous;
        this.stun = stun;
        introductions = Counter.builder("peerlink.introductions")
                .description("Introductions made (both devices told to punch)").register(registry);
        Gauge.builder("peerlink.devices.connected", rendezvous, RendezvousService::devicesOnline)
                .description("Devices with an admitted, live control connection").register(registry);
        Gauge.builder("peerlink.control.queued.bytes", rendezvous, RendezvousService::queuedBytes)
                .description("Characters queued on all control connections and not yet written").baseUnit("bytes")
                .register(registry);
        FunctionCounter.builder("peerlink.connect.requests", rendezvous, RendezvousService::connectRequests)
                .description("Connect requests received").register(registry);
        FunctionCounter.builder("peerlink.protocol.errors", rendezvous, RendezvousService::protocolErrors)
                .description("Malformed or misplaced control messages answered with an error").register(registry);
        if (stun != null) {
            FunctionCounter.builder("peerlink.stun.answered", stun, StunService::answered)
                    .description("STUN Binding requests answered").register(registry);
            FunctionCounter.builder("peerlink.stun.rate.limited", stun, StunService::rateLimited)
                    .description("Valid STUN requests dropped by the per-source limit").register(registry);
            FunctionCounter.builder("peerlink.stun.dropped", stun, StunService::dropped)
                    .description("STUN datagrams dropped (garbage, non-requests, over the limit)").register(registry);
        }
        // Relaying, TURN and the WebSocket relay alike (docs/relay.md): datagram bytes relayed and datagrams dropped.
        FunctionCounter.builder("peerlink.relay.bytes", rendezvous, r -> r.wsRelay().relayedBytes()).tag("relay", "ws")
                .description("Datagram bytes relayed").baseUnit("bytes").register(registry);
        FunctionCounter.builder("peerlink.relay.dropped", rendezvous, r -> r.wsRelay().dropped()).tag("relay", "ws")
                .description("Relayed datagrams dropped (limits, permissions, undeliverable)").register(registry);
        FunctionCounter.builder("peerlink.relay.bytes", rendezvous, r -> turnStat(r, true)).tag("relay", "turn")
                .description("Datagram bytes relayed").baseUnit("bytes").register(registry);
        FunctionCounter.builder("peerlink.relay.dropped", rendezvous, r -> turnStat(r, false)).tag("relay", "turn")
                .description("Relayed datagrams dropped (limits, permissions, undeliverable)").register(registry);
        for (io.peerlink.PathKind kind : io.peerlink.PathKind.values()) {
            AtomicInteger value = new AtomicInteger();
            links.put(kind, value);
            Gauge.builder("peerlink.links", value, AtomicInteger::get).tag("path", kind.name())
                    .description("Open links between devices as the devices report them, by the kind of their active path")
                    .register(registry);
        }
        JettyConnectionMetrics.addToAllConnectors(jetty, registry, Tags.empty());
        ThreadPool pool = jetty.getThreadPool();
        new JettyServerThreadPoolMetrics(pool, Tags.empty()).bindTo(registry);
        rendezvous.addEvents(this);
    }

    private static double turnStat(RendezvousService rendezvous, boolean bytes) {
        io.peerlink.server.relay.TurnRelays relays = rendezvous.relays();
        io.peerlink.relay.turn.TurnServer turn = relays == null ? null : relays.embedded();
        if (turn == null) {
            return 0;
        }
        io.peerlink.relay.turn.TurnServer.Stats stats = turn.stats();
        return bytes ? stats.relayedBytes() : stats.droppedFrames();
    }

    @Override
    public void admitted(String network) {
        admissions.computeIfAbsent(network, n -> Counter.builder("peerlink.admissions").tag("network", n)
                .description("Devices admitted").register(registry)).increment();
    }

    @Override
    public void refused(ErrorCode reason) {
        refusals.computeIfAbsent(reason, r -> Counter.builder("peerlink.refusals").tag("reason", r.name())
                .description("Connections closed before admission, by the error code answered").register(registry)).increment();
    }

    @Override
    public void introduced() {
        introductions.increment();
    }

    @Override
    public void unreachable(UnreachableException.Reason reason) {
        unreachable.computeIfAbsent(reason, r -> Counter.builder("peerlink.connect.unreachable").tag("reason", r.name())
                .description("Connect requests answered 'unreachable', by reason").register(registry)).increment();
    }

    /** @return the Prometheus text exposition of every meter (refreshes the per-network gauges first) */
    public String scrape() {
        Map<String, Integer> now = rendezvous.registry().onlineByNetwork();
        for (Map.Entry<String, Integer> e : now.entrySet()) {
            online.computeIfAbsent(e.getKey(), n -> {
                AtomicInteger value = new AtomicInteger();
                Gauge.builder("peerlink.devices.online", value, AtomicInteger::get).tag("network", n)
                        .description("Devices online in this network").register(registry);
                return value;
            }).set(e.getValue());
        }
        Set<String> gone = online.keySet();
        for (String n : gone) {
            if (!now.containsKey(n)) {
                online.get(n).set(0);
            }
        }
        // A link reported by both ends counts once, with the path kind of whichever report is seen first.
        Map<io.peerlink.PathKind, Integer> byKind = new java.util.EnumMap<>(io.peerlink.PathKind.class);
        Set<String> pairs = new java.util.HashSet<>();
        io.peerlink.server.rendezvous.LinkReports.forEachSession(rendezvous, s -> {
            for (io.peerlink.protocol.rendezvous.Message.LinkReport.Link l : s.links()) {
                String a = s.id().value();
                String b = l.peer().value();
                if (pairs.add(a.compareTo(b) < 0 ? a + b : b + a)) {
                    byKind.merge(l.path(), 1, Integer::sum);
                }
            }
        });
        links.forEach((kind, value) -> value.set(byKind.getOrDefault(kind, 0)));
        return registry.scrape();
    }

    /** @return the content type of {@link #scrape()} */
    public static String contentType() {
        return "text/plain; version=0.0.4; charset=utf-8";
    }

    /** Closes the registry. */
    public void close() {
        registry.close();
    }
}
