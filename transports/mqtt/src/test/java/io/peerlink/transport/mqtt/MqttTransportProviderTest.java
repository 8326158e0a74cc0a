package io.peerlink.transport.mqtt;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Provider discovery, bind endpoint and option validation, declared capabilities. */
class MqttTransportProviderTest {

    private static final Endpoint BIND = Endpoint.parse("mqtt://broker.example:1883/device-1");

    @Test
    void serviceLoaderFindsBothSchemes() {
        Map<String, TransportProvider> byScheme = ServiceLoader.load(TransportProvider.class).stream()
                .map(ServiceLoader.Provider::get)
                .collect(Collectors.toMap(TransportProvider::scheme, p -> p));
        assertTrue(byScheme.get("mqtt") instanceof MqttTransportProvider);
        assertTrue(byScheme.get("mqtts") instanceof MqttsTransportProvider);
    }

    @Test
    void capabilitiesSayRelayedWithPubackCompletionAndNoDeliveryPromise() {
        Transport t = new MqttTransportProvider().create(TransportConfig.bind(BIND).build());
        TransportCapabilities c = t.capabilities();
        assertTrue(c.relayed());
        assertTrue(c.sendCompletion());
        assertFalse(c.reliable());
        assertFalse(c.ordered());
        assertFalse(c.ttlControl());
        assertFalse(c.peerAuthentication());
        assertEquals(65_507, c.maxDatagramSize());
        assertEquals(Transport.State.CREATED, t.state());
        assertThrows(IllegalStateException.class, t::localEndpoint);
    }

    @Test
    void badBindEndpointsAreRefusedWithTheReason() {
        assertRefused("mqtt://broker.example:1883", "ends with /<deviceTopicId>");
        assertRefused("mqtt://broker.example:1883/", "invalid device topic ID");
        assertRefused("mqtt://broker.example:1883/a/b", "invalid device topic ID");
        assertRefused("mqtt://broker.example:1883/a.b", "is not one of [A-Za-z0-9_-]");
        assertRefused("mqtt://broker.example:0/a", "host and port (1..65535)");
        assertRefused("udp://127.0.0.1:1883/a", "needs a mqtt:// bind endpoint");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MqttsTransportProvider().create(TransportConfig.bind(BIND).build()));
        assertTrue(e.getMessage().contains("needs a mqtts:// bind endpoint"), e.getMessage());
    }

    private static void assertRefused(String bind, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MqttTransportProvider().create(TransportConfig.bind(Endpoint.parse(bind)).build()), bind);
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void outOfRangeOptionsAreRefusedWithTheOptionName() {
        assertOption(b -> b.set(MqttOptions.MAX_IN_FLIGHT, 0), "mqtt.maxInFlight");
        assertOption(b -> b.set(MqttOptions.MAX_IN_FLIGHT, 65_536), "mqtt.maxInFlight");
        assertOption(b -> b.set(MqttOptions.MAX_DATAGRAM_SIZE, 63), "mqtt.maxDatagramSize");
        assertOption(b -> b.set(MqttOptions.SESSION_EXPIRY, Duration.ofMillis(1500)), "mqtt.sessionExpiry");
        assertOption(b -> b.set(MqttOptions.SESSION_EXPIRY, Duration.ofSeconds(-1)), "mqtt.sessionExpiry");
        assertOption(b -> b.set(MqttOptions.KEEP_ALIVE, Duration.ofSeconds(65_536)), "mqtt.keepAlive");
        assertOption(b -> b.set(MqttOptions.CONNECT_TIMEOUT, Duration.ofMillis(10)), "mqtt.connectTimeout");
        assertOption(b -> b.set(MqttOptions.RECONNECT_MIN_DELAY, Duration.ofSeconds(20)), "mqtt.reconnectMinDelay");
        assertOption(b -> b.set(MqttOptions.PASSWORD, "secret"), "mqtt.password needs mqtt.username");
        assertOption(b -> b.set(MqttOptions.TOPIC_PREFIX, "a/+/b"), "wildcard");
        assertOption(b -> b.set(MqttOptions.TOPIC_PREFIX, "$SYS/x"), "reserved");
        assertOption(b -> b.set(MqttOptions.TOPIC_PREFIX, "a//b"), "empty level");
    }

    private static void assertOption(UnaryOperator<TransportConfig.Builder> option, String expected) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new MqttTransportProvider().create(option.apply(TransportConfig.bind(BIND)).build()));
        assertTrue(e.getMessage().contains(expected), e.getMessage());
    }

    @Test
    void theLocalEndpointIsTheBindEndpointAndTlsUsesItsOwnScheme() {
        MqttTransport.Config plain = MqttTransportProvider.parse(TransportConfig.bind(BIND).build(), "mqtt", false);
        assertEquals(BIND, plain.bind());
        assertEquals("device-1", plain.clientId(), "the client ID defaults to the device topic ID");
        MqttTransport.Config tls = MqttTransportProvider.parse(
                TransportConfig.bind(Endpoint.parse("mqtts://broker.example:8883/device-1")).set(MqttOptions.CLIENT_ID, "c-1").build(),
                "mqtts", true);
        assertTrue(tls.tls());
        assertEquals("c-1", tls.clientId());
    }
}
