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
import java.util.stream.Collectors;

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
    private final Map<String, Connection> online = new ConcurrentHashMap<>();
    private final Map<String, Map<String, DeviceModel>> devices = new ConcurrentHashMap<>();
    private final List<Consumer<Telemetry>> telemetryListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<GatewayStatus>> statusListeners = new CopyOnWriteArrayList<>();
    private final List<Consumer<DeviceRegistration>> deviceListeners = new CopyOnWriteArrayList<>();

    public GatewayHub(GatewayKeyStore keys, GatewayLimits limits, ScheduledExecutorService scheduler) {
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
            case "model:get" -> DeviceModel.toJson(device(c, a, event).snapshot());
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
        Map<String, DeviceModel> own = devices.computeIfAbsent(c.gatewayId, g -> new ConcurrentHashMap<>());
        // Registration of one gateway is serialised by its connection's monitor (one connection per id).
        if (!own.containsKey(deviceId) && own.size() >= limits.maxDevicesPerGateway()) {
            throw new ProtocolError(ProtocolError.TOO_MANY_DEVICES, "device:register: gateway already has "
                    + own.size() + " devices, limit " + limits.maxDevicesPerGateway(), a.ack());
        }
        DeviceModel m = own.computeIfAbsent(deviceId, DeviceModel::new);
        DeviceRegistration r = new DeviceRegistration(c.gatewayId, deviceId, metadata.toString());
        notify(deviceListeners, r);
        return DeviceModel.toJson(m.snapshot());
    }

    private DeviceModel device(Connection c, EventArgs a, String event) {
        String deviceId = a.id(event, "deviceId");
        DeviceModel m = devices.getOrDefault(c.gatewayId, Map.of()).get(deviceId);
        if (m == null) {
            throw new ProtocolError(ProtocolError.UNKNOWN_DEVICE, event + ": device '" + deviceId
                    + "' is not registered through this gateway", a.ack());
        }
        return m;
    }

    private JSONObject telemetry(Connection c, EventArgs a) {
        DeviceModel m = device(c, a, "telemetry");
        JSONObject values = a.object("telemetry", "values", true);
        Telemetry t = new Telemetry(c.gatewayId, m.snapshot().deviceId(), values.toString(), a.attachment(),
                Instant.now());
        notify(telemetryListeners, t);
        return new JSONObject();
    }

    private JSONObject report(Connection c, EventArgs a) {
        DeviceModel m = device(c, a, "model:report");
        long base = a.version("model:report", "baseVersion");
        JSONObject reported = a.object("model:report", "reported", true);
        ModelState after = m.report(base, reported);
        if (after == null) {
            ModelState now = m.snapshot();
            throw new ProtocolError(ProtocolError.VERSION_CONFLICT, "model:report: baseVersion " + base
                    + " is not the current reported version " + now.reportedVersion()
                    + "; fetch with model:get and retry", a.ack());
        }
        return DeviceModel.toJson(after);
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
                        status(c.gatewayId, GatewayStatus.State.OFFLINE, "heartbeat-timeout");
                    }
                    c.disconnect();
                }
            }
            nonces.sweep(now);
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
        if (c == null) {
            return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.GATEWAY_OFFLINE,
                    "gateway " + command.gatewayId() + " is offline"));
        }
        if (!devices.getOrDefault(command.gatewayId(), Map.of()).containsKey(command.deviceId())) {
            return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.UNKNOWN_DEVICE,
                    "device " + command.deviceId() + " is not registered through gateway " + command.gatewayId()));
        }
        JSONObject params;
        try {
            params = new JSONObject(command.paramsJson());
        } catch (JSONException e) {
            return CompletableFuture.failedFuture(new GatewayException(GatewayException.Reason.BAD_JSON,
                    "command params are not a JSON object: " + e.getMessage()));
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
        DeviceModel m = devices.getOrDefault(gatewayId, Map.of()).get(deviceId);
        if (m == null) {
            throw new GatewayException(GatewayException.Reason.UNKNOWN_DEVICE,
                    "device " + deviceId + " is not registered through gateway " + gatewayId);
        }
        JSONObject desired;
        try {
            desired = new JSONObject(desiredJson);
        } catch (JSONException e) {
            throw new GatewayException(GatewayException.Reason.BAD_JSON, "desired state is not a JSON object: "
                    + e.getMessage());
        }
        ModelState s = m.setDesired(desired);
        Connection c = online.get(gatewayId);
        if (c != null) {
            c.send("model:desired", new JSONObject().put("deviceId", deviceId).put("desired", desired)
                    .put("desiredVersion", s.desiredVersion()));
        }
        return s;
    }

    @Override
    public Optional<ModelState> model(String gatewayId, String deviceId) {
        return Optional.ofNullable(devices.getOrDefault(gatewayId, Map.of()).get(deviceId)).map(DeviceModel::snapshot);
    }

    @Override
    public Set<String> onlineGateways() {
        return online.keySet().stream().collect(Collectors.toUnmodifiableSet());
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
    }

    public int pendingNonces() {
        return nonces.size();
    }
}
