package io.peerlink.cli;

import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code peerlink server} alone serves the resource directory on CoAP's port. */
class ServerCommandBridgeTest {
    @Test
    void coapPortDefaultsTo5683AndCanBeTurnedOff() {
        ServerCommand plain = new ServerCommand();
        new CommandLine(plain).parseArgs();
        ServerConfig config = plain.config(Map.of());
        assertEquals(5683, config.bridge().coapPort());
        assertNull(config.bridge().storage());
        ServerCommand off = new ServerCommand();
        new CommandLine(off).parseArgs("--coap-port", "-1");
        assertEquals(-1, off.config(Map.of()).bridge().coapPort());
    }
}
