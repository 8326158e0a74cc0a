package io.peerlink.transport.socketio;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import org.junit.jupiter.api.Test;

import java.util.ServiceLoader;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SocketIoTransportProviderTest {

    private static final Endpoint BIND = new Endpoint("socketio", "127.0.0.1", 8080, "/dev-1");

    private static TransportProvider provider() {
        return ServiceLoader.load(TransportProvider.class).stream().map(ServiceLoader.Provider::get)
                .filter(p -> p.scheme().equals("socketio")).findFirst().orElseThrow();
    }

    @Test
    void foundByServiceLoaderAndConfiguredFromTheBindEndpoint() {
        Transport t = provider().create(TransportConfig.bind(BIND)
                .set(SocketIoTransportProvider.HMAC_SECRET, "AAECAwQFBgcICQoLDA0ODw==").build());
        assertEquals(Transport.State.CREATED, t.state());
        assertTrue(t.supports(new Endpoint("socketio", "127.0.0.1", 8080, "/dev-2")));
        assertTrue(t.capabilities().relayed());
    }

    @Test
    void refusesMissingSecretAndBadEndpoints() {
        IllegalArgumentException noSecret = assertThrows(IllegalArgumentException.class,
                () -> provider().create(TransportConfig.bind(BIND).build()));
        assertTrue(noSecret.getMessage().contains("at least 16 bytes"), noSecret.getMessage());
        assertThrows(IllegalArgumentException.class, () -> provider().create(TransportConfig.bind(
                new Endpoint("socketio", "127.0.0.1", 0, "/dev-1"))
                .set(SocketIoTransportProvider.HMAC_SECRET, "AAECAwQFBgcICQoLDA0ODw==").build()));
        assertThrows(IllegalArgumentException.class, () -> provider().create(TransportConfig.bind(
                new Endpoint("socketio", "127.0.0.1", 8080, "/../x"))
                .set(SocketIoTransportProvider.HMAC_SECRET, "AAECAwQFBgcICQoLDA0ODw==").build()));
    }
}
