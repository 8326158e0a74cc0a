package io.peerlink.core.internal.crypto;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.peerlink.core.internal.crypto.PacketProtector.OpenResult;
import io.peerlink.protocol.identity.DeviceIdentity;

import java.nio.ByteBuffer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Jazzer fuzz targets for every decoder of this package that faces the network: Noise handshake
 * messages at each step, the identity payload inside them, and packet opening. In a normal build
 * they run their seed corpus only ({@code CryptoFuzzTestInputs/<method>/} under test resources);
 * {@code JAZZER_FUZZ=1} fuzzes (docs/fuzzing.md).
 *
 * <p>The handshake and packet states are shared across executions on purpose: every refused input
 * must leave them unchanged (the property the link layer relies on), so one long-lived victim per
 * step both keeps the target fast and checks that no input corrupts it.
 */
class CryptoFuzzTest {
    private static final DeviceIdentity ALICE = DeviceIdentity.ephemeral();
    private static final DeviceIdentity BOB = DeviceIdentity.ephemeral();
    private static final byte[] PROLOGUE = "fuzz".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    private static final byte[] STATIC_KEY = X25519.generate().publicKey();
    /** Bob's Noise static key for the per-execution responders: saves an X25519 key generation per input. */
    private static final X25519.KeyPairRaw RESPONDER_STATIC = X25519.generate();

    /** An initiator that wrote message 1 and waits for message 2. */
    private static SecureHandshake awaitingMessage2;
    /** A responder that wrote message 2 and waits for message 3. */
    private static SecureHandshake awaitingMessage3;
    private static PacketProtector receiver;

    private static synchronized void ensureVictims() throws HandshakeException {
        if (awaitingMessage2 == null || awaitingMessage2.isComplete()) {
            awaitingMessage2 = SecureHandshake.initiator(ALICE, PROLOGUE, BOB.id(), NoiseSuite.DEFAULT);
            awaitingMessage2.writeMessage();
        }
        if (awaitingMessage3 == null || awaitingMessage3.isComplete()) {
            SecureHandshake initiator = SecureHandshake.initiator(ALICE, PROLOGUE, null, NoiseSuite.DEFAULT);
            awaitingMessage3 = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT);
            awaitingMessage3.readMessage(initiator.writeMessage());
            awaitingMessage3.writeMessage();
        }
        if (receiver == null) {
            receiver = PacketProtectorTest.pair(NoiseSuite.DEFAULT, RekeyPolicy.DEFAULT)[1];
        }
    }

    /**
     * First byte picks the step (message 1 to a fresh responder, message 2 to the waiting initiator,
     * message 3 to the waiting responder); the rest is the message. Only {@link HandshakeException}
     * may come out, and a refused message never changes the victim's turn.
     */
    @FuzzTest(maxDuration = "4h")
    void handshakeMessage(byte[] input) throws Exception {
        ensureVictims();
        if (input.length == 0) {
            return;
        }
        byte[] message = java.util.Arrays.copyOfRange(input, 1, input.length);
        switch (Math.floorMod(input[0], 3)) {
            case 0 -> {
                SecureHandshake responder = SecureHandshake.responder(BOB, PROLOGUE, null, NoiseSuite.DEFAULT,
                        RESPONDER_STATIC);
                try {
                    responder.readMessage(message);
                    responder.writeMessage();
                } catch (HandshakeException refused) {
                    assertTrue(message.length != SecureHandshake.MESSAGE_1_LENGTH || responder.isWriteTurn());
                }
            }
            case 1 -> {
                try {
                    awaitingMessage2.readMessage(message);
                } catch (HandshakeException refused) {
                    assertTrue(!awaitingMessage2.isWriteTurn() && awaitingMessage2.remoteId() == null);
                }
            }
            default -> {
                try {
                    awaitingMessage3.readMessage(message);
                } catch (HandshakeException refused) {
                    assertTrue(!awaitingMessage3.isComplete() && awaitingMessage3.remoteId() == null);
                }
            }
        }
    }

    /** The identity payload codec alone: decode, and verify what decodes. */
    @FuzzTest(maxDuration = "30m")
    void handshakePayload(byte[] input) {
        try {
            HandshakePayload payload = HandshakePayload.decode(input);
            assertTrue(java.util.Arrays.equals(input, payload.encode()));
            payload.verify(STATIC_KEY);
        } catch (HandshakeException refused) {
            // MALFORMED_PAYLOAD or BAD_IDENTITY_SIGNATURE: the only acceptable failures
        }
    }

    /**
     * Packet opening. Input layout: 8 bytes packet number (big-endian, top two bits ignored), one
     * byte whose low bit is the key phase, one byte header length, then the datagram. Never throws;
     * a refused packet leaves the buffer's position and limit alone, an opened one exposes exactly
     * the plaintext. (Only an unmodified genuine seed can open, once; anything else opening would
     * be a forgery.)
     */
    @FuzzTest(maxDuration = "30m")
    void packetOpen(byte[] input) throws Exception {
        ensureVictims();
        if (input.length < 10) {
            return;
        }
        long packetNumber = ByteBuffer.wrap(input).getLong() & PacketProtector.MAX_PACKET_NUMBER;
        int keyPhase = input[8] & 1;
        int headerLength = input[9] & 0xFF;
        ByteBuffer packet = ByteBuffer.wrap(input, 10, input.length - 10).slice();
        int payloadStart = Math.min(headerLength, packet.limit());
        int length = packet.limit();
        OpenResult result = receiver.open(packet, 0, payloadStart, packetNumber, keyPhase, 0);
        if (result == OpenResult.OPENED) {
            assertEquals(payloadStart, packet.position());
            assertEquals(length - PacketProtector.TAG_LENGTH, packet.limit());
        } else {
            assertEquals(0, packet.position());
            assertEquals(length, packet.limit());
        }
    }
}
