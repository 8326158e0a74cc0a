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
}
