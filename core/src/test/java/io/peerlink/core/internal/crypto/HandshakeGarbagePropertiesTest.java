package io.peerlink.core.internal.crypto;

import io.peerlink.protocol.identity.DeviceIdentity;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Garbage injected at any step of a handshake is refused with a {@link HandshakeException} only,
 * and never disturbs the handshake: the genuine messages complete it afterwards.
 */
class HandshakeGarbagePropertiesTest {
    private static final DeviceIdentity ALICE = DeviceIdentity.ephemeral();
    private static final DeviceIdentity BOB = DeviceIdentity.ephemeral();
    private static final byte[] PROLOGUE = {1, 2, 3};

    private static void inject(SecureHandshake target, List<byte[]> garbage) {
        for (byte[] bytes : garbage) {
            try {
                target.readMessage(bytes);
            } catch (HandshakeException expected) {
                // refused: the only acceptable outcome besides acceptance
            }
        }
    }

    @Property(tries = 60)
    void garbageNeverBreaksAHandshake(@ForAll @Size(max = 6) List<@Size(max = 300) byte[]> garbage,
                                      @ForAll @IntRange(min = 0, max = 2) int step,
                                      @ForAll boolean chacha) throws Exception {
        NoiseSuite suite = chacha ? NoiseSuite.CHACHAPOLY : NoiseSuite.AESGCM;
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), suite);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, ALICE.id(), suite);
        byte[] m1 = initiator.writeMessage();
        if (step == 0) {
            // Random 32-byte messages are valid message 1s: only inject what cannot be one.
            inject(responder, garbage.stream().filter(g -> g.length != SecureHandshake.MESSAGE_1_LENGTH).toList());
        }
        responder.readMessage(m1);
        byte[] m2 = responder.writeMessage();
        if (step == 1) {
            inject(initiator, garbage);
        }
        initiator.readMessage(m2);
        byte[] m3 = initiator.writeMessage();
        if (step == 2) {
            inject(responder, garbage);
        }
        responder.readMessage(m3);
        assertTrue(responder.isComplete());
        assertEquals(ALICE.id(), responder.remoteId());
        assertEquals(BOB.id(), initiator.remoteId());
    }
}
