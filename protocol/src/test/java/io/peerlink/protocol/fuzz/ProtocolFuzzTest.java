package io.peerlink.protocol.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.ProtocolException;
import io.peerlink.protocol.rendezvous.RelayFrame;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.StunMessage;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for the decoders of this module that face the network: rendezvous JSON
 * (what a server reads from any device and a device from its server) and STUN (what the STUN
 * server reads from anyone on UDP). A normal build replays the seed corpus under
 * {@code ProtocolFuzzTestInputs/<method>/}; {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 */
class ProtocolFuzzTest {
    private static final RendezvousCodec CODEC = new RendezvousCodec();
    private static final StunMessage STUN = new StunMessage();

    /**
     * Only {@link ProtocolException} may come out of decoding, with a code; whatever decodes is a
     * valid message that encodes and decodes back to an equal message (records with byte arrays
     * compare by their JSON instead).
     */
    @FuzzTest(maxDuration = "3h")
    void rendezvousJson(byte[] input) throws Exception {
        String text = new String(input, StandardCharsets.UTF_8);
        Message m;
        try {
            m = CODEC.decode(text);
        } catch (ProtocolException e) {
            assertNotNull(e.code());
            return;
        }
        String again = CODEC.encode(m);
        Message back = CODEC.decode(again);
        assertEquals(again, CODEC.encode(back), "a decoded message must re-encode stably");
    }

    /** Only {@link StunFormatException} may come out, and decoding never moves the buffer. */
    @FuzzTest(maxDuration = "30m")
    void stunMessage(byte[] input) {
        ByteBuffer datagram = ByteBuffer.wrap(input);
        try {
            synchronized (STUN) {
                STUN.decode(datagram);
                if (STUN.isBindingRequest()) {
                    assertEquals(12, STUN.transactionId().length);
                }
            }
        } catch (StunFormatException e) {
            assertNotNull(e.getMessage());
        }
        assertEquals(0, datagram.position());
        assertEquals(input.length, datagram.limit());
    }

    /**
     * {@link RelayFrame#peer} never throws: it names a valid device ID or returns null; an
     * accepted frame is a DATA frame within the size limits whose payload is the rest of the
     * input, and re-encoding the ID and payload gives the input back. Nothing moves the buffer.
     */
    @FuzzTest(maxDuration = "30m")
    void relayFrame(byte[] input) {
        ByteBuffer frame = ByteBuffer.wrap(input);
        io.peerlink.DeviceId peer = RelayFrame.peer(frame);
        assertEquals(0, frame.position());
        if (peer == null) {
            return;
        }
        assertTrue(input.length >= RelayFrame.HEADER && input.length <= RelayFrame.MAX_FRAME, "accepted a frame of " + input.length + " bytes");
        assertEquals(RelayFrame.DATA, input[0]);
        ByteBuffer payload = RelayFrame.payload(frame);
        assertEquals(input.length - RelayFrame.HEADER, payload.remaining());
        assertEquals(frame, RelayFrame.encode(peer, payload), "a decoded frame must re-encode to the same bytes");
        assertEquals(0, frame.position());
    }
}
