package io.peerlink.core.internal.link;

import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class SetupPacketTest {

    private static Mac key(String secret) {
        try {
            Mac m = Mac.getInstance("HmacSHA256");
            m.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            return m;
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }

    @Property
    void probeRoundTripsAndVerifies(@ForAll long dst, @ForAll long txid, @ForAll @IntRange(max = 3) int flags,
                                    @ForAll long src) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbe(b, dst, txid, flags, src, key("k"));
        b.flip();
        assertEquals(SetupPacket.PROBE_LENGTH, b.remaining());
        SetupPacket.Probe p = SetupPacket.readProbe(b);
        assertEquals(SetupPacket.PROBE, p.type());
        assertEquals(dst, p.destinationCid());
        assertEquals(txid, p.txid());
        assertEquals(flags, p.flags());
        assertEquals(src, p.sourceCid());
        assertTrue(p.verify(key("k")));
        assertFalse(p.verify(key("another key")), "a probe must not verify under another key");
    }

    @Property
    void probeAckRoundTripsBothFamilies(@ForAll long dst, @ForAll long txid,
                                        @ForAll @Size(value = 4) byte[] v4, @ForAll @Size(value = 16) byte[] v6,
                                        @ForAll boolean six, @ForAll @IntRange(max = 65535) int port) throws Exception {
        InetSocketAddress observed = new InetSocketAddress(InetAddress.getByAddress(six ? v6 : v4), port);
        ByteBuffer b = ByteBuffer.allocate(64);
        SetupPacket.writeProbeAck(b, dst, txid, SetupPacket.FLAG_NOMINATE, observed, key("k"));
        b.flip();
        SetupPacket.Probe p = SetupPacket.readProbe(b);
        assertEquals(observed, p.observed());
        assertEquals(txid, p.txid());
        assertEquals(true, p.nominate());
        assertTrue(p.verify(key("k")));
    }

    /** Any single changed bit, anywhere in the datagram, makes the MAC check fail. */
    @Property(tries = 2000)
    void everyBitIsAuthenticated(@ForAll long dst, @ForAll long txid, @ForAll boolean ack,
                                 @ForAll @IntRange(max = 41 * 8 - 1) int bit) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(64);
        if (ack) {
            SetupPacket.writeProbeAck(b, dst, txid, 0, new InetSocketAddress(InetAddress.getByName("192.0.2.7"), 4242), key("k"));
        } else {
            SetupPacket.writeProbe(b, dst, txid, 0, 99, key("k"));
        }
        b.flip();
        int at = bit / 8 == 0 ? 1 : bit / 8; // the type byte selects the decoder; flip another
        b.put(at, (byte) (b.get(at) ^ (1 << (bit % 8))));
        SetupPacket.Probe p;
        try {
            p = SetupPacket.readProbe(b);
        } catch (SetupFormatException e) {
            return; // a changed address family: rejected by layout
        }
        assertFalse(p.verify(key("k")), "bit " + bit + " changed but the MAC still verified");
    }

    /** A HELLO_REJECT round-trips and verifies only under its key; any changed bit fails the MAC or the layout. */
    @Property(tries = 1000)
    void helloRejectIsAuthenticated(@ForAll long cid, @ForAll @StringLength(max = 50) String reason,
                                    @ForAll @IntRange(min = 8, max = 18 * 8 - 1) int bit) throws Exception {
        ByteBuffer b = ByteBuffer.allocate(256);
        SetupPacket.writeHelloReject(b, cid, 0, reason, key("k"));
        b.flip();
        SetupPacket.HelloReject r = SetupPacket.readHelloReject(b.duplicate());
        assertEquals(cid, r.clientCid());
        assertEquals(reason, r.reason());
        assertTrue(r.verify(key("k")));
        assertFalse(r.verify(key("another key")), "a rejection must not verify under another key");
        b.put(bit / 8, (byte) (b.get(bit / 8) ^ (1 << (bit % 8))));
        try {
            assertFalse(SetupPacket.readHelloReject(b).verify(key("k")), "bit " + bit + " changed but the MAC still verified");
        } catch (SetupFormatException e) {
            // the reason length changed: rejected by layout
        }
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
        SetupPacket.writeProbe(b, 1, 2, 0, 3, key("k"));
        b.flip().limit(length);
        assertThrows(SetupFormatException.class, () -> SetupPacket.readProbe(b));
    }
}
