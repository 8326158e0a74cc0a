package io.peerlink.cli;

import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** {@code peerlink server}: flags over environment over file; a wrong value is one line and exit code 2. */
class ServerCommandConfigTest {

    @Test
    void flagsOverrideEnvironmentWhichOverridesTheFile(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("server.properties"), "http.port=1001\nstun.port=1002\nmqtt.port=1883\n");
        ServerCommand cmd = new ServerCommand();
        new CommandLine(cmd).parseArgs("--config", file.toString(), "--http-port", "3001", "--set", "coap.port=-1");
        ServerConfig config = cmd.config(Map.of("PEERLINK_HTTP_PORT", "2001", "PEERLINK_STUN_PORT", "2002"));
        assertEquals(3001, config.httpPort());
        assertEquals(2002, config.stunPort());
        assertEquals(-1, config.bridge().coapPort());
        assertEquals(1883, config.mqtt().port());
    }

    @Test
    void aBadValueIsOneLineNamingTheKeyAndExitCode2(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("server.properties"), "htp.port=80\n");
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = Main.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "server", "--config", file.toString());
        String text = err.toString(StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_USAGE, code, text);
        assertEquals(1, text.strip().lines().count(), text);
        assertTrue(text.startsWith("peerlink: htp.port: unknown key") && text.contains("did you mean 'http.port'?"), text);
        assertFalse(text.contains("Exception"), text);

        err.reset();
        code = Main.run(new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), "server", "--set", "gateway.enabled=maybe");
        text = err.toString(StandardCharsets.UTF_8);
        assertEquals(Main.EXIT_USAGE, code, text);
        assertTrue(text.startsWith("peerlink: gateway.enabled: expected true or false, got 'maybe' (from command line)"), text);
    }

    @Test
    void keysArePrintedWithDefaultsAndEnvironmentNames() {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrintStream previous = System.out;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        try {
            assertEquals(0, Main.run("server", "--keys"));
        } finally {
            System.setOut(previous);
        }
        String text = out.toString(StandardCharsets.UTF_8);
        assertTrue(text.contains("http.port") && text.contains("PEERLINK_HTTP_PORT") && text.contains("8080"), text);
        assertTrue(text.contains("gateway.keys") && text.contains("mqtt.port"), text);
    }
}
