package io.peerlink.server;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Flag over environment over file over default; every error is one line naming the key and its source. */
class ServerSettingsTest {

    @TempDir
    Path dir;

    private Path file(String text) throws Exception {
        return Files.writeString(dir.resolve("peerlink-server.properties"), text);
    }

    @Test
    void defaultsMatchTheEmbeddedDefaults() {
        ServerConfig c = ServerSettings.load(null, Map.of(), Map.of());
        ServerConfig d = ServerConfig.builder().build();
        assertEquals(d.bindHost(), c.bindHost());
        assertEquals(d.httpPort(), c.httpPort());
        assertEquals(d.stunPort(), c.stunPort());
        assertEquals(d.bridge(), c.bridge());
        assertEquals(d.limits(), c.limits());
        assertEquals(d.keepalive(), c.keepalive());
        assertEquals(d.gateway(), c.gateway());
        assertEquals(d.mqtt(), c.mqtt());
        assertEquals("allow-list", c.effectiveAuthenticator());
        assertNull(c.tls());
        assertNull(c.statusToken());
        // Every documented default parses (the table is what docs/operations.md shows).
        for (ServerSettings.Key k : ServerSettings.KEYS) {
            assertTrue(k.env().startsWith("PEERLINK_"), k.env());
        }
    }

    @Test
    void flagBeatsEnvironmentBeatsFileBeatsDefault() throws Exception {
        Path f = file("http.port=1001\nstun.port=1002\ncoap.port=1003\nkeepalive=20s\n");
        Map<String, String> env = Map.of("PEERLINK_HTTP_PORT", "2001", "PEERLINK_STUN_PORT", "2002");
        ServerConfig c = ServerSettings.load(f, Map.of("http.port", "3001"), env);
        assertEquals(3001, c.httpPort());
        assertEquals(2002, c.stunPort());
        assertEquals(1003, c.bridge().coapPort());
        assertEquals(Duration.ofSeconds(20), c.keepalive());
        assertEquals(64, c.limits().maxConnectionsPerAddress());
    }

    @Test
    void theFileIsFoundThroughTheEnvironment() throws Exception {
        Path f = file("gateway.enabled=true\ngateway.keys=keys.txt\nmqtt.port=0\nserver.names=a.example, b.example\n");
        ServerConfig c = ServerSettings.load(null, Map.of(), Map.of("PEERLINK_CONFIG", f.toString()));
        assertTrue(c.gateway().enabled());
        assertEquals(Path.of("keys.txt"), c.gateway().keysFile());
        assertEquals(0, c.mqtt().port());
        assertEquals(List.of("a.example", "b.example"), c.serverNames());
    }

    @Test
    void pluginKeysReachThePluginWithTheSamePrecedence() throws Exception {
        Path f = file("authenticator=hmac-file\nauthenticator.hmac-file.secrets=/from/file\nauthenticator.hmac-file.window=1m\n");
        ServerConfig c = ServerSettings.load(f, Map.of(), Map.of("PEERLINK_AUTHENTICATOR_HMAC_FILE_SECRETS", "/from/env"));
        assertEquals("hmac-file", c.effectiveAuthenticator());
        io.peerlink.spi.PluginConfig plugin = c.plugin("authenticator.hmac-file.");
        assertEquals("/from/env", plugin.get("secrets").orElseThrow());
        assertEquals(Duration.ofMinutes(1), plugin.duration("window", Duration.ZERO));
        assertFalse(plugin.get("missing").isPresent());
        ServerConfig flagged = ServerSettings.load(f, Map.of("authenticator.hmac-file.secrets", "/from/flag"),
                Map.of("PEERLINK_AUTHENTICATOR_HMAC_FILE_SECRETS", "/from/env"));
        assertEquals("/from/flag", flagged.plugin("authenticator.hmac-file.").get("secrets").orElseThrow());
        // The allow-list flag and key are one setting.
        ServerConfig list = ServerSettings.load(null, Map.of("authenticator.allow-list.file", "/etc/list"), Map.of());
        assertEquals(Path.of("/etc/list"), list.allowListFile());
        assertEquals("/etc/list", list.plugin("authenticator.allow-list.").get("file").orElseThrow());
    }

