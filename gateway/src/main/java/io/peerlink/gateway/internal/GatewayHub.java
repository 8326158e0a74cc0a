package io.peerlink.gateway.internal;

import io.peerlink.gateway.Command;
import io.peerlink.gateway.CommandResult;
import io.peerlink.gateway.DeviceRegistration;
import io.peerlink.gateway.GatewayException;
import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayKeyStore;
import io.peerlink.gateway.GatewayLimits;
import io.peerlink.gateway.GatewayPlatform;
import io.peerlink.gateway.GatewayStatus;
import io.peerlink.gateway.ModelState;
import io.peerlink.gateway.Telemetry;
import io.socket.socketio.server.SocketIoNamespace;
import io.socket.socketio.server.SocketIoSocket;

import org.json.JSONArray;
import org.json.JSONException;
import org.json.JSONObject;

import java.time.Instant;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The gateway protocol on one Socket.IO namespace (docs/gateway.md).
 *
 * <p>Locking: engine.io-server-java holds its per-session lock while it dispatches events that
 * arrived by long-polling, and takes it again for every send. So nothing here may hold a lock of
 * ours while calling into a socket unless that call happens on the receiving thread itself:
 * incoming events are serialised per connection by the connection's monitor (taken inside
 * engine.io's lock on that thread), while platform calls, the sweep and disconnect handling use
 * no lock of ours around socket calls (only volatile fields and concurrent maps).
 */
public final class GatewayHub implements GatewayPlatform {

    private static final Logger LOG = LoggerFactory.getLogger(GatewayHub.class);

    private final GatewayKeyStore keys;
    private final GatewayLimits limits;
    private final ScheduledExecutorService scheduler;
    private final NonceRegistry nonces;
    private final Map<String, Connection> connections = new ConcurrentHashMap<>();
    /** Authenticated connections held by this node. */
    private final Map<String, Connection> online = new ConcurrentHashMap<>();
    /** Devices, models, which node holds which gateway: in memory, or in Redis for several nodes. */
    private final GatewayState state;
    /** Commands this node sent through another node, by command id. */
    private final Map<String, CompletableFuture<CommandResult>> remoteCommands = new ConcurrentHashMap<>();
    private volatile long lastRefreshNanos = System.nanoTime();
    private final List<Consumer<Telemetry>> telemetryListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<GatewayStatus>> statusListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<DeviceRegistration>> deviceListeners = new CopyOnWriteArrayList<>();

    public GatewayHub(GatewayKeyStore keys, GatewayLimits limits, ScheduledExecutorService scheduler) {
        this(keys, limits, scheduler, new InMemoryGatewayState());
    }

    public GatewayHub(GatewayKeyStore keys, GatewayLimits limits, ScheduledExecutorService scheduler, GatewayState state) {
        this.state = state;
        state.listen(this::onNodeMessage, gatewayId -> {
            Connection c = online.get(gatewayId);
            if (c != null && online.remove(gatewayId, c)) {
                // It authenticated on another node since: that node has it now; no OFFLINE status, it is online.
                scheduler.execute(c::disconnect);
            }
        });
        this.keys = keys;
        this.limits = limits;
        this.scheduler = scheduler;
        this.nonces = new NonceRegistry(limits.nonceTtl().toNanos());
        long sweep = Math.max(10, limits.heartbeatInterval().toMillis() / 4);
        scheduler.scheduleAtFixedRate(this::sweep, sweep, sweep, TimeUnit.MILLISECONDS);
    }

    /** Installs the protocol on {@code namespace}. */
    public void attach(SocketIoNamespace namespace) {
        namespace.on("connection", args -> onConnect((SocketIoSocket) args[0]));
    }

    private final class Connection {
        final SocketIoSocket socket;
        final String id = UUID.randomUUID().toString();
        final long openedNanos = System.nanoTime();
        final TokenBucket events = new TokenBucket(limits.eventsPerSecond(), limits.eventBurst(), openedNanos);
        final Map<String, CompletableFuture<CommandResult>> pending = new ConcurrentHashMap<>();
        volatile String gatewayId;
        volatile long lastSeenNanos = openedNanos;
        int authFailures;
        volatile boolean closed;

        Connection(SocketIoSocket socket) {
            this.socket = socket;
        }

