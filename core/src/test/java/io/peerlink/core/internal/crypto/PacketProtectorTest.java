package io.peerlink.core.internal.crypto;

import io.peerlink.core.internal.crypto.PacketProtector.OpenResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sealing and opening data-path packets: layout, tampering, replay, key updates, erasure. */
class PacketProtectorTest {
    /** A header like the channel's: type byte with the key phase in bit 0, connection ID, 32-bit packet number. */
    static final int HEADER_LENGTH = 13;
    private static final long SECOND = 1_000_000_000L;

    static PacketProtector[] pair(NoiseSuite suite, RekeyPolicy policy) {
        byte[] aToB = new byte[32];
        byte[] bToA = new byte[32];
        for (int i = 0; i < 32; i++) {
            aToB[i] = (byte) i;
            bToA[i] = (byte) (100 + i);
        }
        return new PacketProtector[] {
            SessionKeys.fromSecrets(suite, aToB, bToA).newPacketProtector(policy, 0),
            SessionKeys.fromSecrets(suite, bToA, aToB).newPacketProtector(policy, 0)
        };
    }

    /** Builds and seals a packet; returns it flipped (position 0, limit at the end of the tag). */
    static ByteBuffer seal(PacketProtector sender, long packetNumber, long now, String text, boolean direct) {
        byte[] payload = text.getBytes(StandardCharsets.UTF_8);
        ByteBuffer packet = direct ? ByteBuffer.allocateDirect(1500) : ByteBuffer.allocate(1500);
        int phase = sender.sendKeyPhase(now);
        packet.put((byte) (0x40 | phase)).putLong(0x1122334455667788L).putInt((int) packetNumber);
        packet.put(payload);
        sender.seal(packet, 0, HEADER_LENGTH, packetNumber);
        assertEquals(HEADER_LENGTH + payload.length + PacketProtector.EXPANSION, packet.position());
        packet.flip();
        return packet;
    }

    static OpenResult open(PacketProtector receiver, ByteBuffer packet, long packetNumber, long now) {
        return receiver.open(packet, 0, HEADER_LENGTH, packetNumber, packet.get(0) & 1, now);
    }

    static String text(ByteBuffer opened) {
        byte[] bytes = new byte[opened.remaining()];
        opened.duplicate().get(bytes);
        return new String(bytes, StandardCharsets.UTF_8);
    }

