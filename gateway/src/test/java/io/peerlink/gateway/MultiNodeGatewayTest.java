package io.peerlink.gateway;

import io.peerlink.testkit.RedisServer;
import io.peerlink.testkit.RedisServerExtension;

import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Two platform nodes sharing the gateway state through a real {@code redis-server}
 * (docs/gateway.md, "Several nodes"): the official npm {@code socket.io-client} as the gateway,
 * connected to node B, driven from node A.
 */
@ExtendWith(RedisServerExtension.class)
class MultiNodeGatewayTest {

    private static GatewayException failure(java.util.concurrent.CompletionStage<CommandResult> stage) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(20, TimeUnit.SECONDS));
        return assertInstanceOf(GatewayException.class, e.getCause());
    }

    @Test
    void aCommandSentOnNodeAReachesTheGatewayOnNodeBAndModelsStayConsistent(RedisServer redis) throws Exception {
        byte[] secret = new byte[32];
        new SecureRandom().nextBytes(secret);
        GatewayKeyStore keys = GatewayKeyStore.of(Map.of("gw-1", new GatewayKey.HmacSha256(secret)));
        GatewayLimits limits = GatewayLimits.DEFAULTS.withHeartbeat(Duration.ofSeconds(1), 3);
        URI uri = URI.create(redis.uri());
        try (TestServer a = new TestServer(GatewayServer.builder(keys).limits(limits).redis(uri, "gwtest:").build());
             TestServer b = new TestServer(GatewayServer.builder(keys).limits(limits).redis(uri, "gwtest:").build())) {
            GatewayPlatform onA = a.gateway.platform();
            GatewayPlatform onB = b.gateway.platform();
            try (NodeGateway gateway = NodeGateway.start(new JSONObject().put("url", b.url()).put("transport", "websocket")
                    .put("scenario", "full").put("gatewayId", "gw-1").put("algorithm", "HMAC-SHA256")
                    .put("secret", Base64.getEncoder().encodeToString(secret)).put("heartbeatMs", 500).put("attachment", ""))) {
                assertTrue(gateway.next("auth").getJSONObject("r").getBoolean("ok"));
                gateway.next("ready");   // registered dev-1 and reported {led: on} on node B

                assertEquals(Set.of("gw-1"), onA.onlineGateways(), "node A sees the gateway node B holds");
                ModelState seenOnA = onA.model("gw-1", "dev-1").orElseThrow();
                assertEquals(1, seenOnA.reportedVersion());
                assertEquals("on", new JSONObject(seenOnA.reportedJson()).getString("led"));

                CommandResult r = onA.sendCommand(new Command("gw-1", "dev-1", "ping", "{\"n\":1}", Duration.ofSeconds(10)))
                        .toCompletableFuture().get(20, TimeUnit.SECONDS);
                assertTrue(r.ok(), r.toString());
                assertEquals(1, new JSONObject(r.resultJson()).getJSONObject("echo").getInt("n"));
                assertEquals("ping", gateway.next("command").getJSONObject("cmd").getString("name"));
                CommandResult refused = onA.sendCommand(new Command("gw-1", "dev-1", "refuse", "{}", Duration.ofSeconds(10)))
                        .toCompletableFuture().get(20, TimeUnit.SECONDS);
                assertFalse(refused.ok());
                assertEquals("device busy", refused.error());
                assertEquals(GatewayException.Reason.COMMAND_TIMEOUT,
                        failure(onA.sendCommand(new Command("gw-1", "dev-1", "ignore", "{}", Duration.ofMillis(500)))).reason());
                assertEquals(GatewayException.Reason.UNKNOWN_DEVICE,
                        failure(onA.sendCommand(new Command("gw-1", "dev-9", "ping", "{}", Duration.ofSeconds(5)))).reason());

                // Desired state: versions come from one place whichever node writes.
                assertEquals(1, onA.setDesired("gw-1", "dev-1", "{\"led\":\"off\"}").desiredVersion());
                JSONObject pushed = gateway.next("desired").getJSONObject("d");
                assertEquals(1, pushed.getLong("desiredVersion"));
                assertEquals("off", pushed.getJSONObject("desired").getString("led"));
                assertEquals(2, onB.setDesired("gw-1", "dev-1", "{\"led\":\"blink\"}").desiredVersion());
                assertEquals(2, gateway.next("desired").getJSONObject("d").getLong("desiredVersion"));
                ModelState both = onA.model("gw-1", "dev-1").orElseThrow();
                assertEquals(both, onB.model("gw-1", "dev-1").orElseThrow());
                assertEquals(2, both.desiredVersion());
                assertEquals(1, both.reportedVersion());
            }
            // The gateway process ended: node B sees the disconnect and clears the shared entry.
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
            while (!onA.onlineGateways().isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(50);
            }
            assertEquals(Set.of(), onA.onlineGateways());
            assertEquals(GatewayException.Reason.GATEWAY_OFFLINE,
                    failure(onA.sendCommand(new Command("gw-1", "dev-1", "ping", "{}", Duration.ofSeconds(5)))).reason());
            assertTrue(onA.model("gw-1", "dev-1").isPresent(), "models outlive the connection");
        }
    }
}
