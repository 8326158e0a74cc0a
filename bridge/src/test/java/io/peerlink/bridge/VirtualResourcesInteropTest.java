package io.peerlink.bridge;

import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.VirtualService;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Virtual resources from OpenAPI 3 and RAML 1.0, called with libcoap's client, served by a real HTTP service. */
class VirtualResourcesInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path descriptions;
    private WeatherService service;
    private ResourceBridge bridge;
    private String base;

    static String openApi(int port) {
        return new String(WeatherService.fixture("weather.yaml.template"), StandardCharsets.UTF_8)
                .replace("${PORT}", String.valueOf(port));
    }

    @BeforeEach
    void start() throws Exception {
        LibcoapClient.requireInstalled();
        service = new WeatherService();
        Files.writeString(descriptions.resolve("weather.yaml"), openApi(service.port()));
        Files.write(descriptions.resolve("climate.raml"), WeatherService.fixture("climate.raml"));
        bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0))
                .descriptions(descriptions)
                .secret("weather.appid", WeatherService.API_KEY)
                .secret("climate.key", WeatherService.RAML_KEY)
                .serviceBase("climate", URI.create(service.base()))
                .httpTimeout(Duration.ofSeconds(3))
                .start().toCompletableFuture().join();
        base = "coap://127.0.0.1:" + bridge.endpoint().port();
    }

    @AfterEach
    void stop() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        if (service != null) {
            service.close();
        }
    }

    @Test
    void getTranslatesToHttpWithTheConfiguredApiKey() throws Exception {
        LibcoapClient.Response r = LibcoapClient.run(base + "/ws/weather/currentWeather?city=Berlin");
        assertEquals("2.05", r.code(), r.diagnostic());
        assertTrue(r.options().contains("application/json"), r.options());
        assertArrayEquals(service.current, r.body());
        assertEquals("city=Berlin&appid=" + WeatherService.API_KEY, service.lastQuery.get());
    }

    @Test
    void cborWhenTheClientAsksForIt() throws Exception {
        LibcoapClient.Response r = LibcoapClient.run("-A", "60", base + "/ws/weather/currentWeather?city=Berlin");
        assertEquals("2.05", r.code(), r.diagnostic());
        assertTrue(r.options().contains("application/cbor"), r.options());
        assertEquals(JSON.readTree(service.current), new CBORMapper().readTree(r.body()));
        assertTrue(r.body().length < service.current.length, "CBOR is smaller than the JSON it carries");
    }

    @Test
    void cborRequestBodyReachesTheServiceAsJson() throws Exception {
        byte[] cbor = new CBORMapper().writeValueAsBytes(JSON.readTree("{\"level\":\"storm\",\"city\":\"Berlin\"}"));
        Path payload = Files.createTempFile(descriptions.getParent(), "alert", ".cbor");
        Files.write(payload, cbor);
        LibcoapClient.Response r = LibcoapClient.run("-m", "post", "-t", "60", "-f", payload.toString(),
                base + "/ws/weather/postAlert");
        assertEquals("2.01", r.code(), r.diagnostic());
        assertEquals("application/json", service.lastContentType.get());
        assertEquals(JSON.readTree("{\"level\":\"storm\",\"city\":\"Berlin\"}"), JSON.readTree(r.body()));
    }

    @Test
    void largeResponsesTravelInBlock2() throws Exception {
        LibcoapClient.Response r = LibcoapClient.run(base + "/ws/weather/forecast?city=Berlin");
        assertEquals("2.05", r.code(), r.diagnostic());
        assertTrue(r.options().contains("Block2"), r.options());
        assertArrayEquals(service.forecast, r.body());
    }

    @Test
    void errorsAreTranslated() throws Exception {
        LibcoapClient.Response missing = LibcoapClient.run(base + "/ws/weather/currentWeather");
        assertEquals("4.00", missing.code());
        assertEquals("missing required query parameter 'city'", missing.diagnostic());
        LibcoapClient.Response unknown = LibcoapClient.run(base + "/ws/weather/currentWeather?city=Berlin&x=1");
        assertEquals("4.00", unknown.code());
        assertTrue(unknown.diagnostic().startsWith("unknown parameter 'x'"), unknown.diagnostic());
        assertEquals("4.04", LibcoapClient.run(base + "/ws/weather/currentWeather?city=Atlantis").code());
        assertEquals("4.05", LibcoapClient.run("-m", "delete", base + "/ws/weather/currentWeather?city=Berlin")
                .code());
        assertEquals("4.04", LibcoapClient.run(base + "/ws/weather/nothing").code());
        LibcoapClient.Response slow = LibcoapClient.run(base + "/ws/weather/slow");
        assertEquals("5.04", slow.code());
        assertTrue(slow.diagnostic().contains("did not answer within 3000 ms"), slow.diagnostic());
        assertEquals("4.06", LibcoapClient.run("-A", "11050", base + "/ws/weather/currentWeather?city=Berlin")
                .code());
    }

    @Test
    void ramlServiceWithAHeaderKey() throws Exception {
        LibcoapClient.Response r = LibcoapClient.run(base + "/ws/climate/now?city=Berlin");
        assertEquals("2.05", r.code(), r.diagnostic());
        assertArrayEquals(service.current, r.body());
        assertEquals("4.00", LibcoapClient.run(base + "/ws/climate/now").code(), "RAML query parameters are required by default");
    }

    @Test
    void virtualResourcesAreInTheDirectoryWithoutSecrets() throws Exception {
        String res = LibcoapClient.run(base + "/rd-lookup/res?et=virtual-service").text();
        assertTrue(res.contains("<" + base + "/ws/weather/currentWeather>;anchor=\"" + base + "\";rt=\"weather\""), res);
        assertTrue(res.contains("/ws/climate/now>"), res);
        assertFalse(res.contains(WeatherService.API_KEY) || res.contains(WeatherService.RAML_KEY), res);
        String oic = LibcoapClient.run("-A", "50", base + "/oic/res?rt=weather-forecast").text();
        assertTrue(oic.contains("\"href\":\"/ws/weather/forecast\""), oic);
    }

    @Test
    void descriptionsAreReReadAndBrokenOnesReportedWhileOthersKeepServing() throws Exception {
        Files.writeString(descriptions.resolve("broken.yaml"), "openapi: 3.0.3\npaths: [this is: not, a map\n");
        Files.writeString(descriptions.resolve("weather.yaml"), openApi(service.port()).replace("operationId: slow",
                "operationId: slowly"));
        VirtualService broken = awaitService("broken", s -> !s.problems().isEmpty());
        assertTrue(broken.problems().get(0).startsWith("broken.yaml: "), broken.problems().toString());
        awaitService("weather", s -> s.resources().stream().anyMatch(l -> l.target().endsWith("/slowly")));
        assertEquals("4.04", LibcoapClient.run(base + "/ws/weather/slow").code());
        assertEquals("2.05", LibcoapClient.run(base + "/ws/weather/currentWeather?city=Berlin").code());

        // A good file turning bad keeps its last good version serving.
        Files.writeString(descriptions.resolve("weather.yaml"), "openapi: [");
        VirtualService stale = awaitService("weather", s -> !s.problems().isEmpty());
        assertFalse(stale.resources().isEmpty());
        assertEquals("2.05", LibcoapClient.run(base + "/ws/weather/currentWeather?city=Berlin").code());

        Files.delete(descriptions.resolve("weather.yaml"));
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (bridge.virtualServices().stream().anyMatch(s -> s.name().equals("weather"))
                && System.nanoTime() < deadline) {
            Thread.sleep(50);
        }
        assertEquals("4.04", LibcoapClient.run(base + "/ws/weather/currentWeather?city=Berlin").code());
        assertEquals("", LibcoapClient.run(base + "/rd-lookup/ep?ep=ws-weather").text());
        assertEquals("2.05", LibcoapClient.run(base + "/ws/climate/now?city=Berlin").code());
    }

    private VirtualService awaitService(String name, java.util.function.Predicate<VirtualService> condition)
            throws InterruptedException {
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (System.nanoTime() < deadline) {
            Optional<VirtualService> s = bridge.virtualServices().stream().filter(v -> v.name().equals(name))
                    .findFirst();
            if (s.isPresent() && condition.test(s.get())) {
                return s.get();
            }
            Thread.sleep(50);
        }
        throw new AssertionError("service " + name + " never reached the expected state: " + bridge.virtualServices());
    }

    @Test
    void listsServices() {
        List<VirtualService> services = bridge.virtualServices();
        assertEquals(List.of("climate", "weather"), services.stream().map(VirtualService::name).sorted().toList());
        services.forEach(s -> assertTrue(s.problems().isEmpty(), s.problems().toString()));
    }
}
