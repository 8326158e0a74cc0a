package io.peerlink.gateway.internal;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.KeyScanCursor;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScanArgs;
import io.lettuce.core.ScanCursor;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.peerlink.gateway.GatewayException;
import io.peerlink.gateway.ModelState;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Gateway platform state shared by several nodes through one Redis (Lettuce), documented in
 * docs/gateway.md, "Several nodes". Under the key prefix {@code P}:
 * <ul>
 *   <li>{@code P gw:devices:<gatewayId>}: hash of the devices registered through the gateway;</li>
 *   <li>{@code P gw:model:<gatewayId>:<deviceId>}: hash {@code desired}, {@code dv}, {@code reported},
 *       {@code rv}; every change is one Lua script, so versions are atomic across nodes (the
 *       optimistic-concurrency rule of a report is checked inside Redis);</li>
 *   <li>{@code P gw:online:<gatewayId>} = the node id holding the gateway's connection, with a
 *       TTL of the offline-detection time, refreshed by that node;</li>
 *   <li>channel {@code P gw:node:<nodeId>}: commands, acknowledgements and desired-state pushes
 *       for gateways on that node.</li>
 * </ul>
 * Failure: commands fail after 5 s, and at once while Redis is
 * unreachable; platform calls then fail with {@link GatewayException.Reason#STATE_UNAVAILABLE}
 * and gateway events are answered {@code UNAVAILABLE}.
 */
public final class RedisGatewayState implements GatewayState {

    private static final Logger LOG = LoggerFactory.getLogger(RedisGatewayState.class);
    private static final String DISPLACED = "displaced ";
    private static final String MODEL = "return redis.call('HMGET', KEYS[2], 'desired', 'dv', 'reported', 'rv')";
    private static final String REGISTER = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then "
            + "if redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[2]) then return false end "
            + "redis.call('HSET', KEYS[1], ARGV[1], '1') "
            + "redis.call('HSETNX', KEYS[2], 'desired', '{}') redis.call('HSETNX', KEYS[2], 'dv', '0') "
            + "redis.call('HSETNX', KEYS[2], 'reported', '{}') redis.call('HSETNX', KEYS[2], 'rv', '0') end " + MODEL;
    private static final String SET_DESIRED = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end "
            + "redis.call('HSET', KEYS[2], 'desired', ARGV[2]) redis.call('HINCRBY', KEYS[2], 'dv', 1) " + MODEL;
    private static final String REPORT = "if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return false end "
            + "local outcome = 'CONFLICT' "
            + "if redis.call('HGET', KEYS[2], 'rv') == ARGV[2] then "
            + "redis.call('HSET', KEYS[2], 'reported', ARGV[3]) redis.call('HINCRBY', KEYS[2], 'rv', 1) outcome = 'APPLIED' end "
            + "local m = redis.call('HMGET', KEYS[2], 'desired', 'dv', 'reported', 'rv') table.insert(m, 1, outcome) return m";
    private static final String DELETE_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
    private static final String REFRESH_IF_MINE = "local v = redis.call('GET', KEYS[1]) "
            + "if (not v) or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0";

    private final String prefix;
    private final String nodeId = UUID.randomUUID().toString();
    private final long ttlMillis;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final StatefulRedisPubSubConnection<String, String> subscription;
    private final RedisCommands<String, String> sync;
    private final RedisAsyncCommands<String, String> async;
    private final String register;
    private final String setDesired;
    private final String report;
    private final String model;
    private final String deleteIfMine;
    private final String refreshIfMine;
    private final ExecutorService inbound = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "peerlink-gateway-inbound");
        t.setDaemon(true);
        return t;
    });
    private volatile Consumer<String> messages = m -> { };
    private volatile Consumer<String> displaced = g -> { };
    private volatile boolean closed;

    /**
     * Connects and subscribes to this node's channel.
     *
     * @param uri {@code redis://} or {@code rediss://} URI
     * @param keyPrefix prefix of every key and channel
     * @param ttl how long a gateway's online entry lives without a refresh
     * @throws IllegalStateException if Redis cannot be reached
     */
    public RedisGatewayState(URI uri, String keyPrefix, Duration ttl) {
        this.prefix = Objects.requireNonNull(keyPrefix, "keyPrefix");
        this.ttlMillis = ttl.toMillis();
        RedisURI redisUri = RedisURI.create(uri);
        if (!uri.toString().contains("timeout=")) {
            // Connecting and the handshake: a cold JVM on a busy machine needs more than a command does.
            redisUri.setTimeout(Duration.ofSeconds(10));
        }
        this.client = RedisClient.create(redisUri);
        client.setOptions(ClientOptions.builder().autoReconnect(true)
                .timeoutOptions(io.lettuce.core.TimeoutOptions.builder().fixedTimeout(Duration.ofSeconds(5)).build())
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS).build());
        try {
            this.connection = client.connect();
            this.subscription = client.connectPubSub();
        } catch (RedisException e) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot reach Redis at " + uri.getScheme() + "://" + uri.getHost() + ":" + uri.getPort()
                    + ": " + rootMessage(e) + " (start Redis or fix the URI; without one the gateway platform runs on one node)", e);
        }
        this.sync = connection.sync();
        this.async = connection.async();
        this.register = sync.scriptLoad(REGISTER);
        this.setDesired = sync.scriptLoad(SET_DESIRED);
        this.report = sync.scriptLoad(REPORT);
        this.model = sync.scriptLoad(MODEL);
        this.deleteIfMine = sync.scriptLoad(DELETE_IF_MINE);
        this.refreshIfMine = sync.scriptLoad(REFRESH_IF_MINE);
        subscription.addListener(new RedisPubSubAdapter<>() {
            @Override
            public void message(String channel, String message) {
                if (!closed) {
                    inbound.execute(() -> onMessage(message));
                }
            }
        });
        subscription.sync().subscribe(channel(nodeId));
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private static GatewayException unavailable(RedisException e) {
        return new GatewayException(GatewayException.Reason.STATE_UNAVAILABLE, "shared gateway state (Redis) unavailable: "
                + rootMessage(e));
    }

    private String channel(String node) {
        return prefix + "gw:node:" + node;
    }

    private String[] keys(String gatewayId, String deviceId) {
        return new String[] {prefix + "gw:devices:" + gatewayId, prefix + "gw:model:" + gatewayId + ":" + deviceId};
    }

    private String onlineKey(String gatewayId) {
        return prefix + "gw:online:" + gatewayId;
    }

    private static ModelState state(String deviceId, List<Object> v, int offset) {
        return new ModelState(deviceId, (String) v.get(offset), Long.parseLong((String) v.get(offset + 1)),
                (String) v.get(offset + 2), Long.parseLong((String) v.get(offset + 3)));
    }

    private List<Object> eval(String sha, String[] keys, String... args) {
        try {
            return sync.evalsha(sha, ScriptOutputType.MULTI, keys, args);
        } catch (RedisException e) {
            throw unavailable(e);
        }
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public Optional<ModelState> register(String gatewayId, String deviceId, int maxDevices) {
        List<Object> v = eval(register, keys(gatewayId, deviceId), deviceId, Integer.toString(maxDevices));
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(state(deviceId, v, 0));
    }

    @Override
    public boolean isRegistered(String gatewayId, String deviceId) {
        try {
            return sync.hexists(keys(gatewayId, deviceId)[0], deviceId);
        } catch (RedisException e) {
            throw unavailable(e);
        }
    }

    @Override
    public Optional<ModelState> model(String gatewayId, String deviceId) {
        if (!isRegistered(gatewayId, deviceId)) {
            return Optional.empty();
        }
        List<Object> v = eval(model, keys(gatewayId, deviceId));
        return v == null || v.get(0) == null ? Optional.empty() : Optional.of(state(deviceId, v, 0));
    }

    @Override
    public Optional<ModelState> setDesired(String gatewayId, String deviceId, String desiredJson) {
        List<Object> v = eval(setDesired, keys(gatewayId, deviceId), deviceId, desiredJson);
        return v == null || v.isEmpty() ? Optional.empty() : Optional.of(state(deviceId, v, 0));
    }

    @Override
    public ReportOutcome report(String gatewayId, String deviceId, long baseVersion, String reportedJson,
                                Consumer<ModelState> after) {
        List<Object> v = eval(report, keys(gatewayId, deviceId), deviceId, Long.toString(baseVersion), reportedJson);
        if (v == null || v.isEmpty()) {
            return ReportOutcome.UNKNOWN_DEVICE;
        }
        after.accept(state(deviceId, v, 1));
        return ReportOutcome.valueOf((String) v.get(0));
    }

    @Override
    public void online(String gatewayId) {
        try {
            String before = sync.setGet(onlineKey(gatewayId), nodeId, SetArgs.Builder.px(ttlMillis));
            if (before != null && !before.equals(nodeId)) {
                // The gateway was connected to another node: that node closes its old connection.
                sync.publish(channel(before), DISPLACED + gatewayId);
            }
        } catch (RedisException e) {
            throw unavailable(e);
        }
    }

    @Override
    public void offline(String gatewayId) {
        try {
            async.evalsha(deleteIfMine, ScriptOutputType.INTEGER, new String[] {onlineKey(gatewayId)}, nodeId);
        } catch (RedisException e) {
            LOG.debug("Redis unavailable; {}'s entry expires by itself", gatewayId, e);
        }
    }

    @Override
    public String remoteNode(String gatewayId) {
        try {
            String node = sync.get(onlineKey(gatewayId));
            return node == null || node.equals(nodeId) ? null : node;
        } catch (RedisException e) {
            throw unavailable(e);
        }
    }

    @Override
    public Set<String> onlineGateways() {
        Set<String> ids = new HashSet<>();
        String match = onlineKey("*");
        try {
            ScanCursor cursor = ScanCursor.INITIAL;
            do {
                KeyScanCursor<String> page = sync.scan(cursor, ScanArgs.Builder.matches(match).limit(1000));
                for (String key : page.getKeys()) {
                    ids.add(key.substring(match.length() - 1));
                }
                cursor = page;
            } while (!cursor.isFinished());
        } catch (RedisException e) {
            throw unavailable(e);
        }
        return Set.copyOf(ids);
    }

    @Override
    public void refresh(Collection<String> gatewayIds) {
        List<String> ids = new ArrayList<>(gatewayIds);
        List<RedisFuture<Long>> results = new ArrayList<>(ids.size());
        try {
            for (String id : ids) {
                results.add(async.evalsha(refreshIfMine, ScriptOutputType.INTEGER, new String[] {onlineKey(id)}, nodeId,
                        Long.toString(ttlMillis)));
            }
            for (int i = 0; i < ids.size(); i++) {
                Long kept = results.get(i).get(5, TimeUnit.SECONDS);
                if (kept != null && kept == 0) {
                    displaced.accept(ids.get(i));
                }
            }
        } catch (RedisException | java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            LOG.warn("Redis unavailable while refreshing {} gateways: {}", ids.size(), rootMessage(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public boolean send(String node, String message) {
        try {
            return sync.publish(channel(node), message) > 0;
        } catch (RedisException e) {
            LOG.warn("Redis unavailable; message to node {} not sent: {}", node, rootMessage(e));
            return false;
        }
    }

    @Override
    public void listen(Consumer<String> messages, Consumer<String> displaced) {
        this.messages = Objects.requireNonNull(messages, "messages");
        this.displaced = Objects.requireNonNull(displaced, "displaced");
    }

    private void onMessage(String message) {
        try {
            if (message.startsWith(DISPLACED)) {
                String gatewayId = message.substring(DISPLACED.length());
                if (remoteNode(gatewayId) != null) {
                    displaced.accept(gatewayId);
                }
            } else {
                messages.accept(message);
            }
        } catch (RuntimeException e) {
            LOG.warn("failure handling a message from another node", e);
        }
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        inbound.shutdownNow();
        try {
            sync.ping();
        } catch (RedisException e) {
            LOG.debug("closing", e);
        }
        try {
            subscription.close();
            connection.close();
        } finally {
            client.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
