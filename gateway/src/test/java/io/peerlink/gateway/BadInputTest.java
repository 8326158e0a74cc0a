package io.peerlink.gateway;

import org.json.JSONObject;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Hostile gateways (docs/gateway.md, "Errors" and "Limits"): each bad input gets a precise error
 * code, oversized messages close only the sender's connection, a connect storm from one address
 * is answered with 429, and a well-behaved gateway on the same server keeps working throughout.
 */
class BadInputTest {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static TestServer server(byte[] good, byte[] bad, GatewayLimits limits) throws Exception {
        return new TestServer(GatewayServer.builder(GatewayKeyStore.of(Map.of(
                "gw-good", new GatewayKey.HmacSha256(good),
                "gw-bad", new GatewayKey.HmacSha256(bad)))).limits(limits).build());
    }

    private static NodeGateway goodGateway(TestServer server, String transport, byte[] secret) throws Exception {
        NodeGateway node = NodeGateway.start(new JSONObject().put("url", server.url()).put("transport", transport)
                .put("scenario", "full").put("gatewayId", "gw-good").put("algorithm", "HMAC-SHA256")
                .put("secret", Base64.getEncoder().encodeToString(secret)).put("heartbeatMs", 1000)
                .put("attachment", ""));
        assertTrue(node.next("auth").getJSONObject("r").getBoolean("ok"));
        node.next("ready");
        return node;
    }

    private static void assertGoodGatewayAnswers(TestServer server) throws Exception {
        CommandResult r = server.gateway.platform().sendCommand(new Command("gw-good", "dev-1", "ping", "{\"n\":1}",
                Duration.ofSeconds(10))).toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertTrue(r.ok(), r.toString());
    }

