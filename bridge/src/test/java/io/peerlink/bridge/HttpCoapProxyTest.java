package io.peerlink.bridge;

import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.bridge.http.HttpCoapProxy;
import io.peerlink.bridge.internal.CoapResourceBridge;

import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** HTTP clients reach registered CoAP devices through the proxy, in both RFC 8075 URI forms. */
class HttpCoapProxyTest {
    private final AtomicReference<String> led = new AtomicReference<>("off");
    private ResourceBridge bridge;
    private CoapServer device;
    private String deviceUri;
    private HttpCoapProxy proxy;
    private Server jetty;
    private String http;
    private final HttpClient client = HttpClient.newHttpClient();

    @BeforeEach
    void start() throws Exception {
        bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).start()
                .toCompletableFuture().join();
        device = new CoapServer(CoapResourceBridge.configuration());
        CoapEndpoint ep = new CoapEndpoint.Builder().setConfiguration(CoapResourceBridge.configuration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        device.addEndpoint(ep);
        device.add(new CoapResource("temp") {
            @Override
            public void handleGET(CoapExchange exchange) {
                if (exchange.getRequestOptions().hasAccept()
                        && exchange.getRequestOptions().getAccept() == MediaTypeRegistry.APPLICATION_JSON) {
                    exchange.respond(ResponseCode.CONTENT, "{\"t\":21.5}", MediaTypeRegistry.APPLICATION_JSON);
                } else {
                    exchange.respond(ResponseCode.CONTENT, "21.5", MediaTypeRegistry.TEXT_PLAIN);
                }
            }
        });
        device.add(new CoapResource("led") {
            @Override
            public void handlePUT(CoapExchange exchange) {
                led.set(exchange.getRequestText());
                exchange.respond(ResponseCode.CHANGED);
            }
        });
        device.add(new CoapResource("mute") {
            @Override
            public void handleGET(CoapExchange exchange) {
                // Never answers: the proxy's timeout must.
            }
        });
        device.start();
        deviceUri = "coap://127.0.0.1:" + ep.getAddress().getPort();
        bridge.register(io.peerlink.RegistrationRequest.of("dev", java.util.List.of(
                io.peerlink.ResourceLink.of("/temp")), Duration.ofMinutes(5)).withBase(URI.create(deviceUri)))
                .toCompletableFuture().join();
        proxy = new HttpCoapProxy(bridge, Duration.ofSeconds(3));
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        connector.getConnectionFactory(org.eclipse.jetty.server.HttpConnectionFactory.class).getHttpConfiguration()
                .setUriCompliance(HttpCoapProxy.URI_COMPLIANCE);
        jetty.addConnector(connector);
        jetty.setHandler(proxy);
        jetty.start();
        http = "http://127.0.0.1:" + connector.getLocalPort();
    }

    @AfterEach
    void stop() throws Exception {
        jetty.stop();
        proxy.close();
        device.destroy();
        bridge.close();
    }

    private HttpResponse<String> get(String path, String accept) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(http + path));
        if (accept != null) {
            b.header("Accept", accept);
        }
        return client.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void appendedTargetForm() throws Exception {
        HttpResponse<String> r = get("/hc/" + deviceUri + "/temp", null);
        assertEquals(200, r.statusCode(), r.body());
        assertEquals("21.5", r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElseThrow().startsWith("text/plain"));
        HttpResponse<String> json = get("/hc/" + deviceUri + "/temp", "application/json");
        assertEquals("{\"t\":21.5}", json.body());
        assertEquals("application/json", json.headers().firstValue("Content-Type").orElseThrow());
    }

    @Test
    void queryTargetFormAndPut() throws Exception {
        HttpResponse<String> r = get("/hc?target_uri=" + URLEncoder.encode(deviceUri + "/temp", StandardCharsets.UTF_8),
                null);
        assertEquals("21.5", r.body());
        HttpResponse<String> put = client.send(HttpRequest.newBuilder(URI.create(http + "/hc/" + deviceUri + "/led"))
                .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("on")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(200, put.statusCode());
        assertEquals("on", led.get());
    }

    @Test
    void errorsAreTranslated() throws Exception {
        assertEquals(404, get("/hc/" + deviceUri + "/nothing", null).statusCode());
        HttpResponse<String> mute = get("/hc/" + deviceUri + "/mute", null);
        assertEquals(504, mute.statusCode());
        assertTrue(mute.body().contains("did not answer within 3000 ms"), mute.body());
        HttpResponse<String> stranger = get("/hc/coap://127.0.0.1:9/temp", null);
        assertEquals(403, stranger.statusCode());
        assertTrue(stranger.body().contains("not registered"), stranger.body());
        assertEquals(400, get("/hc/http://example.invalid/x", null).statusCode());
        assertEquals(400, get("/hc", null).statusCode());
        assertEquals(404, get("/other", null).statusCode());
        HttpResponse<String> big = client.send(HttpRequest.newBuilder(URI.create(http + "/hc/" + deviceUri + "/led"))
                .header("Content-Type", "text/plain").PUT(HttpRequest.BodyPublishers.ofString("x".repeat(70_000)))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(413, big.statusCode(), big.body());
        HttpResponse<String> odd = client.send(HttpRequest.newBuilder(URI.create(http + "/hc/" + deviceUri + "/led"))
                .header("Content-Type", "image/png").PUT(HttpRequest.BodyPublishers.ofString("x")).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(415, odd.statusCode(), odd.body());
    }
}
