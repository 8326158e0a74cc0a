package io.peerlink.protocol.stun;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.*;

/** The TURN parts of the STUN codec: hostile input is a {@link StunFormatException}, valid input round-trips. */
class TurnCodecPropertiesTest {

    @Property(tries = 3000)
    void randomBytesAreEitherValidOrAStunFormatException(@ForAll @Size(max = 2000) byte[] message) {
        try {
            new TurnMessage().decode(ByteBuffer.wrap(message));
        } catch (StunFormatException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Property(tries = 3000)
    void randomAttributesBehindAValidHeaderNeverEscapeAsOtherExceptions(@ForAll @Size(max = 400) byte[] attributes,
                                                                      @ForAll @Size(min = 12, max = 12) byte[] txid) {
        int len = attributes.length & ~3;
        ByteBuffer b = ByteBuffer.allocate(20 + len);
        b.putShort((short) 0x0003).putShort((short) len).putInt(Stun.MAGIC_COOKIE).put(txid).put(attributes, 0, len);
        TurnMessage m = new TurnMessage();
        try {
            m.decode(b.flip());
            // Whatever was accepted must be readable without surprises.
            m.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS);
            m.errorCode();
            m.u32(Turn.ATTR_LIFETIME);
            m.string(Turn.ATTR_NONCE);
            m.verifyIntegrity(new byte[16]);
        } catch (StunFormatException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Property(tries = 1000)
    void authenticatedRequestsRoundTripAndAnyFlippedBitBreaksThem(@ForAll @Size(min = 12, max = 12) byte[] txid,
                                                                 @ForAll @IntRange(min = 0, max = 65535) int port,
                                                                 @ForAll @Size(max = 1300) byte[] data,
                                                                 @ForAll @IntRange(min = 0, max = 100_000) int flip) throws Exception {
        InetSocketAddress peer = new InetSocketAddress(InetAddress.getByAddress(new byte[] {10, 1, (byte) port, 7}), port);
        byte[] key = StunWriter.longTermKey("1700000000:dev", "realm", "pw");
        byte[] wire = new StunWriter(Turn.type(Turn.METHOD_SEND, Turn.CLASS_REQUEST), txid)
                .xorAddress(Turn.ATTR_XOR_PEER_ADDRESS, peer).attribute(Turn.ATTR_DATA, data)
                .u32(Turn.ATTR_LIFETIME, port).string(Turn.ATTR_USERNAME, "1700000000:dev").build(key, true);
        TurnMessage m = new TurnMessage();
        m.decode(ByteBuffer.wrap(wire));
        assertEquals(Turn.METHOD_SEND, m.method());
        assertEquals(Turn.CLASS_REQUEST, m.messageClass());
        assertEquals(peer, m.xorAddress(Turn.ATTR_XOR_PEER_ADDRESS));
        assertArrayEquals(data, m.bytes(Turn.ATTR_DATA));
        assertEquals(port, m.u32(Turn.ATTR_LIFETIME));
        assertTrue(m.hasFingerprint());
        assertTrue(m.verifyIntegrity(key));
        assertFalse(m.verifyIntegrity(StunWriter.longTermKey("1700000000:dev", "realm", "other")));

        byte[] tampered = wire.clone();
        int at = flip % tampered.length;
        tampered[at] ^= 1;
        try {
            m.decode(ByteBuffer.wrap(tampered));
            // Only a flip that disguises FINGERPRINT itself as an unknown optional attribute survives,
            // and then the message no longer claims a fingerprint.
            assertFalse(m.hasFingerprint(), "a flipped bit at " + at + " passed FINGERPRINT");
        } catch (StunFormatException expected) {
            assertNotNull(expected.getMessage());
        }
    }

    @Property(tries = 1000)
    void typeArithmeticIsABijectionOnMethodAndClass(@ForAll @IntRange(min = 0, max = 0xFFF) int method,
                                                    @ForAll @IntRange(min = 0, max = 3) int cls) {
        int type = Turn.type(method, cls);
        assertEquals(0, type & 0xC000);
        assertEquals(method, Turn.method(type));
        assertEquals(cls, Turn.messageClass(type));
    }

    @Property(tries = 2000)
    void channelDataRoundTripsAndTruncationIsRejected(@ForAll @IntRange(min = 0x4000, max = 0x7FFF) int channel,
                                                      @ForAll @Size(max = 1500) byte[] data,
                                                      @ForAll boolean stream,
                                                      @ForAll @IntRange(min = 1, max = 8) int cut) throws Exception {
        ByteBuffer frame = ByteBuffer.allocate(4 + data.length + 3);
        ChannelData.write(frame, channel, ByteBuffer.wrap(data), stream);
        frame.flip();
        if (stream) {
            assertEquals(0, frame.remaining() & 3);
            assertEquals(frame.remaining(), ChannelData.streamFrameLength(frame));
        }
        assertEquals(channel, ChannelData.channel(frame));
        ByteBuffer got = ChannelData.data(frame);
        byte[] copy = new byte[got.remaining()];
        got.get(copy);
        assertArrayEquals(data, copy);

        int unpadded = 4 + data.length;
        ByteBuffer truncated = ByteBuffer.wrap(Arrays.copyOf(frame.array(), Math.max(0, unpadded - cut)));
        assertThrows(StunFormatException.class, () -> ChannelData.channel(truncated));
    }

    @Property(tries = 1000)
    void channelNumbersOutsideTheRangeAreRejected(@ForAll @IntRange(min = 0, max = 0xFFFF) int channel,
                                                  @ForAll @Size(max = 40) byte[] data) {
        ByteBuffer b = ByteBuffer.allocate(4 + data.length).putShort((short) channel).putShort((short) data.length).put(data).flip();
        boolean valid = channel >= 0x4000 && channel <= 0x7FFF;
        if (valid) {
            assertDoesNotThrow(() -> ChannelData.channel(b));
        } else {
            StunFormatException e = assertThrows(StunFormatException.class, () -> ChannelData.channel(b));
            assertTrue(e.getMessage().contains("outside"), e.getMessage());
        }
    }
}
