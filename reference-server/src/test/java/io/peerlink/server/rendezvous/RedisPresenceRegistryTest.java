package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ServerConfig;
import io.peerlink.testkit.RedisServer;
import io.peerlink.testkit.RedisServerExtension;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.InetSocketAddress;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@link RedisPresenceRegistry} against a real {@code redis-server}: two registries play two nodes. */
@ExtendWith(RedisServerExtension.class)
class RedisPresenceRegistryTest {
    private static final AtomicInteger PREFIXES = new AtomicInteger();

    private static ServerConfig.Redis config(RedisServer redis) {
        return new ServerConfig.Redis(URI.create(redis.uri()), "unit" + PREFIXES.incrementAndGet() + ":");
    }

    private static ControlSession session(DeviceId id, String network) {
        ControlSession s = new ControlSession(null, new Connection() {
            @Override
            public void send(String text) {
            }

            @Override
            public void close(int code, String reason) {
            }

            @Override
            public InetSocketAddress remoteAddress() {
                return new InetSocketAddress("127.0.0.1", 1);
            }
        });
        s.admit(id, network);
        return s;
    }

    @Test
    void entriesNameTheOwningNodeAndExpireUnlessRefreshed(RedisServer redis) throws Exception {
        ServerConfig.Redis config = config(redis);
        DeviceId a = DeviceIdentity.ephemeral().id();
        DeviceId b = DeviceIdentity.ephemeral().id();
        try (RedisPresenceRegistry one = RedisPresenceRegistry.connect(config, Duration.ofMillis(600), false);
             RedisPresenceRegistry two = RedisPresenceRegistry.connect(config, Duration.ofMillis(600), false)) {
            ControlSession sa = session(a, "home");
            ControlSession sb = session(b, "home");
            assertNull(one.register(sa));
            two.register(sb);
            assertSame(sa, one.local(a));
            assertNull(one.remoteNode(a), "local devices are not remote");
            assertEquals(two.nodeId(), one.remoteNode(b));
            assertEquals("home", one.networkOf(b));
            assertTrue(one.isOnline(b));
            // b's node keeps refreshing; a's does not: only a's entry expires.
            for (int i = 0; i < 6; i++) {
                Thread.sleep(200);
                two.refresh(List.of(sb));
            }
            assertFalse(two.isOnline(a));
            assertTrue(one.isOnline(b));
            assertEquals("home", two.networkOf(a), "allow-list mode remembers the network of a device that left");
            // After a Redis outage or expiry, a refresh writes the entry again.
            one.refresh(List.of(sa));
            assertEquals(one.nodeId(), two.remoteNode(a));
            two.unregister(sb);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (one.isOnline(b) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertFalse(one.isOnline(b));
        }
    }

    @Test
    void aDeviceAdmittedOnAnotherNodeDisplacesItsOldSession(RedisServer redis) throws Exception {
        ServerConfig.Redis config = config(redis);
        DeviceId a = DeviceIdentity.ephemeral().id();
        try (RedisPresenceRegistry one = RedisPresenceRegistry.connect(config, Duration.ofSeconds(30), true);
             RedisPresenceRegistry two = RedisPresenceRegistry.connect(config, Duration.ofSeconds(30), true)) {
            CompletableFuture<ControlSession> displaced = new CompletableFuture<>();
            one.listen(m -> { }, displaced::complete);
            ControlSession old = session(a, "home");
            one.register(old);
            ControlSession moved = session(a, "home");
            two.register(moved);
            assertSame(old, displaced.get(10, TimeUnit.SECONDS));
            assertNull(one.local(a));
            // The old node leaving afterwards must not delete the new node's entry.
            one.unregister(old);
            assertEquals(two.nodeId(), one.remoteNode(a));
            two.unregister(moved);
            // The deletion is sent asynchronously on two's connection; one reads on its own.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (one.networkOf(a) != null && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertNull(one.networkOf(a), "without an allow-list a device that left is forgotten");
        }
    }

    @Test
    void messagesReachTheNamedNodeOnlyAndADeadNodeIsReportedAtOnce(RedisServer redis) throws Exception {
        ServerConfig.Redis config = config(redis);
        try (RedisPresenceRegistry one = RedisPresenceRegistry.connect(config, Duration.ofSeconds(30), true)) {
            CompletableFuture<String> got = new CompletableFuture<>();
            String twoId;
            try (RedisPresenceRegistry two = RedisPresenceRegistry.connect(config, Duration.ofSeconds(30), true)) {
                two.listen(got::complete, s -> { });
                twoId = two.nodeId();
                assertTrue(one.send(twoId, "{\"t\":\"x\"}"));
                assertEquals("{\"t\":\"x\"}", got.get(10, TimeUnit.SECONDS));
            }
            assertFalse(one.send(twoId, "{}"), "no node listens any more");
        }
    }

    @Test
    void anUnreachableRedisFailsTheStartWithAnActionableMessage() {
        ServerConfig.Redis nowhere = ServerConfig.Redis.of("redis://127.0.0.1:1");
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> RedisPresenceRegistry.connect(nowhere, Duration.ofSeconds(30), true));
        assertTrue(e.getMessage().startsWith("cannot reach Redis at Redis[redis://127.0.0.1:1"), e.getMessage());
        assertTrue(e.getMessage().contains("fix the Redis URI"), e.getMessage());
    }
}