    static void assertDelivers(PacketProtector sender, PacketProtector receiver, long packetNumber, String text) {
        ByteBuffer packet = seal(sender, packetNumber, 0, text, false);
        assertEquals(OpenResult.OPENED, open(receiver, packet, packetNumber, 0));
        assertEquals(text, text(packet));
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void sealsInPlaceAndOpensHeapAndDirectBuffers(NoiseSuite suite) {
        PacketProtector[] p = pair(suite, RekeyPolicy.DEFAULT);
        for (boolean direct : new boolean[] {false, true}) {
            long pn = direct ? 10 : 0;
            ByteBuffer packet = seal(p[0], pn, 0, "the payload", direct);
            assertEquals(0x1122334455667788L, packet.getLong(1), "header stays in clear");
            assertNotEquals("the payload", text(packet.duplicate().position(HEADER_LENGTH).limit(HEADER_LENGTH + 11)));
            assertEquals(OpenResult.OPENED, open(p[1], packet, pn, 0));
            assertEquals(HEADER_LENGTH, packet.position());
            assertEquals("the payload", text(packet));
        }
        ByteBuffer empty = seal(p[1], 0, 0, "", false);
        assertEquals(HEADER_LENGTH + PacketProtector.TAG_LENGTH, empty.limit());
        assertEquals(OpenResult.OPENED, open(p[0], empty, 0, 0));
        assertEquals(0, empty.remaining());
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void tamperedHeaderCiphertextOrTagIsRejectedAndTheGenuinePacketStillOpens(NoiseSuite suite) {
        PacketProtector[] p = pair(suite, RekeyPolicy.DEFAULT);
        ByteBuffer genuine = seal(p[0], 5, 0, "integrity", false);
        for (int i = 0; i < genuine.limit(); i++) {
            ByteBuffer copy = ByteBuffer.allocate(genuine.limit());
            copy.put(genuine.duplicate()).flip();
            copy.put(i, (byte) (copy.get(i) ^ 0x10));
            assertEquals(OpenResult.AUTHENTICATION_FAILED, p[1].open(copy, 0, HEADER_LENGTH, 5, 0, 0), "flip at " + i);
            assertEquals(genuine.limit(), copy.limit());
        }
        ByteBuffer truncated = ByteBuffer.allocate(HEADER_LENGTH + 15);
        assertEquals(OpenResult.AUTHENTICATION_FAILED, p[1].open(truncated, 0, HEADER_LENGTH, 5, 0, 0));
        assertEquals(OpenResult.AUTHENTICATION_FAILED, p[1].open(genuine.duplicate(), 0, HEADER_LENGTH, 6, 0, 0),
                "another packet number is another nonce");
        assertEquals(OpenResult.AUTHENTICATION_FAILED, p[1].open(genuine.duplicate(), 0, HEADER_LENGTH, 5, 1, 0),
                "a flipped key phase selects another key");
        assertEquals(0, p[1].receiveGeneration(), "a failed packet does not promote keys");
        assertEquals(-1, p[1].largestReceived(), "a failed packet does not enter the replay window");
        assertEquals(OpenResult.OPENED, open(p[1], genuine, 5, 0));
        assertEquals("integrity", text(genuine));
    }

    @Test
    void replaysAndTooOldPacketsAreRejected() {
        PacketProtector[] p = pair(NoiseSuite.DEFAULT, RekeyPolicy.DEFAULT);
        ByteBuffer first = seal(p[0], 0, 0, "first", false);
        ByteBuffer copy = ByteBuffer.allocate(first.limit()).put(first.duplicate()).flip();
        assertEquals(OpenResult.OPENED, open(p[1], first, 0, 0));
        assertEquals(OpenResult.DUPLICATE, open(p[1], copy, 0, 0));
        ByteBuffer late = seal(p[0], 1, 0, "late", false);
        ByteBuffer far = seal(p[0], 1 + ReplayWindow.SIZE, 0, "far", false);
        assertEquals(OpenResult.OPENED, open(p[1], far, 1 + ReplayWindow.SIZE, 0));
        assertEquals(OpenResult.TOO_OLD, open(p[1], late, 1, 0));
    }

    @Test
    void sealRefusesReusedPacketNumbersAndMissingRoom() {
        PacketProtector[] p = pair(NoiseSuite.DEFAULT, RekeyPolicy.DEFAULT);
        seal(p[0], 7, 0, "x", false);
        assertThrows(IllegalArgumentException.class, () -> seal(p[0], 7, 0, "x", false));
        assertThrows(IllegalArgumentException.class, () -> seal(p[0], 3, 0, "x", false));
        assertThrows(IllegalArgumentException.class, () -> seal(p[0], PacketProtector.MAX_PACKET_NUMBER + 1, 0, "x", false));
        ByteBuffer full = ByteBuffer.allocate(HEADER_LENGTH + 20);
        full.position(HEADER_LENGTH + 5);
        assertThrows(IllegalArgumentException.class, () -> p[0].seal(full, 0, HEADER_LENGTH, 8));
        assertThrows(IllegalArgumentException.class, () -> p[1].open(ByteBuffer.allocate(40), 0, HEADER_LENGTH, -1, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> p[1].open(ByteBuffer.allocate(40), 0, HEADER_LENGTH, 1, 2, 0));
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void keysUpdateByTimeAndReorderedPacketsOfThePreviousKeyStillOpen(NoiseSuite suite) {
        RekeyPolicy policy = new RekeyPolicy(Duration.ofSeconds(60), RekeyPolicy.MAX_PACKET_LIMIT, Duration.ofSeconds(5));
        PacketProtector[] p = pair(suite, policy);
        PacketProtector sender = p[0];
        PacketProtector receiver = p[1];
        ByteBuffer old1 = seal(sender, 1, 0, "gen0 #1", false);
        ByteBuffer old2 = seal(sender, 2, 0, "gen0 #2", false);
        assertEquals(OpenResult.OPENED, open(receiver, old1, 1, 0));
        ByteBuffer new3 = seal(sender, 3, 61 * SECOND, "gen1 #3", false);
        assertEquals(1, sender.sendGeneration());
        assertEquals(1, new3.get(0) & 1);
        ByteBuffer new4 = seal(sender, 4, 61 * SECOND, "gen1 #4", false);
        assertEquals(OpenResult.OPENED, open(receiver, new4, 4, 61 * SECOND));
        assertEquals(1, receiver.receiveGeneration());
        assertEquals("gen1 #4", text(new4));
        assertEquals(OpenResult.OPENED, open(receiver, new3, 3, 61 * SECOND));
        assertEquals(OpenResult.OPENED, open(receiver, old2, 2, 62 * SECOND), "previous key kept for reordering");
        assertEquals("gen0 #2", text(old2));

        // No second update until the peer acknowledged a packet sealed with generation 1.
        ByteBuffer new5 = seal(sender, 5, 130 * SECOND, "gen1 #5", false);
        assertEquals(1, sender.sendGeneration());
        sender.onAcknowledged(2);
        seal(sender, 6, 131 * SECOND, "gen1 #6", false);
        assertEquals(1, sender.sendGeneration(), "an ACK of a generation-0 packet does not confirm generation 1");
        sender.onAcknowledged(4);
        ByteBuffer gen2 = seal(sender, 7, 132 * SECOND, "gen2 #7", false);
        assertEquals(2, sender.sendGeneration());
        assertEquals(OpenResult.OPENED, open(receiver, gen2, 7, 132 * SECOND));
        assertEquals(2, receiver.receiveGeneration());
        assertEquals(OpenResult.OPENED, open(receiver, new5, 5, 133 * SECOND));
        ByteBuffer lost = seal(p[0], 8, 133 * SECOND, "x", false);
        assertEquals(OpenResult.OPENED, open(receiver, lost, 8, 133 * SECOND));
    }

    @Test
    void previousKeyIsDiscardedAfterTheRetention() {
        RekeyPolicy policy = new RekeyPolicy(Duration.ofSeconds(60), RekeyPolicy.MAX_PACKET_LIMIT, Duration.ofSeconds(5));
        PacketProtector[] p = pair(NoiseSuite.DEFAULT, policy);
        ByteBuffer old = seal(p[0], 1, 0, "old", false);
        ByteBuffer fresh = seal(p[0], 2, 60 * SECOND, "new", false);
        assertEquals(OpenResult.OPENED, open(p[1], fresh, 2, 60 * SECOND));
        assertEquals(OpenResult.KEY_DISCARDED, open(p[1], old, 1, 66 * SECOND));
    }

    @Test
    void keysUpdateByVolumeAndAnUnconfirmedKeyIsNeverOverused() {
        RekeyPolicy policy = new RekeyPolicy(RekeyPolicy.MAX_INTERVAL, 10, Duration.ofSeconds(5));
        PacketProtector[] p = pair(NoiseSuite.CHACHAPOLY, policy);
        long pn = 0;
        List<ByteBuffer> packets = new ArrayList<>();
        // Generations 0 and 1 seal 10 packets each and get acknowledgements; generation 2 starts at 20.
        for (; pn <= 20; pn++) {
            packets.add(seal(p[0], pn, 0, "n" + pn, false));
            if (pn % 5 == 4) {
                p[0].onAcknowledged(pn);
            }
        }
        assertEquals(2, p[0].sendGeneration());
        for (int i = 0; i < packets.size(); i++) {
            assertEquals(OpenResult.OPENED, open(p[1], packets.get(i), i, 0), "packet " + i);
            assertEquals("n" + i, text(packets.get(i)));
        }
        // Generation 2 is never acknowledged: no generation 3, and sealing stops at twice the limit.
        for (; pn < 40; pn++) {
            seal(p[0], pn, 0, "x", false);
        }
        assertEquals(2, p[0].sendGeneration());
        assertThrows(IllegalStateException.class, () -> seal(p[0], 40, 0, "x", false));
        p[0].onAcknowledged(20);
        ByteBuffer afterAck = seal(p[0], 40, 0, "after ack", false);
        assertEquals(3, p[0].sendGeneration());
        assertEquals(OpenResult.OPENED, open(p[1], afterAck, 40, 0));
        assertEquals(3, p[1].receiveGeneration());
    }

    @Test
    void destroyErasesAndDisables() {
        PacketProtector[] p = pair(NoiseSuite.DEFAULT, RekeyPolicy.DEFAULT);
        p[0].destroy();
        p[0].destroy();
        assertTrue(p[0].isDestroyed());
        assertThrows(IllegalStateException.class, () -> seal(p[0], 1, 0, "x", false));
        assertThrows(IllegalStateException.class, () -> p[0].open(ByteBuffer.allocate(40), 0, HEADER_LENGTH, 1, 0, 0));
    }
}