    private static String error(NodeGateway node, String step) throws InterruptedException {
        JSONObject r = node.next(step).getJSONObject("r");
        assertFalse(r.getBoolean("ok"), step + ": " + r);
        assertFalse(r.getString("message").isEmpty());
        return r.getString("error");
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void malformedEventsGetPreciseErrorsAndOversizedMessagesCloseOnlyTheSender(String transport) throws Exception {
        byte[] good = GatewayInteropTest.secret();
        byte[] bad = GatewayInteropTest.secret();
        GatewayLimits limits = GatewayLimits.DEFAULTS.withMaxDevicesPerGateway(2);
        try (TestServer server = server(good, bad, limits);
             NodeGateway goodNode = goodGateway(server, transport, good);
             NodeGateway node = NodeGateway.start(new JSONObject().put("url", server.url())
                     .put("transport", transport).put("scenario", "bad-input").put("gatewayId", "gw-bad")
                     .put("algorithm", "HMAC-SHA256").put("secret", Base64.getEncoder().encodeToString(bad))
                     .put("maxJsonBytes", limits.maxJsonBytes()).put("maxMessageBytes", limits.maxMessageBytes()))) {
            assertEquals("unauthenticated", error(node, "before-auth"));
            assertTrue(node.next("auth").getJSONObject("r").getBoolean("ok"));
            assertEquals("bad-request", error(node, "not-object"));
            assertEquals("bad-request", error(node, "missing-device"));
            assertEquals("bad-request", error(node, "bad-device-id"));
            assertEquals("unknown-device", error(node, "unknown-device"));
            assertEquals("bad-request", error(node, "values-not-object"));
            assertEquals("payload-too-large", error(node, "json-too-large"));
            assertEquals("bad-request", error(node, "attachment-not-binary"));
            assertEquals("unknown-event", error(node, "unknown-event"));
            assertEquals("bad-request", error(node, "bad-version"));
            assertTrue(node.next("second-device").getJSONObject("r").getBoolean("ok"));
            assertEquals("too-many-devices", error(node, "too-many-devices"));
            assertTrue(node.next("still-works").getJSONObject("r").getBoolean("ok"));
            // The oversized message closes the bad gateway's connection...
            node.next("disconnect");
            // ...and nobody else's.
            assertGoodGatewayAnswers(server);
            assertTrue(server.gateway.platform().onlineGateways().contains("gw-good"));
            assertTrue(goodNode.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void eventFloodOnOneConnectionIsRateLimited(String transport) throws Exception {
        byte[] good = GatewayInteropTest.secret();
        byte[] bad = GatewayInteropTest.secret();
        // Burst 10, refilling at one event per 100 s: authenticate takes one token, so 9 of the 100
        // heartbeats pass however slowly the machine runs them.
        GatewayLimits limits = GatewayLimits.DEFAULTS.withEventRate(0.01, 10);
        try (TestServer server = server(good, bad, limits);
             NodeGateway goodNode = goodGateway(server, transport, good);
             NodeGateway node = NodeGateway.start(new JSONObject().put("url", server.url())
                     .put("transport", transport).put("scenario", "flood").put("gatewayId", "gw-bad")
                     .put("algorithm", "HMAC-SHA256").put("secret", Base64.getEncoder().encodeToString(bad))
                     .put("events", 100))) {
            assertTrue(node.next("auth").getJSONObject("r").getBoolean("ok"));
            JSONObject flood = node.next("flood");
            JSONObject counts = flood.getJSONObject("counts");
            assertTrue(counts.optInt("ok") <= 10, counts.toString());
            assertEquals(100 - counts.optInt("ok"), counts.optInt("rate-limited"), counts.toString());
            assertTrue(flood.getJSONObject("sample").getString("message").contains("events per second"));
            assertGoodGatewayAnswers(server);
            assertTrue(goodNode.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"websocket", "polling"})
    void connectStormFromOneAddressIsRateLimited(String transport) throws Exception {
        byte[] good = GatewayInteropTest.secret();
        // Burst 8, refilling at one connection per 100 s.
        GatewayLimits limits = GatewayLimits.DEFAULTS.withConnectRate(0.01, 8);
        try (TestServer server = server(good, GatewayInteropTest.secret(), limits);
             NodeGateway goodNode = goodGateway(server, transport, good)) {
            try (NodeGateway storm = NodeGateway.start(new JSONObject().put("url", server.url())
                    .put("transport", transport).put("scenario", "storm").put("gatewayId", "gw-bad")
                    .put("algorithm", "HMAC-SHA256").put("connections", 40))) {
                JSONObject counts = storm.next("storm").getJSONObject("counts");
                // The good gateway used one token; at most the rest of the burst (plus refill) gets in.
                int connected = counts.optInt("connected", 0);
                assertTrue(connected <= 8, counts.toString());
                assertEquals(40 - connected, counts.keySet().stream().filter(k -> k.startsWith("refused"))
                        .mapToInt(counts::getInt).sum(), counts.toString());
            }
            // The already connected gateway is untouched, and another address can still connect.
            assertGoodGatewayAnswers(server);
            assertEquals(200, rawHandshakeStatus(server.port, "127.0.0.2"));
            assertEquals(429, rawHandshakeStatus(server.port, "127.0.0.1"));
            assertTrue(goodNode.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "42/gateway,[\"telemetry\",{\"deviceId\":",   // truncated JSON
        "42/gateway,[]",                              // event without a name
        "42/gateway,[42,{}]",                         // event name not a string
        "42/gateway,{\"a\":1}",                       // payload not an array
        "4999",                                       // unknown packet type
        "\u0000\u00ff garbage"})
    void malformedPacketsOverPollingDoNotAffectOthers(String packet) throws Exception {
        byte[] good = GatewayInteropTest.secret();
        try (TestServer server = server(good, GatewayInteropTest.secret(), GatewayLimits.DEFAULTS);
             NodeGateway goodNode = goodGateway(server, "websocket", good)) {
            String base = server.url() + "/socket.io/?EIO=4&transport=polling";
            String open = HTTP.send(HttpRequest.newBuilder(URI.create(base)).build(),
                    HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(open.startsWith("0{"), open);
            String sid = new JSONObject(open.substring(1)).getString("sid");
            String session = base + "&sid=" + sid;
            assertEquals(200, post(session, "40/gateway,"));
            int status = post(session, packet);
            // Either refused outright (400) or accepted and then the session is closed: never a 5xx.
            assertTrue(status == 200 || status == 400, "status " + status);
            assertGoodGatewayAnswers(server);
            assertTrue(server.gateway.platform().onlineGateways().contains("gw-good"));
            assertTrue(goodNode.isAlive());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "42/gateway,[\"telemetry\",{\"deviceId\":",
        "42/gateway,[]",
        "42/gateway,[42,{}]",
        "42/gateway,{\"a\":1}",
        "4999",
        "\u0000\u00ff garbage"})
    void malformedPacketsOverWebSocketDoNotAffectOthers(String packet) throws Exception {
        byte[] good = GatewayInteropTest.secret();
        try (TestServer server = server(good, GatewayInteropTest.secret(), GatewayLimits.DEFAULTS);
             NodeGateway goodNode = goodGateway(server, "polling", good)) {
            java.util.concurrent.BlockingQueue<String> received = new java.util.concurrent.LinkedBlockingQueue<>();
            java.util.concurrent.CompletableFuture<Integer> closed = new java.util.concurrent.CompletableFuture<>();
            java.net.http.WebSocket ws = HTTP.newWebSocketBuilder().buildAsync(URI.create("ws://127.0.0.1:"
                    + server.port + "/socket.io/?EIO=4&transport=websocket"), new java.net.http.WebSocket.Listener() {
                        @Override
                        public java.util.concurrent.CompletionStage<?> onText(java.net.http.WebSocket w,
                                CharSequence data, boolean last) {
                            received.add(data.toString());
                            w.request(1);
                            return null;
                        }

                        @Override
                        public java.util.concurrent.CompletionStage<?> onClose(java.net.http.WebSocket w,
                                int status, String reason) {
                            closed.complete(status);
                            return null;
                        }

                        @Override
                        public void onError(java.net.http.WebSocket w, Throwable error) {
                            closed.complete(-1);
                        }
                    }).get(10, TimeUnit.SECONDS);
            String open = received.poll(10, TimeUnit.SECONDS);
            assertTrue(open != null && open.startsWith("0{"), String.valueOf(open));
            ws.sendText("40/gateway,", true).get(10, TimeUnit.SECONDS);
            String connected = received.poll(10, TimeUnit.SECONDS);
            assertTrue(connected != null && connected.startsWith("40/gateway,"), String.valueOf(connected));
            ws.sendText(packet, true).get(10, TimeUnit.SECONDS);
            assertGoodGatewayAnswers(server);
            assertTrue(server.gateway.platform().onlineGateways().contains("gw-good"));
            assertTrue(goodNode.isAlive());
            ws.abort();
        }
    }

    private static int post(String url, String body) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create(url)).POST(HttpRequest.BodyPublishers.ofString(body))
                .header("Content-Type", "text/plain;charset=UTF-8").build(), HttpResponse.BodyHandlers.ofString())
                .statusCode();
    }

    /** An Engine.IO polling handshake sent from {@code localAddress} (any 127/8 address is loopback on Linux). */
    private static int rawHandshakeStatus(int port, String localAddress) throws Exception {
        try (Socket s = new Socket()) {
            s.bind(new InetSocketAddress(InetAddress.getByName(localAddress), 0));
            s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 5000);
            s.setSoTimeout(10_000);
            OutputStream out = s.getOutputStream();
            out.write(("GET /socket.io/?EIO=4&transport=polling HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                    + "Connection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = s.getInputStream();
            String head = new String(in.readNBytes(12), StandardCharsets.US_ASCII);
            return Integer.parseInt(head.substring(9, 12));
        }
    }
}
