package io.peerlink.protocol.stun;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.junit.jupiter.api.Assertions.*;

/** Fixed vectors for the TURN codec. */
class TurnCodecTest {

    @Test
    void messageTypesMatchRfc8656() {
        assertEquals(0x0003, Turn.type(Turn.METHOD_ALLOCATE, Turn.CLASS_REQUEST));
        assertEquals(0x0103, Turn.type(Turn.METHOD_ALLOCATE, Turn.CLASS_SUCCESS));
        assertEquals(0x0113, Turn.type(Turn.METHOD_ALLOCATE, Turn.CLASS_ERROR));
        assertEquals(0x0016, Turn.type(Turn.METHOD_SEND, Turn.CLASS_INDICATION));
        assertEquals(0x0017, Turn.type(Turn.METHOD_DATA, Turn.CLASS_INDICATION));
        assertEquals(0x0009, Turn.type(Turn.METHOD_CHANNEL_BIND, Turn.CLASS_REQUEST));
    }

    /** RFC 5769 section 2.4 "Sample request with long-term authentication" (MESSAGE-INTEGRITY verified). */
    @Test
    void rfc5769LongTermAuthenticationVectorVerifies() throws Exception {
        byte[] wire = HexFormat.of().parseHex(
                "000100602112a44278ad3433c6ad72c029da412e"
                + "00060012e3839ee38388e383aae38383e382afe382b90000"
                + "0015001c662f2f3439396b39353464364f4c33346f4c39465354767936347341"
                + "0014000b6578616d706c652e6f726700"
                + "00080014f67024656dd64a3e02b8e0712e85c9a28ca89666");
        TurnMessage m = new TurnMessage();
        m.decode(ByteBuffer.wrap(wire));
        assertEquals("example.org", m.string(Turn.ATTR_REALM));
        assertEquals("f//499k954d6OL34oL9FSTvy64sA", m.string(Turn.ATTR_NONCE));
        // Username is the katakana from the RFC; password "TheMatrIX" (OpaqueString leaves both unchanged).
        byte[] key = StunWriter.longTermKey(m.string(Turn.ATTR_USERNAME), "example.org", "TheMatrIX");
        assertTrue(m.verifyIntegrity(key));
    }

    @Test
    void oversizedAndMalformedInputsNameTheProblem() {
        TurnMessage small = new TurnMessage(100);
        StunFormatException e = assertThrows(StunFormatException.class, () -> small.decode(ByteBuffer.allocate(120)));
        assertTrue(e.getMessage().contains("oversized"), e.getMessage());
        ByteBuffer badAddress = ByteBuffer.allocate(32).putShort((short) 0x0001).putShort((short) 12).putInt(Stun.MAGIC_COOKIE)
                .put(new byte[12]).putShort((short) Turn.ATTR_XOR_PEER_ADDRESS).putShort((short) 8).putInt(0x00030000).putInt(0).flip();
        e = assertThrows(StunFormatException.class, () -> new TurnMessage().decode(badAddress));
        assertTrue(e.getMessage().contains("family"), e.getMessage());
    }
}
