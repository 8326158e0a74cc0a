package io.peerlink.server;

import io.peerlink.Rendezvous;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Readiness and graceful drain with a real server and real devices. */
class DrainTest {
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final HttpClient http = HttpClient.newHttpClient();

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

    private HttpResponse<String> get(ReferenceServer server, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.controlUri().getPort() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static ReferenceServer openServer(int port) {
        return ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(port).stunPort(-1).coapPort(-1)
                .open(true).build());
    }

    @Test
    void drainingTurnsReadinessOffAndSendsDevicesToReconnectToTheNextServer() throws Exception {
        ReferenceServer first = closing(openServer(0));
        HttpResponse<String> ready = get(first, "/readyz");
        assertEquals(200, ready.statusCode());
        assertEquals("ready\n", ready.body());

        TestDevice device = closing(TestDevice.started(first.controlUri(), DeviceIdentity.ephemeral()));
        TestDevice peer = closing(TestDevice.started(first.controlUri(), DeviceIdentity.ephemeral()));
        device.awaitRegistered();
        peer.awaitRegistered();
        assertEquals(peer.id(), device.client.connect(peer.id()).toCompletableFuture().get(10, TimeUnit.SECONDS).peer());
        assertEquals(2, first.connectedDevices());
        device.states.clear();

        first.drain();
        HttpResponse<String> draining = get(first, "/readyz");
        assertEquals(503, draining.statusCode());
        assertEquals("draining\n", draining.body());
        assertEquals(200, get(first, "/healthz").statusCode(), "a draining server is alive, just not ready");
        device.awaitState(Rendezvous.State.RECONNECTING);
        peer.awaitState(Rendezvous.State.RECONNECTING);
        assertEquals(0, first.connectedDevices());
        // While the old node drains, reconnect attempts are closed again; the device keeps trying.
        Thread.sleep(600);
        assertEquals(0, first.connectedDevices());
        assertNotEquals(Rendezvous.State.CLOSED, device.client.state());
        // The server going away says nothing about the devices: their direct link is not declared dead.
        assertNull(device.peersOffline.poll());
        assertNull(peer.peersOffline.poll());

        // The replacement node takes over the same address: the device re-registers by itself.
        int port = first.controlUri().getPort();
        first.close();
        ReferenceServer second = closing(openServer(port));
        device.awaitState(Rendezvous.State.REGISTERED);
        peer.awaitState(Rendezvous.State.REGISTERED);
        assertEquals(2, second.connectedDevices());
        assertEquals(200, get(second, "/readyz").statusCode());
    }
}