    @Test
    void badValuesFailWithOneLineNamingKeySourceAndFix() throws Exception {
        assertError("http.port: expected an integer, got 'eighty' (from environment variable PEERLINK_HTTP_PORT)",
                () -> ServerSettings.load(null, Map.of(), Map.of("PEERLINK_HTTP_PORT", "eighty")));
        assertError("stun.port: must be -1..65535, got 70000 (from command line)",
                () -> ServerSettings.load(null, Map.of("stun.port", "70000"), Map.of()));
        Path f = file("open=yes\n");
        assertError("open: expected true or false, got 'yes' (from file " + f + ")", () -> ServerSettings.load(f, Map.of(), Map.of()));
        Path typo = file("htpp.port=80\n");
        ServerConfigException unknown = assertThrows(ServerConfigException.class, () -> ServerSettings.load(typo, Map.of(), Map.of()));
        assertEquals("htpp.port", unknown.key());
        assertTrue(unknown.getMessage().contains("unknown key") && unknown.getMessage().contains("did you mean 'http.port'?"),
                unknown.getMessage());
        assertError("keepalive: expected a duration such as 500ms, 30s, 5m or 1h, got '15' (from command line)",
                () -> ServerSettings.load(null, Map.of("keepalive", "15"), Map.of()));
        ServerConfigException gateway = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of("gateway.enabled", "true"), Map.of()));
        assertEquals("gateway.keys", gateway.key());
        ServerConfigException tls = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of("tls.keystore", "/x.p12"), Map.of()));
        assertTrue(tls.getMessage().contains("PEERLINK_TLS_PASSWORD"), tls.getMessage());
        ServerConfigException token = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of(), Map.of("PEERLINK_STATUS_TOKEN", "short")));
        assertEquals("status.token", token.key());
        ServerConfigException missing = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(dir.resolve("nope.properties"), Map.of(), Map.of()));
        assertTrue(missing.getMessage().contains("does not exist"), missing.getMessage());
        for (ServerConfigException e : List.of(unknown, gateway, tls, token, missing)) {
            assertFalse(e.getMessage().contains("\n"), "one line: " + e.getMessage());
        }
    }

    private static void assertError(String expected, org.junit.jupiter.api.function.Executable load) {
        ServerConfigException e = assertThrows(ServerConfigException.class, load);
        assertEquals(expected, e.getMessage());
    }

    @Test
    void aPluginConfigurationErrorStopsTheStartNamingTheKey() throws Exception {
        Path bad = Files.writeString(dir.resolve("list"), "not-a-device\n");
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerSettings.load(null,
                Map.of("host", "127.0.0.1", "http.port", "0", "stun.port", "-1", "coap.port", "-1",
                        "authenticator.allow-list.file", bad.toString()), Map.of())));
        assertTrue(e.getMessage().contains("authenticator.allow-list.file: ") && e.getMessage().contains("line 1"), e.getMessage());
    }

    @Test
    void resumptionTicketsAreOnWithTlsByDefaultAndValidated() throws Exception {
        ServerConfig plain = ServerSettings.load(null, Map.of(), Map.of());
        assertFalse(plain.tickets().enabled(), "auto: off without TLS");
        Path keyStore = dir.resolve("tls/server.p12");
        ServerConfig tls = ServerSettings.load(null, Map.of("tls.keystore", keyStore.toString()),
                Map.of("PEERLINK_TLS_PASSWORD", "secret-password"));
        assertTrue(tls.tickets().enabled(), "auto: on with TLS");
        assertEquals(keyStore.toAbsolutePath().getParent().resolve("peerlink-tickets.key"), tls.tickets().keyFile(),
                "the key file lives next to the key store");
        ServerConfig forced = ServerSettings.load(file("tickets.enabled=true\ntickets.lifetime=2h\n"), Map.of(),
                Map.of("PEERLINK_TICKETS_SECRET", "0123456789abcdef0123456789abcdef"));
        assertTrue(forced.tickets().enabled());
        assertEquals(Duration.ofHours(2), forced.tickets().lifetime());
        assertEquals("0123456789abcdef0123456789abcdef", forced.tickets().secret());
        assertFalse(forced.toString().contains("0123456789abcdef"), "the secret is not printed");
        ServerConfigException bad = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of("tickets.enabled", "maybe"), Map.of()));
        assertTrue(bad.getMessage().contains("tickets.enabled") && bad.getMessage().contains("true, false or auto"), bad.getMessage());
        ServerConfigException shortSecret = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of("tickets.secret", "short"), Map.of()));
        assertTrue(shortSecret.getMessage().contains("at least 32 characters"), shortSecret.getMessage());
        ServerConfigException lifetime = assertThrows(ServerConfigException.class,
                () -> ServerSettings.load(null, Map.of("tickets.lifetime", "800h"), Map.of()));
        assertTrue(lifetime.getMessage().contains("1m..720h"), lifetime.getMessage());
    }
}