        /** Sends from a platform thread; a closed connection drops the event. */
        void send(String event, Object... args) {
            if (!closed) {
                socket.send(event, args);
            }
        }

        void disconnect() {
            if (!closed) {
                socket.disconnect(true);
            }
        }
    }

    private void onConnect(SocketIoSocket socket) {
        Connection c = new Connection(socket);
        connections.put(c.id, c);
        socket.on("disconnect", args -> onDisconnect(c, args.length > 0 ? String.valueOf(args[0]) : "disconnect"));
        socket.registerAllEventListener((event, args) -> onEvent(c, event, args));
        String nonce = nonces.issue(c.id, System.nanoTime());
        c.send("challenge", new JSONObject()
                .put("nonce", nonce)
                .put("algorithms", new JSONArray(List.of(ChallengeVerifier.HMAC, ChallengeVerifier.ED25519)))
                .put("expiresInMs", limits.nonceTtl().toMillis()));
    }

    private void onDisconnect(Connection c, String reason) {
        c.closed = true;
        connections.remove(c.id);
        nonces.forget(c.id);
        for (CompletableFuture<CommandResult> f : c.pending.values()) {
            f.completeExceptionally(new GatewayException(GatewayException.Reason.DISCONNECTED,
                    "gateway " + c.gatewayId + " disconnected before acknowledging (" + reason + ")"));
        }
        String gw = c.gatewayId;
        if (gw != null && online.remove(gw, c)) {
            state.offline(gw);
            status(gw, GatewayStatus.State.OFFLINE, reason);
        }
    }

    private void onEvent(Connection c, String event, Object[] args) {
        Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ack = Optional.empty();
        if (args.length > 0 && args[args.length - 1] instanceof SocketIoSocket.ReceivedByLocalAcknowledgementCallback a) {
            ack = Optional.of(a);
        }
        synchronized (c) {
            if (c.closed) {
                return;
            }
            try {
                long now = System.nanoTime();
                if (!c.events.tryTake(now)) {
                    throw new ProtocolError(ProtocolError.RATE_LIMITED, event + ": more than "
                            + limits.eventsPerSecond() + " events per second on this connection", ack);
                }
                if (c.gatewayId != null) {
                    // Any authenticated event proves the gateway is alive, not only heartbeats.
                    c.lastSeenNanos = now;
                }
                JSONObject reply = dispatch(c, event, args, ack);
                ack.ifPresent(a -> a.sendAcknowledgement(reply.put("ok", true)));
            } catch (ProtocolError e) {
                refuse(c, event, e);
            } catch (JSONException | IllegalArgumentException e) {
                refuse(c, event, new ProtocolError(ProtocolError.BAD_REQUEST, event + ": " + e.getMessage(), ack));
            } catch (GatewayException e) {
                // The shared state (Redis) is unreachable: the gateway may retry; nothing was changed.
                refuse(c, event, new ProtocolError(ProtocolError.UNAVAILABLE, event + ": " + e.getMessage(), ack));
            }
        }
    }

    private void refuse(Connection c, String event, ProtocolError e) {
        JSONObject err = new JSONObject().put("ok", false).put("error", e.code).put("message", e.getMessage());
        if (e.ack.isPresent()) {
            e.ack.get().sendAcknowledgement(err);
        } else {
            c.socket.send("protocol-error", err.put("event", event));
        }
        if (ProtocolError.AUTH_FAILED.equals(e.code) || ProtocolError.UNKNOWN_NONCE.equals(e.code)
                || ProtocolError.EXPIRED_NONCE.equals(e.code)) {
            if (++c.authFailures >= limits.maxAuthFailures()) {
                c.socket.disconnect(true);
                return;
            }
            // Each attempt needs a fresh nonce: the old one was consumed.
            c.socket.send("challenge", new JSONObject()
                    .put("nonce", nonces.issue(c.id, System.nanoTime()))
                    .put("algorithms", new JSONArray(List.of(ChallengeVerifier.HMAC, ChallengeVerifier.ED25519)))
                    .put("expiresInMs", limits.nonceTtl().toMillis()));
        }
    }

