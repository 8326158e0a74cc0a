package io.peerlink.server.rendezvous;

import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SetArgs;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.async.RedisAsyncCommands;
import io.lettuce.core.api.sync.RedisCommands;
import io.lettuce.core.pubsub.RedisPubSubAdapter;
import io.lettuce.core.pubsub.StatefulRedisPubSubConnection;
import io.peerlink.DeviceId;
import io.peerlink.server.ServerConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Presence shared by several reference-server nodes through one Redis (Lettuce), and a channel
 * per node for what nodes tell each other (docs/operations.md, "Several nodes on Redis").
 *
 * <p>Keys, all under the configured prefix {@code P} (default {@code peerlink:}):
 * <ul>
 *   <li>{@code P dev:<deviceId>} = {@code "<nodeId> <network>"}, with a TTL of three keepalive
 *       intervals, written when the device is admitted and refreshed by its node at every
 *       keepalive sweep; deleted (only if it still names this node) when the device leaves. A
 *       node that dies stops refreshing, so its devices' entries expire and only those.</li>
 *   <li>{@code P networks} (a hash, allow-list mode only) = deviceId to network of every device
 *       ever admitted, so a peer of an offline device hears {@code OFFLINE}, not {@code UNKNOWN}.</li>
 *   <li>channel {@code P node:<nodeId>}: Pub/Sub messages for that node. {@code PUBLISH} answers
 *       how many nodes listen, so a message for a dead node is known undelivered at once.</li>
 * </ul>
 * A node's id is random per start: a restarted node never mistakes its predecessor's entries for
 * its own. Sessions themselves (live sockets) stay in this node's memory.
 *
 * <p>Failure: commands time out after 5 s and fail at once while
 * Redis is unreachable ({@link #unavailable()} says so; {@code /readyz} answers 503); lookups then
 * answer "not online elsewhere", admission keeps working for this node, and the next keepalive
 * sweep after Lettuce has reconnected re-writes this node's entries (Redis may have lost them).
 */
public final class RedisPresenceRegistry implements PresenceRegistry {
    private static final Logger LOG = LoggerFactory.getLogger(RedisPresenceRegistry.class);
    /** Registry-internal message: the device named after it was admitted on the sending node. */
    private static final String DISPLACED = "displaced ";
    private static final String DELETE_IF_MINE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";
    private static final String REFRESH_IF_MINE = "local v = redis.call('GET', KEYS[1]) "
            + "if (not v) or v == ARGV[1] then redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end return 0";

    private final String prefix;
    private final String nodeId = UUID.randomUUID().toString();
    private final long ttlMillis;
    private final boolean forgetOnLeave;
    private final io.lettuce.core.resource.ClientResources resources;
    private final RedisClient client;
    private final StatefulRedisConnection<String, String> connection;
    private final StatefulRedisPubSubConnection<String, String> subscription;
    private final RedisCommands<String, String> sync;
    private final RedisAsyncCommands<String, String> async;
    private final String deleteIfMine;
    private final String refreshIfMine;
    private final ConcurrentHashMap<DeviceId, ControlSession> online = new ConcurrentHashMap<>();
    /** Node messages run here, never on Lettuce's event loop (handlers call Redis synchronously). */
    private final ExecutorService inbound = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "peerlink-presence-inbound");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong lastWarningMillis = new AtomicLong();
    private volatile Consumer<String> messages = m -> { };
    private volatile Consumer<ControlSession> displaced = s -> { };
    private volatile boolean closed;
    private final String redisName;

    private RedisPresenceRegistry(ServerConfig.Redis config, Duration ttl, boolean forgetOnLeave) {
        this.prefix = config.keyPrefix();
        this.redisName = config.uri().getHost() + ":" + config.uri().getPort();
        this.ttlMillis = ttl.toMillis();
        this.forgetOnLeave = forgetOnLeave;
        RedisURI uri = RedisURI.create(config.uri());
        if (!config.uri().toString().contains("timeout=")) {
            // Connecting and the handshake: a cold JVM on a busy machine needs more than a command does.
            uri.setTimeout(Duration.ofSeconds(10));
        }
        // Reconnect attempts back off to at most 2 s (Lettuce's default grows to 30 s): a node is back in the cluster
        // within about 2 s of Redis returning.
        this.resources = io.lettuce.core.resource.ClientResources.builder()
                .reconnectDelay(io.lettuce.core.resource.Delay.exponential(Duration.ofMillis(50), Duration.ofSeconds(2), 2,
                        TimeUnit.MILLISECONDS))
                .build();
        this.client = RedisClient.create(resources, uri);
        client.setOptions(ClientOptions.builder()
                .autoReconnect(true)
                .timeoutOptions(io.lettuce.core.TimeoutOptions.builder().fixedTimeout(Duration.ofSeconds(5)).build())
                // While Redis is away, fail at once rather than queue: callers are protocol threads.
                .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
                .build());
        try {
            this.connection = client.connect();
            this.subscription = client.connectPubSub();
        } catch (RedisException e) {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS);
            throw new IllegalStateException("cannot reach Redis at " + config + ": " + rootMessage(e)
                    + " (start Redis, or fix the Redis URI; without one the server runs as a single node)", e);
        }
        this.sync = connection.sync();
        this.async = connection.async();
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
        LOG.info("presence shared through {} as node {}, entries live {} ms", config, nodeId, ttlMillis);
    }

    /**
     * Connects to Redis and subscribes to this node's channel.
     *
     * @param config the Redis to use
     * @param ttl how long a presence entry lives without a refresh (three keepalive intervals)
     * @param forgetOnLeave forget a device's network when it leaves (no allow-list)
     * @return the registry
     * @throws IllegalStateException if Redis cannot be reached
     */
    public static RedisPresenceRegistry connect(ServerConfig.Redis config, Duration ttl, boolean forgetOnLeave) {
        return new RedisPresenceRegistry(Objects.requireNonNull(config, "config"), ttl, forgetOnLeave);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.toString() : t.getMessage();
    }

    private String key(DeviceId id) {
        return prefix + "dev:" + id;
    }

    private String channel(String node) {
        return prefix + "node:" + node;
    }

    private String entry(ControlSession s) {
        return nodeId + " " + s.network();
    }

    private static String nodeOf(String entry) {
        return entry.substring(0, entry.indexOf(' '));
    }

    private static String networkOfEntry(String entry) {
        return entry.substring(entry.indexOf(' ') + 1);
    }

    /** One line per 10 s at most: a Redis outage must not flood the log with one line per device. */
    private void warn(String what, RuntimeException e) {
        long now = System.currentTimeMillis();
        long last = lastWarningMillis.get();
        if (now - last > 10_000 && lastWarningMillis.compareAndSet(last, now)) {
            LOG.warn("Redis unavailable ({}): {}; devices of other nodes are unreachable from this node until it is back",
                    what, rootMessage(e));
        }
    }

    @Override
    public String unavailable() {
        // Lettuce marks a connection inactive when its socket drops and active again once it has reconnected
        // (and, for Pub/Sub, re-subscribed this node's channel).
        if (closed || connection.isOpen() && subscription.isOpen()) {
            return null;
        }
        return "Redis at " + redisName + " is unreachable";
    }

    @Override
    public String nodeId() {
        return nodeId;
    }

    @Override
    public ControlSession register(ControlSession session) {
        ControlSession previous = online.put(session.deviceId(), session);
        try {
            if (!forgetOnLeave) {
                async.hset(prefix + "networks", session.deviceId().toString(), session.network());
            }
            String before = sync.setGet(key(session.deviceId()), entry(session), SetArgs.Builder.px(ttlMillis));
            if (before != null && !nodeOf(before).equals(nodeId)) {
                // The device was on another node (it moved, e.g. after a network change): that node closes its old session.
                sync.publish(channel(nodeOf(before)), DISPLACED + session.deviceId());
            }
        } catch (RedisException e) {
            warn("admitting " + session.deviceId(), e);
        }
        return previous;
    }

    @Override
    public void unregister(ControlSession session) {
        if (session.deviceId() != null && online.remove(session.deviceId(), session)) {
            try {
                async.evalsha(deleteIfMine, ScriptOutputType.INTEGER, new String[] {key(session.deviceId())}, entry(session));
            } catch (RedisException e) {
                warn("removing " + session.deviceId(), e);
            }
        }
    }

    @Override
    public ControlSession local(DeviceId id) {
        return online.get(id);
    }

    @Override
    public Collection<ControlSession> sessions() {
        return online.values();
    }

    private String lookup(DeviceId id) {
        try {
            return sync.get(key(id));
        } catch (RedisException e) {
            warn("looking up " + id, e);
            return null;
        }
    }

    @Override
    public String networkOf(DeviceId id) {
        ControlSession s = online.get(id);
        if (s != null) {
            return s.network();
        }
        String entry = lookup(id);
        if (entry != null) {
            return networkOfEntry(entry);
        }
        if (forgetOnLeave) {
            return null;
        }
        try {
            return sync.hget(prefix + "networks", id.toString());
        } catch (RedisException e) {
            warn("looking up " + id, e);
            return null;
        }
    }

    @Override
    public boolean isOnline(DeviceId id) {
        return online.containsKey(id) || lookup(id) != null;
    }

    @Override
    public String remoteNode(DeviceId id) {
        if (online.containsKey(id)) {
            return null;
        }
        String entry = lookup(id);
        if (entry == null) {
            return null;
        }
        String node = nodeOf(entry);
        return node.equals(nodeId) ? null : node;
    }

    @Override
    public boolean send(String node, String message) {
        try {
            return sync.publish(channel(node), message) > 0;
        } catch (RedisException e) {
            warn("sending to node " + node, e);
            return false;
        }
    }

    @Override
    public void listen(Consumer<String> messages, Consumer<ControlSession> displaced) {
        this.messages = Objects.requireNonNull(messages, "messages");
        this.displaced = Objects.requireNonNull(displaced, "displaced");
    }

    private void onMessage(String message) {
        try {
            if (message.startsWith(DISPLACED)) {
                DeviceId id = DeviceId.parse(message.substring(DISPLACED.length()));
                ControlSession s = online.get(id);
                // Only if Redis still says another node has it: the device may have come back here since.
                if (s != null && remoteNodeIgnoringLocal(id) && online.remove(id, s)) {
                    displaced.accept(s);
                }
            } else {
                messages.accept(message);
            }
        } catch (RuntimeException e) {
            LOG.warn("failure handling a message from another node", e);
        }
    }

    private boolean remoteNodeIgnoringLocal(DeviceId id) {
        String entry = lookup(id);
        return entry != null && !nodeOf(entry).equals(nodeId);
    }

    @Override
    public void refresh(Collection<ControlSession> live) {
        refresh(live, true);
    }

    private void refresh(Collection<ControlSession> live, boolean firstTry) {
        List<ControlSession> sessions = new ArrayList<>(live);
        List<RedisFuture<Long>> results = new ArrayList<>(sessions.size());
        try {
            // Lettuce pipelines these on its one connection: one round trip's worth of waiting for all of them.
            for (ControlSession s : sessions) {
                results.add(async.evalsha(refreshIfMine, ScriptOutputType.INTEGER, new String[] {key(s.deviceId())},
                        entry(s), Long.toString(ttlMillis)));
            }
            for (int i = 0; i < sessions.size(); i++) {
                ControlSession s = sessions.get(i);
                Long kept = results.get(i).get(5, TimeUnit.SECONDS);
                if (kept != null && kept == 0 && online.remove(s.deviceId(), s)) {
                    // Another node holds the device now and its message to us was lost: close ours.
                    displaced.accept(s);
                }
            }
        } catch (java.util.concurrent.ExecutionException e) {
            if (firstTry && e.getCause() instanceof io.lettuce.core.RedisNoScriptException) {
                // A Redis that restarted (an outage) has lost the scripts: load them again and re-write every entry now.
                LOG.info("Redis lost this node's scripts (it restarted); loading them again and re-writing {} entries", sessions.size());
                try {
                    sync.scriptLoad(DELETE_IF_MINE);
                    sync.scriptLoad(REFRESH_IF_MINE);
                } catch (RedisException again) {
                    warn("loading scripts", again);
                    return;
                }
                refresh(live, false);
                return;
            }
            warn("refreshing " + sessions.size() + " entries", new RedisException(e.getCause()));
        } catch (RedisException | java.util.concurrent.TimeoutException e) {
            warn("refreshing " + sessions.size() + " entries", e instanceof RedisException r ? r : new RedisException(e));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public int onlineCount() {
        return online.size();
    }

    @Override
    public int knownCount() {
        return online.size();
    }

    @Override
    public Map<String, Integer> onlineByNetwork() {
        Map<String, Integer> counts = new HashMap<>();
        for (ControlSession s : online.values()) {
            counts.merge(s.network(), 1, Integer::sum);
        }
        return counts;
    }

    @Override
    public void retainNetworks(Map<DeviceId, String> allowed) {
        if (forgetOnLeave) {
            return;
        }
        try {
            List<String> gone = new ArrayList<>();
            for (String id : sync.hkeys(prefix + "networks")) {
                if (!allowed.containsKey(DeviceId.parse(id)) && !online.containsKey(DeviceId.parse(id))) {
                    gone.add(id);
                }
            }
            if (!gone.isEmpty()) {
                sync.hdel(prefix + "networks", gone.toArray(new String[0]));
            }
        } catch (RedisException e) {
            warn("applying the allow-list", e);
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
            // Commands run in order on the connection: once this answers, every deletion sent before it is done.
            sync.ping();
        } catch (RedisException e) {
            warn("closing", e);
        }
        try {
            subscription.close();
            connection.close();
        } finally {
            client.shutdown(0, 2, TimeUnit.SECONDS);
            resources.shutdown(0, 2, TimeUnit.SECONDS);
        }
    }
}
