package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.Message;
import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A third-party authenticator found on the class path gets its settings through the SPI's
 * PluginConfig, from the server's sources (here the environment), and a missing setting stops the
 * start with one line naming the key.
 */
class PluginConfigurationTest {

    @Test
    void aPluginOnTheClassPathIsConfiguredFromTheServersSettings() throws Exception {
        ServerConfig config = ServerSettings.load(null, Map.of("host", "127.0.0.1", "http.port", "0", "stun.port", "-1",
                "coap.port", "-1", "authenticator", "configured-network"),
                Map.of("PEERLINK_AUTHENTICATOR_CONFIGURED_NETWORK_NETWORK", "plant-7", "PEERLINK_STATUS_TOKEN", "operator-token-0123456789"));
        try (ReferenceServer server = ReferenceServer.start(config);
             RawControlClient c = new RawControlClient(server.controlUri())) {
            c.send(RawControlClient.hello(DeviceIdentity.ephemeral(), c.challenge.nonce()));
            assertInstanceOf(Message.Welcome.class, c.nextNonPing());
            String metrics = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
                            server.httpUri().resolve("/metrics")).header("Authorization", "Bearer operator-token-0123456789").build(),
                    java.net.http.HttpResponse.BodyHandlers.ofString()).body();
            assertTrue(metrics.contains("peerlink_admissions_total{network=\"plant-7\"} 1.0"), metrics);
        }
    }

    @Test
    void aMissingPluginSettingStopsTheStartNamingTheKey() {
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerConfig.builder()
                .bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).authenticator("configured-network").build()));
        assertTrue(e.getMessage().endsWith(": authenticator.configured-network.network: is required but not set"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count(), e.getMessage());
    }
}
