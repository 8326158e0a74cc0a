package io.peerlink.core.internal.crypto;

import io.peerlink.DeviceId;
import io.peerlink.core.internal.crypto.HandshakeException.Reason;
import io.peerlink.protocol.identity.DeviceIdentity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The identity-bound Noise XX handshake: success, and every way it must refuse a message. */
class SecureHandshakeTest {
    private static final byte[] PROLOGUE = "token:abc|cid:1|cid:2".getBytes(StandardCharsets.US_ASCII);
    private static final DeviceIdentity ALICE = DeviceIdentity.ephemeral();
    private static final DeviceIdentity BOB = DeviceIdentity.ephemeral();
    private static final DeviceIdentity MALLORY = DeviceIdentity.ephemeral();

    /** Runs a whole handshake between the two sides, returning after both completed. */
    static void run(SecureHandshake initiator, SecureHandshake responder) throws HandshakeException {
        responder.readMessage(initiator.writeMessage());
        initiator.readMessage(responder.writeMessage());
        responder.readMessage(initiator.writeMessage());
    }

    static HandshakeException refused(Reason reason, HandshakeCall call) {
        HandshakeException e = assertThrows(HandshakeException.class, call::run);
        assertEquals(reason, e.reason(), e.getMessage());
        return e;
    }

