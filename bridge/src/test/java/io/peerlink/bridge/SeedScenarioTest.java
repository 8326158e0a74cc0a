package io.peerlink.bridge;

import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.bridge.internal.CoapResourceBridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.CoapServer;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The seed paper's scenario end to end: a device with a temperature and an LED resource publishes
 * them to the directory, a weather web service is exposed from its description, and one CoAP
 * client (libcoap) discovers all three through {@code /oic/res} and {@code /rd-lookup/res} and
 * calls each at the URI the directory gave it.
 */
class SeedScenarioTest {

    @Test
    void oneClientDiscoversAndCallsDevicesAndWebServicesAlike(@TempDir Path descriptions) throws Exception {
        LibcoapClient.requireInstalled();
        AtomicReference<String> led = new AtomicReference<>("off");
        CoapServer device = new CoapServer(CoapResourceBridge.configuration());
        CoapEndpoint deviceEndpoint = new CoapEndpoint.Builder().setConfiguration(CoapResourceBridge.configuration())
                .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        device.addEndpoint(deviceEndpoint);
        device.add(new CoapResource("temp") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, "21.5", MediaTypeRegistry.TEXT_PLAIN);
            }
        });
        device.add(new CoapResource("led") {
            @Override
            public void handleGET(CoapExchange exchange) {
                exchange.respond(ResponseCode.CONTENT, led.get(), MediaTypeRegistry.TEXT_PLAIN);
            }

            @Override
            public void handlePUT(CoapExchange exchange) {
                led.set(exchange.getRequestText());
                exchange.respond(ResponseCode.CHANGED);
            }
        });
        device.start();
        try (WeatherService weather = new WeatherService()) {
            Files.writeString(descriptions.resolve("weather.yaml"), VirtualResourcesInteropTest.openApi(weather.port()));
            try (ResourceBridge bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0))
                    .descriptions(descriptions).secret("weather.appid", WeatherService.API_KEY).start()
                    .toCompletableFuture().join()) {
                String rd = "coap://127.0.0.1:" + bridge.endpoint().port();
                String deviceUri = "coap://127.0.0.1:" + deviceEndpoint.getAddress().getPort();

                // The device publishes its resources (OCF rdpub, from its own socket).
                CoapClient publish = new CoapClient(rd + "/oic/rd");
                publish.setEndpoint(deviceEndpoint);
                CoapResponse published = publish.post("{\"di\":\"seed-device-1\",\"ttl\":300,\"links\":["
                        + "{\"href\":\"/temp\",\"rt\":[\"oic.r.temperature\"],\"if\":[\"oic.if.s\"],\"p\":{\"bm\":3}},"
                        + "{\"href\":\"/led\",\"rt\":[\"oic.r.switch.binary\"],\"if\":[\"oic.if.a\"],\"p\":{\"bm\":1}}]}",
                        MediaTypeRegistry.APPLICATION_JSON);
                assertEquals(ResponseCode.CHANGED, published.getCode(), published.getResponseText());

                // One client discovers everything through OCF discovery ...
                JsonNode oic = new ObjectMapper().readTree(LibcoapClient.run("-A", "50", rd + "/oic/res").body());
                List<String> types = new ArrayList<>();
                oic.forEach(link -> link.get("rt").forEach(rt -> types.add(rt.asText())));
                assertTrue(types.containsAll(List.of("oic.r.temperature", "oic.r.switch.binary", "weather")), types.toString());

                // ... and RFC 9176 lookup, which gives the URIs to call.
                String temp = target(LibcoapClient.run(rd + "/rd-lookup/res?rt=oic.r.temperature").text());
                String switchUri = target(LibcoapClient.run(rd + "/rd-lookup/res?rt=oic.r.switch.binary").text());
                String current = target(LibcoapClient.run(rd + "/rd-lookup/res?rt=weather").text());
                assertEquals(deviceUri + "/temp", temp);
                assertEquals(deviceUri + "/led", switchUri);
                assertEquals(rd + "/ws/weather/currentWeather", current);

                assertEquals("21.5", LibcoapClient.run(temp).text());
                assertEquals("2.04", LibcoapClient.run("-m", "put", "-e", "on", switchUri).code());
                assertEquals("on", led.get());
                LibcoapClient.Response forecast = LibcoapClient.run(current + "?city=Berlin");
                assertEquals("2.05", forecast.code(), forecast.diagnostic());
                assertArrayEquals(weather.current, forecast.body());
            }
        } finally {
            device.destroy();
        }
    }

    private static String target(String linkFormat) {
        assertTrue(linkFormat.startsWith("<") && linkFormat.indexOf('>') > 0, linkFormat);
        assertEquals(-1, linkFormat.indexOf(",<"), "exactly one link expected: " + linkFormat);
        return linkFormat.substring(1, linkFormat.indexOf('>'));
    }
}
