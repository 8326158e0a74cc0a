package io.peerlink.cdi;

import io.peerlink.Endpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Parsing and validation of the configuration keys, one class, no container. */
class DeviceSettingsTest {
    @TempDir
    Path dir;

    private static Map<String, String> minimal() {
        Map<String, String> map = new HashMap<>();
        map.put(DeviceSettings.IDENTITY, "device.key");
        map.put(DeviceSettings.UDP, "127.0.0.1:0");
        return map;
    }

    private static String failure(Map<String, String> properties) {
        return assertThrows(PeerLinkConfigurationException.class, () -> DeviceSettings.fromProperties(properties))
                .getMessage();
    }

    @Test
    void readsEveryKey() {
        Map<String, String> map = minimal();
        map.put(DeviceSettings.RENDEZVOUS, "wss://rendezvous.example:8443/peerlink/v1");
        map.put(DeviceSettings.RENDEZVOUS_PIN, "sha256/AAAA");
        map.put(DeviceSettings.STUN, "[::1]:3478");
        map.put(DeviceSettings.HOST_CANDIDATES, "false");
        map.put(DeviceSettings.CONNECT_TIMEOUT, "PT7S");
        map.put(DeviceSettings.OPENER_TTL, "2");
        map.put(DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0, udp://[::1]:0");
        DeviceSettings s = DeviceSettings.fromProperties(map);
        assertEquals(Path.of("device.key"), s.identity());
        assertEquals(new InetSocketAddress("127.0.0.1", 0), s.udp());
        assertEquals(URI.create("wss://rendezvous.example:8443/peerlink/v1"), s.rendezvous());
        assertEquals("sha256/AAAA", s.rendezvousPin());
        assertEquals(new InetSocketAddress("::1", 3478), s.stun());
        assertEquals(Boolean.FALSE, s.hostCandidates());
        assertEquals(Duration.ofSeconds(7), s.connectTimeout());
        assertEquals(2, s.openerTtl());
        assertEquals(List.of(Endpoint.parse("udp://127.0.0.1:0"), Endpoint.parse("udp://[::1]:0")), s.transports());
    }

    @Test
    void optionalKeysMayBeAbsent() {
        DeviceSettings s = DeviceSettings.fromProperties(minimal());
        assertNull(s.rendezvous());
        assertNull(s.stun());
        assertNull(s.hostCandidates());
        assertNull(s.connectTimeout());
        assertEquals(0, s.openerTtl());
    }

    @Test
    void missingRequiredKeysAreNamed() {
        Map<String, String> noIdentity = minimal();
        noIdentity.remove(DeviceSettings.IDENTITY);
        assertTrue(failure(noIdentity).startsWith("missing configuration key peerlink.identity"));
        Map<String, String> noUdp = minimal();
        noUdp.remove(DeviceSettings.UDP);
        assertTrue(failure(noUdp).startsWith("missing configuration key peerlink.udp"));
        Map<String, String> both = minimal();
        both.put(DeviceSettings.IDENTITY_EPHEMERAL, "true");
        assertTrue(failure(both).contains("choose one identity"));
    }

    @Test
    void transportsAloneAreEnough() {
        Map<String, String> map = minimal();
        map.remove(DeviceSettings.UDP);
        map.put(DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0");
        DeviceSettings s = DeviceSettings.fromProperties(map);
        assertNull(s.udp());
        assertEquals(1, s.transports().size());
    }

    @Test
    void malformedValuesAreNamedWithTheirKey() {
        Map<String, String[]> cases = Map.of(
                DeviceSettings.UDP, new String[] {"127.0.0.1", "::1:0", "127.0.0.1:65536", "127.0.0.1:-1", "127.0.0.1:x"},
                DeviceSettings.STUN, new String[] {":3478"},
                DeviceSettings.RENDEZVOUS, new String[] {"http://host/peerlink/v1", "ws://bad host", "mqtt://broker",
                        "mqtt://broker:1883/peerlink", "mqtts://user:secret@broker:8883"},
                DeviceSettings.HOST_CANDIDATES, new String[] {"yes"},
                DeviceSettings.CONNECT_TIMEOUT, new String[] {"10s", "PT0S", "PT-1S"},
                DeviceSettings.IDENTITY_EPHEMERAL, new String[] {"1"},
                DeviceSettings.OPENER_TTL, new String[] {"256", "-1", "three"},
                DeviceSettings.TRANSPORTS, new String[] {"udp://127.0.0.1", "udp://127.0.0.1:0,nonsense"});
        cases.forEach((key, values) -> {
            for (String value : values) {
                Map<String, String> map = minimal();
                map.put(key, value);
                String message = failure(map);
                assertTrue(message.startsWith(key + "=" + value + ": "), message);
            }
        });
    }

    @Test
    void theRendezvousOverMqttAndTransportOptionsAreRead() {
        Map<String, String> map = minimal();
        map.put(DeviceSettings.RENDEZVOUS, "mqtts://broker.example:8883");
        map.put(DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0, mqtts://broker.example:8883/dev1");
        map.put("peerlink.transports.2.mqtt.username", "dev1");
        map.put("peerlink.transports.2.mqtt.keepAlive", " 20s ");
        DeviceSettings s = DeviceSettings.fromProperties(map);
        assertEquals(java.net.URI.create("mqtts://broker.example:8883"), s.rendezvous());
        assertEquals(List.of(Map.of(), Map.of("mqtt.username", "dev1", "mqtt.keepAlive", "20s")), s.transportOptions());
        // Without options each transport has an empty map.
        Map<String, String> plain = minimal();
        plain.put(DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0");
        assertEquals(List.of(Map.of()), DeviceSettings.fromProperties(plain).transportOptions());
    }

    @Test
    void transportOptionKeysNameAnExistingTransport() {
        Map<String, String> map = minimal();
        map.put(DeviceSettings.TRANSPORTS, "udp://127.0.0.1:0");
        for (String key : List.of("peerlink.transports.2.mqtt.username", "peerlink.transports.0.x", "peerlink.transports.one.x",
                "peerlink.transports.1.")) {
            Map<String, String> m = new java.util.HashMap<>(map);
            m.put(key, "v");
            String message = failure(m);
            assertTrue(message.startsWith(key + ": "), message);
        }
    }

    @Test
    void aFileMayHoldTransportOptions() throws Exception {
        Path file = dir.resolve("options.properties");
        Files.writeString(file, "peerlink.transports=mqtt://127.0.0.1:1883/d\npeerlink.transports.1.mqtt.password=p\n");
        assertEquals("p", DeviceSettings.readFile(file).get("peerlink.transports.1.mqtt.password"));
    }

    @Test
    void aFileWithAMisspeltKeyIsRejected() throws Exception {
        Path file = dir.resolve("peerlink.properties");
        Files.writeString(file, "peerlink.identity=a.key\npeerlink.udpp=0.0.0.0:0\nother.key=kept\n");
        String message = assertThrows(PeerLinkConfigurationException.class, () -> DeviceSettings.readFile(file))
                .getMessage();
        assertTrue(message.contains("unknown key peerlink.udpp"), message);
    }

    @Test
    void anUnreadableFileIsNamed() {
        Path missing = dir.resolve("absent.properties");
        String message = assertThrows(PeerLinkConfigurationException.class, () -> DeviceSettings.readFile(missing))
                .getMessage();
        assertTrue(message.startsWith("peerlink.config=" + missing + ": cannot read the file"), message);
    }
}