    @FunctionalInterface
    interface HandshakeCall {
        void run() throws HandshakeException;
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void completesAndBothSidesLearnTheVerifiedIdentityAndTheSameKeys(NoiseSuite suite) throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), suite)
                .applicationData("alice-params".getBytes(StandardCharsets.US_ASCII));
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, suite)
                .applicationData("bob-params".getBytes(StandardCharsets.US_ASCII));
        assertTrue(initiator.isWriteTurn());
        assertFalse(responder.isWriteTurn());

        byte[] message1 = initiator.writeMessage();
        assertEquals(SecureHandshake.MESSAGE_1_LENGTH, message1.length);
        responder.readMessage(message1);
        assertNull(responder.remoteId(), "message 1 carries no identity");
        initiator.readMessage(responder.writeMessage());
        assertEquals(BOB.id(), initiator.remoteId());
        assertArrayEquals("bob-params".getBytes(StandardCharsets.US_ASCII), initiator.remoteApplicationData());
        assertFalse(initiator.isComplete());
        responder.readMessage(initiator.writeMessage());

        assertTrue(initiator.isComplete());
        assertTrue(responder.isComplete());
        assertEquals(ALICE.id(), responder.remoteId());
        assertArrayEquals("alice-params".getBytes(StandardCharsets.US_ASCII), responder.remoteApplicationData());
        SessionKeys a = initiator.sessionKeys();
        SessionKeys b = responder.sessionKeys();
        assertTrue(a.isInitiator());
        assertFalse(b.isInitiator());
        assertEquals(suite, a.suite());
        assertArrayEquals(a.handshakeHash(), b.handshakeHash());
        assertArrayEquals(a.export("probe mac", 32), b.export("probe mac", 32));
        assertFalse(Arrays.equals(a.export("probe mac", 32), a.export("other", 32)));

        PacketProtector alice = a.newPacketProtector(RekeyPolicy.DEFAULT, 0);
        PacketProtector bob = b.newPacketProtector(RekeyPolicy.DEFAULT, 0);
        PacketProtectorTest.assertDelivers(alice, bob, 0, "hello bob");
        PacketProtectorTest.assertDelivers(bob, alice, 0, "hello alice");
        a.destroy();
        assertThrows(IllegalStateException.class, () -> a.export("x", 16));
    }

    /** The lengths docs/protocol-security.md section 1.2 gives. */
    @Test
    void messageLengthsAreAsSpecified() throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT)
                .applicationData(new byte[HandshakePayload.MAX_APPLICATION_DATA]);
        byte[] message1 = initiator.writeMessage();
        responder.readMessage(message1);
        byte[] message2 = responder.writeMessage();
        initiator.readMessage(message2);
        byte[] message3 = initiator.writeMessage();
        assertEquals(32, message1.length);
        assertEquals(707, message2.length);
        assertEquals(SecureHandshake.MAX_MESSAGE_LENGTH, message2.length);
        assertEquals(163, message3.length);
        assertEquals(195, message3.length + 32);
    }

    @Test
    void eachHandshakeYieldsFreshKeys() throws Exception {
        SecureHandshake i1 = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake r1 = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake i2 = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake r2 = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
        run(i1, r1);
        run(i2, r2);
        assertFalse(Arrays.equals(i1.sessionKeys().export("k", 32), i2.sessionKeys().export("k", 32)));
    }

    @Test
    void initiatorRefusesAResponderThatIsNotTheExpectedDevice() throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), NoiseSuite.DEFAULT);
        SecureHandshake impostor = SecureHandshake.responder(MALLORY, PROLOGUE, null, NoiseSuite.DEFAULT);
        impostor.readMessage(initiator.writeMessage());
        byte[] message2 = impostor.writeMessage();
        refused(Reason.UNEXPECTED_PEER, () -> initiator.readMessage(message2));
        assertNull(initiator.remoteId());
        assertFalse(initiator.isWriteTurn(), "still waiting for the genuine message 2");
    }

    @Test
    void responderRefusesAnInitiatorThatIsNotTheExpectedDevice() throws Exception {
        SecureHandshake impostor = SecureHandshake.initiator(MALLORY, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, ALICE.id(), NoiseSuite.DEFAULT);
        responder.readMessage(impostor.writeMessage());
        impostor.readMessage(responder.writeMessage());
        byte[] message3 = impostor.writeMessage();
        refused(Reason.UNEXPECTED_PEER, () -> responder.readMessage(message3));
        assertFalse(responder.isComplete());
        assertThrows(IllegalStateException.class, responder::sessionKeys);
    }

    @Test
    void withoutAnExpectedIdTheIdIsDerivedFromTheVerifiedKeyNotClaimed() throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(MALLORY, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
        run(initiator, responder);
        assertEquals(MALLORY.id(), responder.remoteId());
        assertEquals(DeviceId.fromPublicKey(MALLORY.rawPublicKey()), responder.remoteId());
    }

    /**
     * A man in the middle runs a Noise handshake with each side using its own static keys and
     * relays the genuine identity payloads: the signatures cover the genuine static keys, not his,
     * so both directions fail with a bad signature.
     */
    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void manInTheMiddleSubstitutingStaticKeysFails(NoiseSuite suite) throws Exception {
        byte[] prologue = Arrays.copyOf(SecureHandshake.PROLOGUE_PREFIX, SecureHandshake.PROLOGUE_PREFIX.length + PROLOGUE.length);
        System.arraycopy(PROLOGUE, 0, prologue, SecureHandshake.PROLOGUE_PREFIX.length, PROLOGUE.length);
        SecureHandshake alice = SecureHandshake.initiator(ALICE, PROLOGUE, null, suite);
        SecureHandshake bob = SecureHandshake.responder(BOB, PROLOGUE, null, suite);
        HandshakeState mitmToBob = new HandshakeState(suite, true, prologue, X25519.generate(), null);
        HandshakeState mitmToAlice = new HandshakeState(suite, false, prologue, X25519.generate(), null);

        mitmToAlice.readMessage(alice.writeMessage());
        bob.readMessage(mitmToBob.writeMessage(new byte[0]));
        byte[] bobIdentity = mitmToBob.readMessage(bob.writeMessage());
        assertEquals(BOB.id(), HandshakePayload.decode(bobIdentity).verify(mitmToBob.remoteStatic()));
        byte[] toAlice = mitmToAlice.writeMessage(bobIdentity);
        refused(Reason.BAD_IDENTITY_SIGNATURE, () -> alice.readMessage(toAlice));

        // The other direction: Alice's genuine identity relayed to Bob under the attacker's key.
        SecureHandshake alice2 = SecureHandshake.initiator(ALICE, PROLOGUE, null, suite);
        HandshakeState mitmToAlice2 = new HandshakeState(suite, false, prologue, X25519.generate(), null);
        mitmToAlice2.readMessage(alice2.writeMessage());
        // The attacker must sign something as "Bob"; he can only sign with his own identity.
        byte[] mitmIdentity = HandshakePayload.sign(MALLORY, mitmToAlice2.localStaticPublic(), new byte[0]).encode();
        alice2.readMessage(mitmToAlice2.writeMessage(mitmIdentity));
        assertEquals(MALLORY.id(), alice2.remoteId(), "the only identity he can prove is his own");
        byte[] aliceIdentity = mitmToAlice2.readMessage(alice2.writeMessage());
        byte[] toBob = mitmToBob.writeMessage(aliceIdentity);
        refused(Reason.BAD_IDENTITY_SIGNATURE, () -> bob.readMessage(toBob));
        assertFalse(bob.isComplete());
    }

    /** A responder that completes Noise correctly but whose identity signature is corrupted or malformed. */
    @Test
    void corruptedOrMalformedIdentityPayloadIsRefused() throws Exception {
        byte[] prologue = Arrays.copyOf(SecureHandshake.PROLOGUE_PREFIX, SecureHandshake.PROLOGUE_PREFIX.length + PROLOGUE.length);
        System.arraycopy(PROLOGUE, 0, prologue, SecureHandshake.PROLOGUE_PREFIX.length, PROLOGUE.length);
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
        byte[] message1 = initiator.writeMessage();
        X25519.KeyPairRaw bobStatic = X25519.generate();

        HandshakeState badSignature = new HandshakeState(NoiseSuite.DEFAULT, false, prologue, bobStatic, null);
        badSignature.readMessage(message1);
        byte[] payload = HandshakePayload.sign(BOB, bobStatic.publicKey(), new byte[0]).encode();
        payload[40] ^= 0x01; // inside the signature
        byte[] forged = badSignature.writeMessage(payload);
        refused(Reason.BAD_IDENTITY_SIGNATURE, () -> initiator.readMessage(forged));

        HandshakeState wrongKey = new HandshakeState(NoiseSuite.DEFAULT, false, prologue, bobStatic, null);
        wrongKey.readMessage(message1);
        byte[] otherKeyPayload = HandshakePayload.of(MALLORY.rawPublicKey(),
                HandshakePayload.sign(BOB, bobStatic.publicKey(), new byte[0]).signature(), new byte[0]).encode();
        byte[] claimed = wrongKey.writeMessage(otherKeyPayload);
        refused(Reason.BAD_IDENTITY_SIGNATURE, () -> initiator.readMessage(claimed));

        HandshakeState malformed = new HandshakeState(NoiseSuite.DEFAULT, false, prologue, bobStatic, null);
        malformed.readMessage(message1);
        byte[] truncatedPayload = malformed.writeMessage(Arrays.copyOf(payload, 60));
        refused(Reason.MALFORMED_PAYLOAD, () -> initiator.readMessage(truncatedPayload));

        HandshakeState genuine = new HandshakeState(NoiseSuite.DEFAULT, false, prologue, bobStatic, null);
        genuine.readMessage(message1);
        initiator.readMessage(genuine.writeMessage(HandshakePayload.sign(BOB, bobStatic.publicKey(), new byte[0]).encode()));
        assertEquals(BOB.id(), initiator.remoteId(), "still waiting for, and accepting, the genuine message 2");
    }

    @Test
    void prologueMismatchFailsAtMessageTwo() throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
        SecureHandshake responder = SecureHandshake.responder(BOB, "other token".getBytes(StandardCharsets.US_ASCII),
                null, NoiseSuite.DEFAULT);
        responder.readMessage(initiator.writeMessage());
        byte[] message2 = responder.writeMessage();
        refused(Reason.DECRYPTION_FAILED, () -> initiator.readMessage(message2));
    }

    @Test
    void suiteMismatchFailsAtMessageTwo() throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.AESGCM);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.CHACHAPOLY);
        responder.readMessage(initiator.writeMessage());
        byte[] message2 = responder.writeMessage();
        refused(Reason.DECRYPTION_FAILED, () -> initiator.readMessage(message2));
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void malformedMessagesAreRefusedAndTheGenuineOnesStillComplete(NoiseSuite suite) throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), suite);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, ALICE.id(), suite);
        byte[] message1 = initiator.writeMessage();
        refused(Reason.MALFORMED_MESSAGE, () -> responder.readMessage(Arrays.copyOf(message1, 31)));
        refused(Reason.MALFORMED_MESSAGE, () -> responder.readMessage(Arrays.copyOf(message1, 33)));
        refused(Reason.MALFORMED_MESSAGE, () -> responder.readMessage(new byte[0]));
        responder.readMessage(message1);

        byte[] message2 = responder.writeMessage();
        for (int length : new int[] {0, 1, 31, 32, 33, 79, 80, 95, 96, 97, message2.length - 1}) {
            HandshakeException e = assertThrows(HandshakeException.class,
                    () -> initiator.readMessage(Arrays.copyOf(message2, length)));
            assertTrue(e.reason() == Reason.MALFORMED_MESSAGE || e.reason() == Reason.DECRYPTION_FAILED, e.getMessage());
        }
        refused(Reason.DECRYPTION_FAILED, () -> initiator.readMessage(Arrays.copyOf(message2, message2.length + 1)));
        refused(Reason.MALFORMED_MESSAGE, () -> initiator.readMessage(new byte[SecureHandshake.MAX_MESSAGE_LENGTH + 1]));
        for (int i = 0; i < message2.length; i += 7) {
            byte[] flipped = message2.clone();
            flipped[i] ^= 0x01;
            HandshakeException e = assertThrows(HandshakeException.class, () -> initiator.readMessage(flipped));
            assertTrue(e.reason() == Reason.DECRYPTION_FAILED || e.reason() == Reason.INVALID_PUBLIC_KEY, e.getMessage());
        }
        initiator.readMessage(message2);

        byte[] message3 = initiator.writeMessage();
        byte[] flipped = message3.clone();
        flipped[message3.length - 1] ^= (byte) 0x80;
        refused(Reason.DECRYPTION_FAILED, () -> responder.readMessage(flipped));
        refused(Reason.MALFORMED_MESSAGE, () -> responder.readMessage(Arrays.copyOf(message3, 47)));
        responder.readMessage(ByteBuffer.wrap(message3));
        assertTrue(responder.isComplete());
        assertEquals(ALICE.id(), responder.remoteId());
        assertEquals(BOB.id(), initiator.remoteId());
    }

    @ParameterizedTest
    @EnumSource(NoiseSuite.class)
    void retransmittedMessagesAreReportedAsDuplicatesWithoutChangingState(NoiseSuite suite) throws Exception {
        SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), suite);
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, suite);
        refused(Reason.UNEXPECTED_MESSAGE, () -> initiator.readMessage(new byte[32]));
        byte[] message1 = initiator.writeMessage();
        responder.readMessage(message1);
        byte[] message2 = responder.writeMessage();
        // message 2 lost: the initiator retransmits message 1, the responder resends message 2
        refused(Reason.DUPLICATE, () -> responder.readMessage(message1));
        assertArrayEquals(message2, responder.lastWrittenMessage());
        initiator.readMessage(responder.lastWrittenMessage());
        refused(Reason.DUPLICATE, () -> initiator.readMessage(message2));
        byte[] message3 = initiator.writeMessage();
        assertTrue(initiator.isComplete());
        // message 3 lost: the responder resends message 2, the initiator answers with message 3 again
        refused(Reason.DUPLICATE, () -> initiator.readMessage(message2));
        assertArrayEquals(message3, initiator.lastWrittenMessage());
        responder.readMessage(initiator.lastWrittenMessage());
        assertTrue(responder.isComplete());
        refused(Reason.DUPLICATE, () -> responder.readMessage(message3));
        refused(Reason.UNEXPECTED_MESSAGE, () -> responder.readMessage(message1));
        assertArrayEquals(initiator.sessionKeys().handshakeHash(), responder.sessionKeys().handshakeHash());
        assertSame(initiator.sessionKeys(), initiator.sessionKeys());
    }

    @Test
    void writingOutOfTurnOrAfterDestroyIsAProgrammingError() throws Exception {
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
        assertThrows(IllegalStateException.class, responder::writeMessage);
        responder.destroy();
        assertThrows(IllegalStateException.class, () -> responder.readMessage(new byte[32]));
        assertThrows(IllegalArgumentException.class, () -> SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT)
                .applicationData(new byte[HandshakePayload.MAX_APPLICATION_DATA + 1]));
    }

    @Test
    void smallOrderEphemeralKeyIsRefused() throws Exception {
        SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
        responder.readMessage(new byte[32]); // u = 0, a small-order point
        refused(Reason.INVALID_PUBLIC_KEY, responder::writeMessage);
    }
}
