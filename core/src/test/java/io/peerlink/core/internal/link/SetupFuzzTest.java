package io.peerlink.core.internal.link;

import com.code_intelligence.jazzer.junit.FuzzTest;

import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

/**
 * Jazzer fuzz target for the link set-up packets anyone can send to a device's socket (PROBE,
 * PROBE_ACK, HELLO_REJECT, HS_INIT/HS_RESP/HS_FIN, HS_COOKIE/HS_INIT_COOKIE;
 * docs/protocol-punching.md). In a normal build it
 * replays its seed corpus ({@code SetupFuzzTestInputs/setupPacket/}); {@code JAZZER_FUZZ=1} fuzzes
 * (docs/fuzzing.md).
 */
class SetupFuzzTest {

    /**
     * The datagram goes to the decoder its first byte selects, as the device's dispatch does. Only
     * {@link SetupFormatException} may come out; decoding never moves the buffer; what decodes is
     * exactly the datagram again when written back (a probe's covered bytes and MAC are the datagram
     * split at the MAC; a HELLO_REJECT's covered bytes and MAC likewise; a handshake packet
     * re-encodes to the same bytes).
     */
    @FuzzTest(maxDuration = "30m")
    void setupPacket(byte[] input) {
        ByteBuffer datagram = ByteBuffer.wrap(input);
        int type = input.length == 0 ? -1 : input[0] & 0xff;
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> {
                    SetupPacket.Probe p = SetupPacket.readProbe(datagram);
                    assertEquals(type, p.type());
                    assertEquals(SetupPacket.MAC_LENGTH, p.mac().length);
                    byte[] joined = Arrays.copyOf(p.authenticated(), p.authenticated().length + p.mac().length);
                    System.arraycopy(p.mac(), 0, joined, p.authenticated().length, p.mac().length);
                    assertArrayEquals(input, joined, "covered bytes + MAC are the datagram");
                    if (type == SetupPacket.PROBE_ACK) {
                        assertNotNull(p.observed());
                    }
                }
                case SetupPacket.HS_INIT, SetupPacket.HS_RESP, SetupPacket.HS_FIN -> {
                    SetupPacket.Handshake h = SetupPacket.readHandshake(datagram);
                    ByteBuffer again = SetupPacket.handshake(h.type(), h.destinationCid(), h.sourceCid(), h.message());
                    assertEquals(ByteBuffer.wrap(input), again, "a handshake packet re-encodes to the same bytes");
                }
                case SetupPacket.HS_INIT_COOKIE -> {
                    SetupPacket.Handshake h = SetupPacket.readHandshake(datagram);
                    assertEquals(SetupPacket.HS_INIT, h.type());
                    assertEquals(0, h.destinationCid());
                    ByteBuffer again = SetupPacket.handshakeWithCookie(h.sourceCid(), h.cookie(), h.message());
                    assertEquals(ByteBuffer.wrap(input), again, "HS_INIT_COOKIE re-encodes to the same bytes");
                }
                case SetupPacket.HS_COOKIE -> {
                    SetupPacket.Cookie c = SetupPacket.readCookie(datagram);
                    assertEquals(ByteBuffer.wrap(input), SetupPacket.cookie(c.clientCid(), c.cookie()), "HS_COOKIE re-encodes to the same bytes");
                }
                case SetupPacket.HELLO_REJECT -> {
                    SetupPacket.HelloReject r = SetupPacket.readHelloReject(datagram);
                    assertEquals(SetupPacket.MAC_LENGTH, r.mac().length);
                    byte[] joined = Arrays.copyOf(r.authenticated(), r.authenticated().length + r.mac().length);
                    System.arraycopy(r.mac(), 0, joined, r.authenticated().length, r.mac().length);
                    assertArrayEquals(input, joined, "covered bytes + MAC are the datagram");
                }
                default -> {
                    // Not a set-up type: each decoder must refuse it.
                    assertRefused(() -> SetupPacket.readProbe(datagram.duplicate()));
                    assertRefused(() -> SetupPacket.readHandshake(datagram.duplicate()));
                    assertRefused(() -> SetupPacket.readCookie(datagram.duplicate()));
                }
            }
        } catch (SetupFormatException refused) {
            assertNotNull(refused.getMessage());
        }
        assertEquals(0, datagram.position(), "decoding never moves the position");
        assertEquals(input.length, datagram.limit(), "decoding never moves the limit");
    }

    private interface Decode {
        void run() throws SetupFormatException;
    }

    private static void assertRefused(Decode decode) {
        try {
            decode.run();
        } catch (SetupFormatException expected) {
            return;
        }
        throw new AssertionError("a datagram of another type was decoded");
    }
}
