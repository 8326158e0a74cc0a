package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.stun.StunClient;
import io.peerlink.core.internal.rendezvous.Introduction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/** The Prometheus endpoint of a real server, scraped over HTTP while real devices come, link and go. */
class MetricsTest {
    private static final String TOKEN = "metrics-token-for-tests";
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T resource) {
        toClose.add(resource);
        return resource;
    }

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(ReferenceServer server, String path, String token) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.controlUri().getPort() + path));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private String scrape(ReferenceServer server) throws Exception {
        HttpResponse<String> r = get(server, "/metrics", TOKEN);
        assertEquals(200, r.statusCode(), r.body());
        assertTrue(r.headers().firstValue("Content-Type").orElse("").startsWith("text/plain"));
        return r.body();
    }

    /** @return the value of the sample with exactly this name and these labels, or NaN when absent */
    private static double sample(String body, String nameAndLabels) {
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(nameAndLabels) + " ([0-9.eE+-]+|NaN)$").matcher(body);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    @Test
    void countersAndGaugesFollowRealDevices() throws Exception {
        DeviceIdentity a1 = DeviceIdentity.ephemeral();
        DeviceIdentity a2 = DeviceIdentity.ephemeral();
        DeviceIdentity b1 = DeviceIdentity.ephemeral();
        Path list = dir.resolve("allow-list");
        Files.writeString(list, a1.id() + " lab\n" + a2.id() + " lab\n" + b1.id() + " office\n");
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(0).coapPort(-1).allowListFile(list).statusToken(TOKEN).build()));

        String before = scrape(server);
        assertEquals(0, sample(before, "peerlink_devices_connected"), before);
        assertEquals(0, sample(before, "peerlink_introductions_total"), before);
        assertTrue(sample(before, "jetty_connections_current_connections{connector_name=\"unnamed\"}") >= 1, "Jetty connection metrics are bound:\n" + before);

        TestDevice d1 = closing(TestDevice.started(server.controlUri(), a1));
        TestDevice d2 = closing(TestDevice.started(server.controlUri(), a2));
        TestDevice d3 = closing(TestDevice.started(server.controlUri(), b1));
        d1.awaitRegistered();
        d2.awaitRegistered();
        d3.awaitRegistered();
        TestDevice stranger = closing(TestDevice.started(server.controlUri(), DeviceIdentity.ephemeral()));
        assertThrows(Exception.class, () -> stranger.client.registered().toCompletableFuture().get(10, TimeUnit.SECONDS));

        Introduction intro = d1.client.connect(d2.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(d2.id(), intro.peer());
        // Across networks the same-network policy answers UNKNOWN.
        assertThrows(Exception.class, () -> d1.client.connect(d3.id()).toCompletableFuture().get(10, TimeUnit.SECONDS));

        try (DatagramChannel udp = DatagramChannel.open()) {
            udp.connect(new InetSocketAddress("127.0.0.1", server.stunAddress().getPort()));
            udp.write(StunClient.request(StunClient.newTransactionId()));
            udp.read(ByteBuffer.allocate(1500));
        }

        String after = scrape(server);
        assertEquals(3, sample(after, "peerlink_devices_connected"), after);
        assertEquals(2, sample(after, "peerlink_devices_online{network=\"lab\"}"), after);
        assertEquals(1, sample(after, "peerlink_devices_online{network=\"office\"}"), after);
        assertEquals(2, sample(after, "peerlink_admissions_total{network=\"lab\"}"), after);
        assertEquals(1, sample(after, "peerlink_admissions_total{network=\"office\"}"), after);
        assertTrue(sample(after, "peerlink_refusals_total{reason=\"DENIED\"}") >= 1, after);
        assertEquals(1, sample(after, "peerlink_introductions_total"), after);
        assertEquals(2, sample(after, "peerlink_connect_requests_total"), after);
        assertEquals(1, sample(after, "peerlink_connect_unreachable_total{reason=\"UNKNOWN\"}"), after);
        assertEquals(1, sample(after, "peerlink_stun_answered_total"), after);
        // Usually 0 on loopback; present and never negative (every queued text is subtracted once, sent or failed).
        assertTrue(sample(after, "peerlink_control_queued_bytes") >= 0, after);

        d2.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        String gone = scrape(server);
        while (sample(gone, "peerlink_devices_online{network=\"lab\"}") != 1 && System.nanoTime() < deadline) {
            Thread.sleep(50);
            gone = scrape(server);
        }
        assertEquals(1, sample(gone, "peerlink_devices_online{network=\"lab\"}"), gone);
        assertEquals(2, sample(gone, "peerlink_devices_connected"), gone);
    }

    @Test
    void scrapeWithoutTheOperatorTokenIsRefused() throws Exception {
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(-1).coapPort(-1).open(true).statusToken(TOKEN).build()));
        HttpResponse<String> none = get(server, "/metrics", null);
        assertEquals(401, none.statusCode());
        assertFalse(none.body().contains("peerlink_"), none.body());
        assertEquals(401, get(server, "/metrics", "wrong-token-of-enough-length").statusCode());
        assertEquals(200, get(server, "/metrics", TOKEN).statusCode());
    }

    @Test
    void withoutAnOperatorTokenThereIsNoMetricsEndpoint() throws Exception {
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0)
                .stunPort(-1).coapPort(-1).open(true).build()));
        assertEquals(404, get(server, "/metrics", null).statusCode());
    }
}
