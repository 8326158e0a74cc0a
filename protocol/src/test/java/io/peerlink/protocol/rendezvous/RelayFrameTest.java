package io.peerlink.protocol.rendezvous;

import io.peerlink.DeviceId;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The relay frame's layout (docs/protocol-rendezvous.md, "Relay frames"). */
class RelayFrameTest {
    private static final DeviceId A = DeviceId.fromPublicKey(new byte[32]);
    private static final DeviceId B = DeviceId.fromPublicKey(filled(32, (byte) 7));

    private static byte[] filled(int n, byte v) {
        byte[] b = new byte[n];
        java.util.Arrays.fill(b, v);
        return b;
    }

    @Test
    void layoutIsTypeThenAsciiIdThenDatagram() {
        byte[] datagram = {9, 8, 7};
        ByteBuffer f = RelayFrame.encode(A, ByteBuffer.wrap(datagram));
        assertEquals(1 + 52 + 3, f.remaining());
        assertEquals(0x01, f.get(0));
        byte[] id = new byte[52];
        f.get(1, id);
        assertEquals(A.value(), new String(id, StandardCharsets.US_ASCII));
        assertEquals(A, RelayFrame.peer(f));
        byte[] back = new byte[3];
        RelayFrame.payload(f).get(back);
        assertArrayEquals(datagram, back);
        RelayFrame.readdress(f, B);
        assertEquals(B, RelayFrame.peer(f));
        assertEquals(0, f.position(), "not moved");
    }

    @Test
    void malformedFramesNameNoDevice() {
        ByteBuffer ok = RelayFrame.encode(A, ByteBuffer.allocate(0));
        assertEquals(A, RelayFrame.peer(ok));
        assertNull(RelayFrame.peer(ByteBuffer.allocate(52)), "too short");
        ByteBuffer type = RelayFrame.encode(A, ByteBuffer.allocate(1));
        type.put(0, (byte) 2);
        assertNull(RelayFrame.peer(type), "unknown type");
        ByteBuffer id = RelayFrame.encode(A, ByteBuffer.allocate(1));
        id.put(5, (byte) '!');
        assertNull(RelayFrame.peer(id), "not base32");
        assertNull(RelayFrame.peer(ByteBuffer.allocate(RelayFrame.MAX_FRAME + 1)), "too long");
        assertThrows(IllegalArgumentException.class, () -> RelayFrame.encode(A, ByteBuffer.allocate(RelayFrame.MAX_PAYLOAD + 1)));
    }
}
