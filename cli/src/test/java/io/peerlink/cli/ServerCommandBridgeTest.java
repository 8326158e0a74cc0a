package io.peerlink.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

/** {@code peerlink server} alone serves the resource directory on CoAP's port. */
class ServerCommandBridgeTest {
    @Test
    void coapPortDefaultsTo5683AndCanBeTurnedOff() {
        ServerCommand plain = new ServerCommand();
        new CommandLine(plain).parseArgs();
        assertEquals(5683, plain.coapPort);
        assertNull(plain.rdStorage);
        ServerCommand off = new ServerCommand();
        new CommandLine(off).parseArgs("--coap-port", "-1");
        assertEquals(-1, off.coapPort);
    }
}
