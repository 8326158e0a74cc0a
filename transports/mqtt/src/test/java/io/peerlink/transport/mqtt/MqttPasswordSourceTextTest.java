package io.peerlink.transport.mqtt;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text form of {@code mqtt.passwordSource} (properties, CDI keys). */
class MqttPasswordSourceTextTest {
    private final MqttTransportProvider provider = new MqttTransportProvider();
    @TempDir
    Path dir;

    private MqttPasswordSource parse(String text) {
        return (MqttPasswordSource) provider.parseOption(MqttOptions.PASSWORD_SOURCE, text);
    }

    @Test
    void aFileIsReadAtEveryConnectionAttemptSoARotatedPasswordIsUsed() throws Exception {
        Path file = dir.resolve("mqtt.password");
        Files.writeString(file, "first-secret\nignored second line\n");
        MqttPasswordSource source = parse("file:" + file);
        assertEquals("first-secret", source.password());
        Files.writeString(file, "rotated-secret");
        assertEquals("rotated-secret", source.password());
    }

    @Test
    void mistakesFailWhenConfiguredWithOneLineSayingWhatToDo() throws Exception {
        UncheckedIOException missing = assertThrows(UncheckedIOException.class, () -> parse("file:" + dir.resolve("absent")));
        assertTrue(missing.getMessage().contains("cannot read the MQTT password file"), missing.getMessage());
        Files.writeString(dir.resolve("empty"), "\n");
        IllegalArgumentException empty = assertThrows(IllegalArgumentException.class, () -> parse("file:" + dir.resolve("empty")));
        assertTrue(empty.getMessage().contains("is empty"), empty.getMessage());
        IllegalArgumentException noKind = assertThrows(IllegalArgumentException.class, () -> parse("secret"));
        assertTrue(noKind.getMessage().contains("<kind>:<argument>"), noKind.getMessage());
        IllegalArgumentException unknown = assertThrows(IllegalArgumentException.class, () -> parse("vault:x"));
        assertTrue(unknown.getMessage().contains("unknown password source kind 'vault'") && unknown.getMessage().contains("file"),
                unknown.getMessage());
    }
}
