package io.peerlink.core.internal.link;

import io.peerlink.DeviceId;
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
    void helloRoundTrips(@ForAll long cid, @ForAll long serverCid, @ForAll long nonce) throws Exception {
        DeviceId id = DeviceId.fromPublicKey(new byte[32]);
        for (int type : new int[] {SetupPacket.HELLO, SetupPacket.HELLO_ACK}) {
            ByteBuffer b = ByteBuffer.allocate(128);
            SetupPacket.writeHello(b, type, cid, serverCid, nonce, id);
            b.flip();
            SetupPacket.Hello h = SetupPacket.readHello(b);
            assertEquals(type, h.type());
            assertEquals(cid, h.clientCid());
            assertEquals(type == SetupPacket.HELLO ? 0 : serverCid, h.serverCid());
            assertEquals(nonce, h.nonce());
            assertEquals(id, h.device());
        }
    }

    /** Whatever arrives, decoding either succeeds or throws SetupFormatException, nothing else. */
    @Property(tries = 3000)
    void arbitraryBytesAreRejectedPrecisely(@ForAll @Size(max = 120) byte[] junk, @ForAll @IntRange(min = 0x50, max = 0x56) int type) {
        if (junk.length > 0) {
            junk[0] = (byte) type;
        }
        ByteBuffer b = ByteBuffer.wrap(junk);
        try {
            switch (type) {
                case SetupPacket.PROBE, SetupPacket.PROBE_ACK -> SetupPacket.readProbe(b);
                case SetupPacket.HELLO_REJECT -> SetupPacket.readHelloReject(b);
                default -> SetupPacket.readHello(b);
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
