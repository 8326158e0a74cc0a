package io.peerlink.server;

import io.peerlink.gateway.Command;
import io.peerlink.gateway.CommandResult;
import io.peerlink.gateway.GatewayPlatform;
import io.peerlink.gateway.Telemetry;
import io.socket.client.Ack;
import io.socket.client.IO;
import io.socket.client.Socket;
import io.socket.engineio.client.transports.Polling;
import io.socket.engineio.client.transports.WebSocket;
import org.json.JSONObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Base64;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The reference server mounts the Socket.IO gateway platform when {@code gateway.enabled}; a real
 * Socket.IO client (io.socket:socket.io-client) acts as a gateway through the server's HTTP port,
 * over WebSocket and over HTTP long-polling, next to the rendezvous endpoint.
 */
class GatewayEndpointTest {

    private static byte[] secret() {
        byte[] s = new byte[32];
        new SecureRandom().nextBytes(s);
        return s;
    }

    private static ReferenceServer server(Path dir, byte[] secret) throws Exception {
        Path keys = Files.writeString(dir.resolve("gateway-keys"), "# gateways\ngw-1 hmac-sha256 "
                + Base64.getEncoder().encodeToString(secret) + "\n");
        return ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).open(true)
                .gateway(new ServerConfig.Gateway(true, "/socket.io", keys, false, Duration.ofSeconds(30))).build());
    }

    private static String proof(byte[] secret, String gatewayId, String nonce) throws Exception {
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret, "HmacSHA256"));
        return Base64.getEncoder().encodeToString(mac.doFinal(("peerlink-gateway-auth-v1\n" + gatewayId + "\n" + nonce)
                .getBytes(StandardCharsets.UTF_8)));
    }

    /** Connects, answers the challenge and returns the authentication ack. */
    private static JSONObject connectAndAuthenticate(Socket socket, byte[] secret) throws Exception {
        CompletableFuture<JSONObject> auth = new CompletableFuture<>();
        socket.once("challenge", args -> {
            try {
                JSONObject challenge = (JSONObject) args[0];
                String nonce = challenge.getString("nonce");
                socket.emit("authenticate", new Object[] {new JSONObject().put("gatewayId", "gw-1").put("algorithm", "HMAC-SHA256")
                        .put("nonce", nonce).put("proof", proof(secret, "gw-1", nonce))}, (Ack) reply -> auth.complete((JSONObject) reply[0]));
            } catch (Exception e) {
                auth.completeExceptionally(e);
            }
        });
        socket.connect();
        return auth.get(20, TimeUnit.SECONDS);
    }

    private static Socket socket(ReferenceServer server, String transport) {
        IO.Options options = IO.Options.builder().setPath("/socket.io").setReconnection(false)
                .setTransports(new String[] {"polling".equals(transport) ? Polling.NAME : WebSocket.NAME}).build();
        return IO.socket(server.httpUri().resolve("/gateway"), options);
    }

    private static JSONObject call(Socket socket, String event, JSONObject body) throws Exception {
        CompletableFuture<JSONObject> reply = new CompletableFuture<>();
        socket.emit(event, new Object[] {body}, (Ack) args -> reply.complete((JSONObject) args[0]));
        return reply.get(20, TimeUnit.SECONDS);
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void aGatewayAuthenticatesUploadsTelemetryAndAnswersCommandsThroughTheServer(String transport, @TempDir Path dir) throws Exception {
        byte[] secret = secret();
        try (ReferenceServer server = server(dir, secret)) {
            assertTrue(server.endpoints().contains("gateway"), server.endpoints().toString());
            GatewayPlatform platform = server.gatewayPlatform();
            BlockingQueue<Telemetry> telemetry = new LinkedBlockingQueue<>();
            platform.onTelemetry(telemetry::add);
            Socket socket = socket(server, transport);
            try {
                socket.on("command", args -> {
                    JSONObject body = (JSONObject) args[0];
                    ((Ack) args[args.length - 1]).call(new JSONObject().put("ok", true)
                            .put("result", new JSONObject().put("echo", body.getJSONObject("params").getInt("n"))));
                });
                JSONObject auth = connectAndAuthenticate(socket, secret);
                assertTrue(auth.getBoolean("ok"), auth.toString());
                assertTrue(call(socket, "device:register", new JSONObject().put("deviceId", "cam-1")).getBoolean("ok"));
                assertTrue(call(socket, "telemetry", new JSONObject().put("deviceId", "cam-1")
                        .put("values", new JSONObject().put("t", 21.5))).getBoolean("ok"));
                Telemetry t = telemetry.poll(20, TimeUnit.SECONDS);
                assertEquals("gw-1", t.gatewayId());
                assertEquals("cam-1", t.deviceId());
                CommandResult r = platform.sendCommand(new Command("gw-1", "cam-1", "ping", "{\"n\":42}", Duration.ofSeconds(10)))
                        .toCompletableFuture().get(20, TimeUnit.SECONDS);
                assertTrue(r.ok(), r.toString());
                assertEquals(42, new JSONObject(r.resultJson()).getInt("echo"));
                assertTrue(platform.onlineGateways().contains("gw-1"));
                // The server's own endpoints are still there beside it.
                assertEquals(200, java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                        server.httpUri().resolve("/healthz")).build(), java.net.http.HttpResponse.BodyHandlers.ofString()).statusCode());
            } finally {
                socket.close();
            }
        }
    }

    @Test
    void aWrongSecretIsRefused(@TempDir Path dir) throws Exception {
        try (ReferenceServer server = server(dir, secret())) {
            Socket socket = socket(server, "websocket");
            try {
                JSONObject auth = connectAndAuthenticate(socket, secret());
                assertFalse(auth.getBoolean("ok"), auth.toString());
                assertEquals("auth-failed", auth.getString("error"));
                assertTrue(server.gatewayPlatform().onlineGateways().isEmpty());
            } finally {
                socket.close();
            }
        }
    }

    @Test
    void offByDefaultAndABadKeysFileNamesTheKeyAndLine(@TempDir Path dir) throws Exception {
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).open(true).build())) {
            assertFalse(server.endpoints().contains("gateway"));
            assertNull(server.gatewayPlatform());
        }
        Path keys = Files.writeString(dir.resolve("bad-keys"), "gw-1 md5 AAAA\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerConfig.builder()
                .bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).open(true)
                .gateway(new ServerConfig.Gateway(true, "/socket.io", keys, false, Duration.ofSeconds(30))).build()));
        assertTrue(e.getMessage().contains("gateway.keys") && e.getMessage().contains("line 1")
                && e.getMessage().contains("unknown algorithm 'md5'"), e.getMessage());
    }
}
