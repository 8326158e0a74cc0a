package io.peerlink.gateway;

import org.json.JSONObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The official npm socket.io-client 4.x acts as a gateway against {@link GatewayServer}, over
 * WebSocket and over HTTP long-polling (docs/gateway.md).
 */
class GatewayInteropTest {

    private static final SecureRandom RANDOM = new SecureRandom();

    static byte[] secret() {
        byte[] s = new byte[32];
        RANDOM.nextBytes(s);
        return s;
    }

    private static JSONObject config(TestServer server, String transport, String scenario, String gatewayId) {
        return new JSONObject().put("url", server.url()).put("transport", transport).put("scenario", scenario)
                .put("gatewayId", gatewayId).put("algorithm", "HMAC-SHA256");
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void fullSession_authTelemetryCommandsModelAndHeartbeatTimeout(String transport) throws Exception {
        byte[] secret = secret();
        // Generous against a loaded machine: offline after 4 s without a sign of life, heartbeats every 200 ms.
        GatewayLimits limits = GatewayLimits.DEFAULTS.withHeartbeat(Duration.ofSeconds(2), 2);
        try (TestServer server = new TestServer(GatewayServer.builder(
                GatewayKeyStore.of(Map.of("gw-1", new GatewayKey.HmacSha256(secret)))).limits(limits).build())) {
            GatewayPlatform platform = server.gateway.platform();
            BlockingQueue<Telemetry> telemetry = new LinkedBlockingQueue<>();
            BlockingQueue<GatewayStatus> status = new LinkedBlockingQueue<>();
            BlockingQueue<DeviceRegistration> registrations = new LinkedBlockingQueue<>();
            platform.onTelemetry(telemetry::add);
            platform.onStatus(status::add);
            platform.onDeviceRegistered(registrations::add);
            byte[] image = new byte[50_000];
            RANDOM.nextBytes(image);
            JSONObject cfg = config(server, transport, "full", "gw-1")
                    .put("secret", Base64.getEncoder().encodeToString(secret))
                    .put("heartbeatMs", 200)
                    .put("attachment", Base64.getEncoder().encodeToString(image));
            try (NodeGateway node = NodeGateway.start(cfg)) {
                JSONObject auth = node.next("auth").getJSONObject("r");
                assertTrue(auth.getBoolean("ok"), auth.toString());
                assertEquals(2000, auth.getLong("heartbeatIntervalMs"));
                GatewayStatus online = status.poll(10, TimeUnit.SECONDS);
                assertNotNull(online);
                assertEquals(GatewayStatus.State.ONLINE, online.state());

                assertTrue(node.next("register").getJSONObject("r").getBoolean("ok"));
                DeviceRegistration reg = registrations.poll(10, TimeUnit.SECONDS);
                assertNotNull(reg);
                assertEquals("cam-2", new JSONObject(reg.metadataJson()).getString("model"));

                assertTrue(node.next("telemetry-json").getJSONObject("r").getBoolean("ok"));
                Telemetry t1 = telemetry.poll(10, TimeUnit.SECONDS);
                assertNotNull(t1);
                assertEquals("dev-1", t1.deviceId());
                assertEquals(21.5, new JSONObject(t1.valuesJson()).getDouble("temp"));
                assertTrue(t1.attachment().isEmpty());
                assertTrue(node.next("telemetry-binary").getJSONObject("r").getBoolean("ok"));
                Telemetry t2 = telemetry.poll(10, TimeUnit.SECONDS);
                assertNotNull(t2);
                assertArrayEquals(image, t2.attachment().orElseThrow());

                JSONObject report = node.next("report").getJSONObject("r");
                assertEquals(1, report.getLong("reportedVersion"), report.toString());
                JSONObject conflict = node.next("report-conflict").getJSONObject("r");
                assertFalse(conflict.getBoolean("ok"));
                assertEquals("version-conflict", conflict.getString("error"));
                node.next("ready");
                ModelState m = platform.model("gw-1", "dev-1").orElseThrow();
                assertEquals("on", new JSONObject(m.reportedJson()).getString("led"));

                ModelState desired = platform.setDesired("gw-1", "dev-1", "{\"led\":\"blink\"}");
                assertEquals(1, desired.desiredVersion());
                JSONObject pushed = node.next("desired").getJSONObject("d");
                assertEquals(1, pushed.getLong("desiredVersion"));
                assertEquals("blink", pushed.getJSONObject("desired").getString("led"));

                CommandResult echo = platform.sendCommand(new Command("gw-1", "dev-1", "reboot", "{\"delay\":5}",
                        Duration.ofSeconds(10))).toCompletableFuture().get(20, TimeUnit.SECONDS);
                assertTrue(echo.ok());
                assertEquals(5, new JSONObject(echo.resultJson()).getJSONObject("echo").getInt("delay"));
                CommandResult refused = platform.sendCommand(new Command("gw-1", "dev-1", "refuse", "{}",
                        Duration.ofSeconds(10))).toCompletableFuture().get(20, TimeUnit.SECONDS);
                assertFalse(refused.ok());
                assertEquals("device busy", refused.error());
                CompletionException timeout = assertThrows(CompletionException.class, () -> platform.sendCommand(
                        new Command("gw-1", "dev-1", "ignore", "{}", Duration.ofMillis(200))).toCompletableFuture().join());
                assertEquals(GatewayException.Reason.COMMAND_TIMEOUT, ((GatewayException) timeout.getCause()).reason());
                CompletionException unknown = assertThrows(CompletionException.class, () -> platform.sendCommand(
                        new Command("gw-1", "nope", "x", "{}", Duration.ofSeconds(1))).toCompletableFuture().join());
                assertEquals(GatewayException.Reason.UNKNOWN_DEVICE, ((GatewayException) unknown.getCause()).reason());

                // The gateway stops its heartbeats but keeps the socket: the server must declare it offline.
                assertTrue(platform.sendCommand(new Command("gw-1", "dev-1", "stop-heartbeat", "{}",
                        Duration.ofSeconds(10))).toCompletableFuture().get(20, TimeUnit.SECONDS).ok());
                GatewayStatus offline = status.poll(30, TimeUnit.SECONDS);
                assertNotNull(offline);
                assertEquals(GatewayStatus.State.OFFLINE, offline.state());
                assertEquals("heartbeat-timeout", offline.reason());
                assertFalse(platform.onlineGateways().contains("gw-1"));
                node.next("disconnect");
                CompletionException gone = assertThrows(CompletionException.class, () -> platform.sendCommand(
                        new Command("gw-1", "dev-1", "x", "{}", Duration.ofSeconds(1))).toCompletableFuture().join());
                assertEquals(GatewayException.Reason.GATEWAY_OFFLINE, ((GatewayException) gone.getCause()).reason());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void wrongSecretIsRefusedAndNeedsAFreshNonce(String transport) throws Exception {
        byte[] secret = secret();
        try (TestServer server = new TestServer(GatewayServer.builder(
                GatewayKeyStore.of(Map.of("gw-1", new GatewayKey.HmacSha256(secret)))).build())) {
            JSONObject cfg = config(server, transport, "wrong-secret", "gw-1")
                    .put("secret", Base64.getEncoder().encodeToString(secret))
                    .put("wrongSecret", Base64.getEncoder().encodeToString(secret()));
            try (NodeGateway node = NodeGateway.start(cfg)) {
                JSONObject r = node.next("auth").getJSONObject("r");
                assertFalse(r.getBoolean("ok"));
                assertEquals("auth-failed", r.getString("error"));
                JSONObject retry = node.next("auth-after-failure").getJSONObject("r");
                assertTrue(retry.getBoolean("ok"), retry.toString());
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void replayedNonceIsRefused(String transport) throws Exception {
        byte[] secret = secret();
        try (TestServer server = new TestServer(GatewayServer.builder(
                GatewayKeyStore.of(Map.of("gw-1", new GatewayKey.HmacSha256(secret)))).build())) {
            JSONObject cfg = config(server, transport, "replay", "gw-1")
                    .put("secret", Base64.getEncoder().encodeToString(secret));
            try (NodeGateway node = NodeGateway.start(cfg)) {
                assertTrue(node.next("auth").getJSONObject("r").getBoolean("ok"));
                JSONObject other = node.next("replay-other-connection").getJSONObject("r");
                assertEquals("unknown-nonce", other.getString("error"), other.toString());
                JSONObject same = node.next("replay-same-connection");
                assertEquals("auth-failed", same.getJSONObject("first").getString("error"));
                assertEquals("unknown-nonce", same.getJSONObject("second").getString("error"));
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void ed25519Gateway(String transport) throws Exception {
        KeyPair pair = KeyPairGenerator.getInstance("Ed25519").generateKeyPair();
        try (TestServer server = new TestServer(GatewayServer.builder(
                GatewayKeyStore.of(Map.of("gw-ed", new GatewayKey.Ed25519(pair.getPublic())))).build())) {
            JSONObject cfg = config(server, transport, "auth", "gw-ed").put("algorithm", "Ed25519")
                    .put("privateKey", Base64.getEncoder().encodeToString(pair.getPrivate().getEncoded()))
                    .put("secret", "");
            try (NodeGateway node = NodeGateway.start(cfg)) {
                JSONObject r = node.next("auth").getJSONObject("r");
                assertTrue(r.getBoolean("ok"), r.toString());
                JSONObject second = node.next("auth-again").getJSONObject("r");
                assertEquals("already-authenticated", second.getString("error"));
            }
        }
    }
}
