package com.example.peerlink.hmac;

import io.peerlink.spi.PluginConfig;
import io.peerlink.spi.PluginConfigException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Configuration errors name the full key, so an operator knows which setting to fix. */
class HmacFileAuthenticatorConfigTest {

    private static final String PREFIX = "authenticator.hmac-file.";

    @Test
    void missingSecretsKeyIsNamed() {
        PluginConfigException e = assertThrows(PluginConfigException.class,
                () -> new HmacFileAuthenticator().configure(PluginConfig.of(PREFIX, Map.of())));
        assertEquals("authenticator.hmac-file.secrets", e.key());
        assertTrue(e.getMessage().startsWith("authenticator.hmac-file.secrets: is required"), e.getMessage());
    }

    @Test
    void malformedFileNamesKeyAndLine(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("s.txt"), "net1 not-base64!\n");
        PluginConfigException e = assertThrows(PluginConfigException.class,
                () -> new HmacFileAuthenticator().configure(PluginConfig.of(PREFIX, Map.of(PREFIX + "secrets", file.toString()))));
        assertEquals(PREFIX + "secrets", e.key());
        assertTrue(e.getMessage().contains("line 1"), e.getMessage());
    }
}
