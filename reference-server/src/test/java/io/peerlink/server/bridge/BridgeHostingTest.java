package io.peerlink.server.bridge;

import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;

import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The reference server hosts the resource directory, on CoAP's port unless told otherwise. */
class BridgeHostingTest {

    @Test
    void servesTheDirectoryOnCoapsPortByDefault() {
        assertEquals(5683, ServerConfig.builder().build().bridge().coapPort());
    }

    @Test
    void hostedDirectoryRegistersAndSurvivesAServerRestart(@TempDir Path dir) throws Exception {
        Path db = dir.resolve("rd");
        ServerConfig config = ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).open(true)
                .coapPort(0).rdStorage(db).build();
        String location;
        try (ReferenceServer server = ReferenceServer.start(config)) {
            assertNotNull(server.coapEndpoint());
            String base = "coap://127.0.0.1:" + server.coapEndpoint().port();
            CoapResponse created = new CoapClient(base + "/rd?ep=hosted&lt=600")
                    .post("</temp>;rt=\"temperature-c\"", MediaTypeRegistry.APPLICATION_LINK_FORMAT);
            assertEquals(ResponseCode.CREATED, created.getCode(), created.getResponseText());
            location = created.getOptions().getLocationPathString();

            // HTTP to CoAP on the server's HTTP port. Only registered endpoints are reachable, so the
            // directory registers its own base and an HTTP client reads a lookup through the proxy.
            new CoapClient(base + "/rd?ep=self&base=" + base).post("</rd-lookup/ep>",
                    MediaTypeRegistry.APPLICATION_LINK_FORMAT);
            java.net.http.HttpResponse<String> viaHttp = java.net.http.HttpClient.newHttpClient().send(
                    java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                            + server.controlUri().getPort() + "/hc/" + base + "/rd-lookup/ep?ep=hosted")).build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(200, viaHttp.statusCode(), viaHttp.body());
            assertTrue(viaHttp.body().startsWith("</" + location + ">;ep=\"hosted\""), viaHttp.body());
            assertEquals("application/link-format", viaHttp.headers().firstValue("Content-Type").orElseThrow());
        }
        try (ReferenceServer server = ReferenceServer.start(config)) {
            String base = "coap://127.0.0.1:" + server.coapEndpoint().port();
            CoapResponse eps = new CoapClient(base + "/rd-lookup/ep?ep=hosted").get();
            assertTrue(eps.getResponseText().startsWith("</" + location + ">;ep=\"hosted\""), eps.getResponseText());
        }
    }

    @Test
    void bridgeCanBeTurnedOff() {
        try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(-1).open(true).coapPort(-1).build())) {
            assertNull(server.coapEndpoint());
        }
    }

    @Test
    void servesVirtualResourcesFromConfiguredDescriptionsAndSecrets(@TempDir Path dir) throws Exception {
        String key = "k-" + Long.toHexString(System.nanoTime());
        org.eclipse.jetty.server.Server service = new org.eclipse.jetty.server.Server();
        org.eclipse.jetty.server.ServerConnector connector = new org.eclipse.jetty.server.ServerConnector(service);
        connector.setHost("127.0.0.1");
        service.addConnector(connector);
        service.setHandler(new org.eclipse.jetty.server.Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(org.eclipse.jetty.server.Request request, org.eclipse.jetty.server.Response response,
                                  org.eclipse.jetty.util.Callback callback) {
                boolean ok = key.equals(request.getHeaders().get("X-Key"));
                response.setStatus(ok ? 200 : 401);
                response.getHeaders().put("Content-Type", "application/json");
                org.eclipse.jetty.io.Content.Sink.write(response, true, ok ? "{\"temp\":7.4}" : "{}", callback);
                return true;
            }
        });
        service.start();
        try {
            Path descriptions = java.nio.file.Files.createDirectories(dir.resolve("ws"));
            java.nio.file.Files.writeString(descriptions.resolve("weather.yaml"), "openapi: 3.0.3\n"
                    + "info: {title: w, version: '1'}\nservers: [{url: 'http://127.0.0.1:" + connector.getLocalPort()
                    + "'}]\nsecurity: [{key: []}]\npaths:\n  /now:\n    get:\n      operationId: now\n"
                    + "      responses:\n        '200':\n          description: ok\n          content:\n"
                    + "            application/json: {schema: {type: object}}\n"
                    + "components:\n  securitySchemes:\n    key: {type: apiKey, in: header, name: X-Key}\n");
            Path secrets = dir.resolve("secrets.properties");
            java.nio.file.Files.writeString(secrets, "weather.key=" + key + "\n");
            try (ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                    .stunPort(-1).open(true).coapPort(0).wsDescriptions(descriptions).wsSecrets(secrets).build())) {
                String base = "coap://127.0.0.1:" + server.coapEndpoint().port();
                CoapResponse now = new CoapClient(base + "/ws/weather/now").get();
                assertEquals(ResponseCode.CONTENT, now.getCode(), now.getResponseText());
                assertEquals("{\"temp\":7.4}", now.getResponseText());
                // And from a web client: HTTP -> CoAP (the proxy) -> HTTP (the virtual resource).
                java.net.http.HttpResponse<String> viaHttp = java.net.http.HttpClient.newHttpClient().send(
                        java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:"
                                + server.controlUri().getPort() + "/hc/" + base + "/ws/weather/now")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString());
                assertEquals(200, viaHttp.statusCode(), viaHttp.body());
                assertEquals("{\"temp\":7.4}", viaHttp.body());
            }
        } finally {
            service.stop();
        }
    }
}
