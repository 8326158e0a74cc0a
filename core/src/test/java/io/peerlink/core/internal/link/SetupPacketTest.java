package io.peerlink.core.internal.link;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class SetupPacketTest {

    @Provide
    Arbitrary<byte[]> tokens() {
        return Arbitraries.bytes().array(byte[].class).ofSize(SetupPacket.TOKEN_LENGTH);
    }

    @Property
    void probeRoundTrips(@ForAll long dst, @ForAll long txid, @ForAll("tokens") byte[] token,
                         @ForAll @IntRange(max = 3) int flags, @ForAll long src) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, dst, txid, token, flags, src);
        b.flip();
        SetupPacket.Probe p = SetupPacket.readProbe(b);
        assertEquals(SetupPacket.PROBE, p.type());
        assertEquals(dst, p.destinationCid());
        assertEquals(txid, p.txid());
        assertArrayEquals(token, p.token());
        assertEquals(flags, p.flags());
        assertEquals(src, p.sourceCid());
    }

    @Property
    void probeAckRoundTripsBothFamilies(@ForAll long dst, @ForAll long txid, @ForAll("tokens") byte[] token,
                                        @ForAll @Size(value = 4) byte[] v4, @ForAll @Size(value = 16) byte[] v6,
                                        @ForAll boolean six, @ForAll @IntRange(max = 65535) int port) throws Exception {
        InetSocketAddress observed = new InetSocketAddress(InetAddress.getByAddress(six ? v6 : v4), port);
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbeAck(b, dst, txid, token, SetupPacket.FLAG_NOMINATE, observed);
        b.flip();
        SetupPacket.Probe p = SetupPacket.readProbe(b);
        assertEquals(observed, p.observed());
        assertEquals(txid, p.txid());
        assertEquals(true, p.nominate());
    }

    @Property
    void handshakeRoundTrips(@ForAll @IntRange(min = 0x57, max = 0x59) int type, @ForAll long dst, @ForAll long src,
                             @ForAll @Size(min = 1, max = SetupPacket.MAX_HANDSHAKE_MESSAGE) byte[] message) throws Exception {
        SetupPacket.Handshake h = SetupPacket.readHandshake(SetupPacket.handshake(type, dst, src, message));
        assertEquals(type, h.type());
        assertEquals(dst, h.destinationCid());
        assertEquals(src, h.sourceCid());
        assertArrayEquals(message, h.message());
    }

    @Property
    void handshakeWithoutOrWithOversizedMessageIsRejected(@ForAll boolean empty) {
        int length = SetupPacket.HANDSHAKE_HEADER_LENGTH + (empty ? 0 : SetupPacket.MAX_HANDSHAKE_MESSAGE + 1);
        ByteBuffer b = ByteBuffer.allocate(length);
        b.put(0, (byte) SetupPacket.HS_RESP);
        assertThrows(SetupFormatException.class, () -> SetupPacket.readHandshake(b));
    }

    /** Whatever arrives, decoding either succeeds or throws SetupFormatException, nothing else. */
    @Property(tries = 3000)
    void arbitraryBytesAreRejectedPrecisely(@ForAll @Size(max = 1200) byte[] junk, @ForAll @IntRange(min = 0x50, max = 0x59) int type) {
        if (junk.length > 0) {
            junk[0] = (byte) type;
        }
        ByteBuffer b = ByteBuffer.wrap(junk);
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> SetupPacket.readProbe(b);
                case SetupPacket.HELLO_REJECT -> SetupPacket.readHelloReject(b);
                case SetupPacket.HS_INIT, SetupPacket.HS_RESP, SetupPacket.HS_FIN -> SetupPacket.readHandshake(b);
                default -> {
                    // 0x52..0x55: unassigned, dropped by the device before any decoder
                }
            }
        } catch (SetupFormatException expected) {
            // the documented rejection
        }
    }

    @Property
    void truncatedProbeIsRejected(@ForAll @IntRange(max = 41) int length) {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, 1, 2, new byte[16], 0, 3);
        b.flip().limit(length);
        assertThrows(SetupFormatException.class, () -> SetupPacket.readProbe(b));
    }
}