    private JSONObject dispatch(Connection c, String event, Object[] args,
                                Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ack) {
        if (!event.equals("authenticate") && !event.equals("device:register") && !event.equals("telemetry")
                && !event.equals("model:report") && !event.equals("model:get") && !event.equals("heartbeat")) {
            throw new ProtocolError(ProtocolError.UNKNOWN_EVENT, "unknown event '" + event + "'", ack);
        }
        EventArgs a = EventArgs.parse(event, args, limits.maxJsonBytes(), limits.maxAttachmentBytes());
        if (event.equals("authenticate")) {
            return authenticate(c, a);
        }
        if (c.gatewayId == null) {
            throw new ProtocolError(ProtocolError.UNAUTHENTICATED, event + ": authenticate first", ack);
        }
        return switch (event) {
            case "device:register" -> register(c, a);
            case "telemetry" -> telemetry(c, a);
            case "model:report" -> report(c, a);
            case "model:get" -> DeviceModel.toJson(device(c, a, event));
            default -> new JSONObject().put("serverTime", System.currentTimeMillis());
        };
    }

    private JSONObject authenticate(Connection c, EventArgs a) {
        if (c.gatewayId != null) {
            throw new ProtocolError(ProtocolError.ALREADY_AUTHENTICATED, "authenticate: already authenticated as "
                    + c.gatewayId, a.ack());
        }
        String gatewayId = a.id("authenticate", "gatewayId");
        String algorithm = a.string("authenticate", "algorithm", 32);
        String nonce = a.string("authenticate", "nonce", 128);
        String proofText = a.string("authenticate", "proof", 256);
        byte[] proof;
        try {
            proof = Base64.getDecoder().decode(proofText);
        } catch (IllegalArgumentException e) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, "authenticate: proof is not base64", a.ack());
        }
        NonceRegistry.Verdict v = nonces.consume(nonce, c.id, System.nanoTime());
        if (v == NonceRegistry.Verdict.UNKNOWN_NONCE) {
            throw new ProtocolError(ProtocolError.UNKNOWN_NONCE,
                    "authenticate: nonce was not issued to this connection or was already used", a.ack());
        }
        if (v == NonceRegistry.Verdict.EXPIRED_NONCE) {
            throw new ProtocolError(ProtocolError.EXPIRED_NONCE, "authenticate: nonce expired", a.ack());
        }
        Optional<GatewayKey> key = keys.find(gatewayId);
        // Unknown gateway and wrong proof get the same answer: the error must not reveal which ids exist.
        if (key.isEmpty() || !ChallengeVerifier.verify(key.get(), algorithm, gatewayId, nonce, proof)) {
            throw new ProtocolError(ProtocolError.AUTH_FAILED, "authenticate: unknown gateway or wrong proof", a.ack());
        }
        c.gatewayId = gatewayId;
        c.lastSeenNanos = System.nanoTime();
        Connection previous = online.put(gatewayId, c);
        try {
            state.online(gatewayId);
        } catch (GatewayException e) {
            // Redis is away: this node serves the gateway; the next refresh publishes it to the other nodes.
            LOG.warn("{} online on this node only: {}", gatewayId, e.getMessage());
        }
        if (previous != null && previous != c) {
            // One connection per gateway id: the newest wins, e.g. after a silent network change.
            scheduler.execute(previous::disconnect);
        }
        status(gatewayId, GatewayStatus.State.ONLINE, previous == null ? "authenticated" : "reconnected");
        return new JSONObject().put("gatewayId", gatewayId)
                .put("heartbeatIntervalMs", limits.heartbeatInterval().toMillis());
    }

    private JSONObject register(Connection c, EventArgs a) {
        String deviceId = a.id("device:register", "deviceId");
        JSONObject metadata = a.object("device:register", "metadata", false);
        Optional<ModelState> m = state.register(c.gatewayId, deviceId, limits.maxDevicesPerGateway());
        if (m.isEmpty()) {
            throw new ProtocolError(ProtocolError.TOO_MANY_DEVICES, "device:register: gateway already has "
                    + limits.maxDevicesPerGateway() + " devices, the limit", a.ack());
        }
        DeviceRegistration r = new DeviceRegistration(c.gatewayId, deviceId, metadata.toString());
        notify(deviceListeners, r);
        return DeviceModel.toJson(m.get());
    }

    private ModelState device(Connection c, EventArgs a, String event) {
        String deviceId = a.id(event, "deviceId");
        return state.model(c.gatewayId, deviceId).orElseThrow(() -> unknownDevice(a, event, deviceId));
    }

    private static ProtocolError unknownDevice(EventArgs a, String event, String deviceId) {
        return new ProtocolError(ProtocolError.UNKNOWN_DEVICE, event + ": device '" + deviceId
                + "' is not registered through this gateway", a.ack());
    }

    private JSONObject telemetry(Connection c, EventArgs a) {
        String deviceId = a.id("telemetry", "deviceId");
        if (!state.isRegistered(c.gatewayId, deviceId)) {
            throw unknownDevice(a, "telemetry", deviceId);
        }
        JSONObject values = a.object("telemetry", "values", true);
        Telemetry t = new Telemetry(c.gatewayId, deviceId, values.toString(), a.attachment(),
                Instant.now());
        notify(telemetryListeners, t);
        return new JSONObject();
    }

    private JSONObject report(Connection c, EventArgs a) {
        String deviceId = a.id("model:report", "deviceId");
        long base = a.version("model:report", "baseVersion");
        JSONObject reported = a.object("model:report", "reported", true);
        ModelState[] after = new ModelState[1];
        GatewayState.ReportOutcome outcome = state.report(c.gatewayId, deviceId, base, reported.toString(), m -> after[0] = m);
        if (outcome == GatewayState.ReportOutcome.UNKNOWN_DEVICE) {
            throw unknownDevice(a, "model:report", deviceId);
        }
        if (outcome == GatewayState.ReportOutcome.CONFLICT) {
            throw new ProtocolError(ProtocolError.VERSION_CONFLICT, "model:report: baseVersion " + base
                    + " is not the current reported version " + after[0].reportedVersion()
                    + "; fetch with model:get and retry", a.ack());
        }
        return DeviceModel.toJson(after[0]);
    }

    private void sweep() {
        try {
            long now = System.nanoTime();
            long offlineAfter = limits.heartbeatInterval().toNanos() * limits.missedHeartbeats();
            long authTimeout = limits.authTimeout().toNanos();
            for (Connection c : connections.values()) {
                if (c.gatewayId == null && now - c.openedNanos > authTimeout) {
                    c.disconnect();
                } else if (c.gatewayId != null && now - c.lastSeenNanos > offlineAfter) {
                    if (online.remove(c.gatewayId, c)) {
                        state.offline(c.gatewayId);
                        status(c.gatewayId, GatewayStatus.State.OFFLINE, "heartbeat-timeout");
                    }
                    c.disconnect();
                }
            }
            nonces.sweep(now);
            if (now - lastRefreshNanos >= limits.heartbeatInterval().toNanos()) {
                lastRefreshNanos = now;
                state.refresh(List.copyOf(online.keySet()));
            }
        } catch (RuntimeException e) {
            LOG.warn("gateway sweep failed", e);
        }
    }

    private void status(String gatewayId, GatewayStatus.State state, String reason) {
        notify(statusListeners, new GatewayStatus(gatewayId, state, reason, Instant.now()));
    }

    private static <T> void notify(List<Consumer<T>> listeners, T value) {
        for (Consumer<T> l : listeners) {
            try {
                l.accept(value);
            } catch (RuntimeException e) {
                LOG.warn("gateway listener failed", e);
            }
        }
    }

    // ---- platform side

    @Override
    public CompletionStage<CommandResult> sendCommand(Command command) {
        CompletableFuture<CommandResult> result = new CompletableFuture<>();
        Connection c = online.get(command.gatewayId());
        String node;
        try {
            node = c == null ? state.remoteNode(command.gatewayId()) : null;
            if (c == null && node == null) {
                return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.GATEWAY_OFFLINE,
                        "gateway " + command.gatewayId() + " is offline"));
            }
            if (!state.isRegistered(command.gatewayId(), command.deviceId())) {
                return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.UNKNOWN_DEVICE,
                        "device " + command.deviceId() + " is not registered through gateway " + command.gatewayId()));
            }
        } catch (GatewayException e) {
            return CompletableFuture.failedFuture(e);
        }
        JSONObject params;
        try {
            params = new JSONObject(command.paramsJson());
        } catch (JSONException e) {
            return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.BAD_JSON,
                    "command params are not a JSON object: " + e.getMessage()));
        }
        if (c == null) {
            return sendThroughNode(node, command, params, result);
        }
        String id = UUID.randomUUID().toString();
        c.pending.put(id, result);
        JSONObject body = new JSONObject().put("commandId", id).put("deviceId", command.deviceId())
                .put("name", command.name()).put("params", params);
        var timeout = scheduler.schedule(() -> result.completeExceptionally(new GatewayException(
                GatewayException.Reason.COMMAND_TIMEOUT, "gateway " + command.gatewayId() + " did not acknowledge "
                + command.name() + " within " + command.timeout().toMillis() + " ms")),
                command.timeout().toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            c.pending.remove(id);
            timeout.cancel(false);
        });
        if (c.closed) {
            result.completeExceptionally(new GatewayException(GatewayException.Reason.DISCONNECTED,
                    "gateway " + command.gatewayId() + " disconnected"));
        } else {
            c.socket.send("command", new Object[] {body}, ackArgs -> result.complete(commandResult(id, ackArgs)));
        }
        return result;
    }

    /**
     * The gateway is connected to another node: that node sends the command and forwards the
     * acknowledgement (or why there is none); the timeout runs here, where the caller waits.
     */
    private CompletionStage<CommandResult> sendThroughNode(String node, Command command, JSONObject params,
                                                           CompletableFuture<CommandResult> result) {
        String id = UUID.randomUUID().toString();
        remoteCommands.put(id, result);
        var timeout = scheduler.schedule(() -> result.completeExceptionally(new GatewayException(
                GatewayException.Reason.COMMAND_TIMEOUT, "gateway " + command.gatewayId() + " did not acknowledge "
                + command.name() + " within " + command.timeout().toMillis() + " ms")),
                command.timeout().toNanos(), TimeUnit.NANOSECONDS);
        result.whenComplete((r, e) -> {
            remoteCommands.remove(id);
            timeout.cancel(false);
        });
        JSONObject message = new JSONObject().put("t", "command").put("origin", state.nodeId()).put("commandId", id)
                .put("gatewayId", command.gatewayId()).put("deviceId", command.deviceId()).put("name", command.name())
                .put("params", params).put("timeoutMs", command.timeout().toMillis());
        if (!state.send(node, message.toString())) {
            result.completeExceptionally(new GatewayException(GatewayException.Reason.GATEWAY_OFFLINE,
                    "gateway " + command.gatewayId() + " is offline (its node is gone)"));
        }
        return result;
    }

    /** What another node sent this one (see {@link #sendThroughNode}); on the state's thread. */
    private void onNodeMessage(String text) {
        JSONObject m;
        try {
            m = new JSONObject(text);
        } catch (JSONException e) {
            LOG.warn("ignoring a malformed message from another node: {}", e.getMessage());
            return;
        }
        switch (m.optString("t")) {
            case "command" -> {
                String origin = m.getString("origin");
                String id = m.getString("commandId");
                Connection c = online.get(m.getString("gatewayId"));
                if (c == null || c.closed) {
                    state.send(origin, new JSONObject().put("t", "ack").put("commandId", id).put("error", "GATEWAY_OFFLINE")
                            .put("message", "gateway " + m.getString("gatewayId") + " is offline").toString());
                    return;
                }
                CompletableFuture<CommandResult> local = new CompletableFuture<>();
                c.pending.put(id, local);
                local.whenComplete((r, e) -> {
                    c.pending.remove(id);
                    JSONObject ack = new JSONObject().put("t", "ack").put("commandId", id);
                    if (e != null) {
                        GatewayException g = e instanceof GatewayException x ? x
                                : new GatewayException(GatewayException.Reason.DISCONNECTED, String.valueOf(e.getMessage()));
                        ack.put("error", g.reason().name()).put("message", g.getMessage());
                    } else {
                        ack.put("ok", r.ok()).put("result", new JSONObject(r.resultJson())).put("refusal", r.error());
                    }
                    state.send(origin, ack.toString());
                });
                // The caller's node runs the timeout and answers its caller; here the entry only has to go away.
                scheduler.schedule(() -> local.completeExceptionally(new GatewayException(GatewayException.Reason.COMMAND_TIMEOUT,
                        "no acknowledgement")), m.getLong("timeoutMs") + 1000, TimeUnit.MILLISECONDS);
                JSONObject body = new JSONObject().put("commandId", id).put("deviceId", m.getString("deviceId"))
                        .put("name", m.getString("name")).put("params", m.getJSONObject("params"));
                c.socket.send("command", new Object[] {body}, ackArgs -> local.complete(commandResult(id, ackArgs)));
            }
            case "ack" -> {
                CompletableFuture<CommandResult> f = remoteCommands.get(m.getString("commandId"));
                if (f == null) {
                    return;
                }
                if (m.has("error")) {
                    f.completeExceptionally(new GatewayException(GatewayException.Reason.valueOf(m.getString("error")),
                            m.optString("message")));
                } else {
                    f.complete(new CommandResult(m.getString("commandId"), m.getBoolean("ok"),
                            m.getJSONObject("result").toString(), m.optString("refusal")));
                }
            }
            case "desired" -> {
                Connection c = online.get(m.getString("gatewayId"));
                if (c != null) {
                    c.send("model:desired", new JSONObject().put("deviceId", m.getString("deviceId"))
                            .put("desired", m.getJSONObject("desired")).put("desiredVersion", m.getLong("desiredVersion")));
                }
            }
            default -> LOG.warn("ignoring an unknown message from another node: {}", m.optString("t"));
        }
    }

    private static CommandResult commandResult(String id, Object[] ackArgs) {
        if (ackArgs.length == 0 || !(ackArgs[0] instanceof JSONObject reply)) {
            return new CommandResult(id, false, "{}", "gateway acknowledged without a JSON object");
        }
        boolean ok = reply.optBoolean("ok", false);
        Object result = reply.opt("result");
        String resultJson = result instanceof JSONObject o ? o.toString() : "{}";
        String error = ok ? "" : reply.optString("error", "refused without reason");
        return new CommandResult(id, ok, resultJson, error);
    }

    @Override
    public ModelState setDesired(String gatewayId, String deviceId, String desiredJson) {
        JSONObject desired;
        try {
            desired = new JSONObject(desiredJson);
        } catch (JSONException e) {
            throw new GatewayException(GatewayException.Reason.BAD_JSON, "desired state is not a JSON object: "
                    + e.getMessage());
        }
        ModelState s = state.setDesired(gatewayId, deviceId, desired.toString()).orElseThrow(() -> new GatewayException(
                GatewayException.Reason.UNKNOWN_DEVICE, "device " + deviceId + " is not registered through gateway " + gatewayId));
        JSONObject push = new JSONObject().put("deviceId", deviceId).put("desired", desired)
                .put("desiredVersion", s.desiredVersion());
        Connection c = online.get(gatewayId);
        if (c != null) {
            c.send("model:desired", push);
        } else {
            String node = state.remoteNode(gatewayId);
            if (node != null) {
                state.send(node, push.put("t", "desired").put("gatewayId", gatewayId).toString());
            }
        }
        return s;
    }

    @Override
    public Optional<ModelState> model(String gatewayId, String deviceId) {
        return state.model(gatewayId, deviceId);
    }

    @Override
    public Set<String> onlineGateways() {
        return state.onlineGateways();
    }

    @Override
    public AutoCloseable onTelemetry(Consumer<Telemetry> listener) {
        return subscribe(telemetryListeners, listener);
    }

    @Override
    public AutoCloseable onStatus(Consumer<GatewayStatus> listener) {
        return subscribe(statusListeners, listener);
    }

    @Override
    public AutoCloseable onDeviceRegistered(Consumer<DeviceRegistration> listener) {
        return subscribe(deviceListeners, listener);
    }

    private static <T> AutoCloseable subscribe(List<Consumer<T>> list, Consumer<T> listener) {
        java.util.Objects.requireNonNull(listener, "listener");
        list.add(listener);
        return () -> list.remove(listener);
    }

    /** Fails pending commands and disconnects everyone; called when the server stops. */
    public void close() {
        for (Connection c : connections.values()) {
            for (CompletableFuture<CommandResult> f : c.pending.values()) {
                f.completeExceptionally(new GatewayException(GatewayException.Reason.CLOSED, "gateway server closed"));
            }
            c.disconnect();
        }
        for (CompletableFuture<CommandResult> f : remoteCommands.values()) {
            f.completeExceptionally(new GatewayException(GatewayException.Reason.CLOSED, "gateway server closed"));
        }
        state.close();
    }

    public int pendingNonces() {
        return nonces.size();
    }
}
