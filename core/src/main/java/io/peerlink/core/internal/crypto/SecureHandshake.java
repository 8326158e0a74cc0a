package io.peerlink.core.internal.crypto;

import io.peerlink.DeviceId;
import io.peerlink.core.internal.crypto.HandshakeException.Reason;
import io.peerlink.protocol.identity.DeviceIdentity;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * One side of a PeerLink secure handshake: Noise XX whose static keys are bound to the devices'
 * Ed25519 identities (see docs/protocol-security.md).
 * <pre>
 * message 1  initiator -&gt; responder   e                           (exactly 32 bytes)
 * message 2  responder -&gt; initiator   e, ee, s, es, {identity R}    (the initiator learns R's ID)
 * message 3  initiator -&gt; responder   s, se, {identity I}          (the responder learns I's ID)
 * </pre>
 * Each side uses a fresh X25519 static key per handshake, signed by its device identity in the
 * payload ({@link HandshakePayload}); the remote {@link DeviceId} is derived from the verified
 * Ed25519 key. If an expected remote ID is given, any other verified identity is refused with
 * {@link Reason#UNEXPECTED_PEER}; without one, the caller must decide whether to accept
 * {@link #remoteId()} before using the session.
 *
 * <p>Usage, both sides driven by the integrator's transport and retransmission timer:
 * <pre>{@code
 * SecureHandshake hs = SecureHandshake.initiator(identity, prologue, expectedId, NoiseSuite.DEFAULT);
 * send(hs.writeMessage());                      // message 1
 * on datagram: try { hs.readMessage(bytes); }    // message 2
 *              catch (HandshakeException e) {
 *                  if (e.reason() == DUPLICATE) resend(hs.lastWrittenMessage()); // else drop it
 *              }
 *              if (hs.isWriteTurn()) send(hs.writeMessage());               // message 3
 * on timer:    if (!hs.isComplete() || peer may lack message 3) resend(hs.lastWrittenMessage());
 * done:        SessionKeys keys = hs.sessionKeys(); DeviceId peer = hs.remoteId();
 * }</pre>
 * Every refused message leaves the state unchanged, so a forged, corrupted or duplicated datagram
 * never breaks a handshake in progress; the genuine message can still follow. The initiator is
 * complete after writing message 3 and cannot know whether it arrived: it keeps
 * {@link #lastWrittenMessage()} and resends it whenever message 2 arrives again (reported as
 * {@link Reason#DUPLICATE}) until the first data packet from the responder confirms the session.
 *
 * <p>Not thread-safe: confine an instance to one thread (the event loop).
 */
public final class SecureHandshake {
    /** Prefixed to the caller's prologue, so PeerLink handshakes never match another protocol's. */
    static final byte[] PROLOGUE_PREFIX = "peerlink-noise-v1\0".getBytes(StandardCharsets.US_ASCII);
    /** Length of message 1 (an ephemeral key, empty payload). */
    public static final int MESSAGE_1_LENGTH = X25519.KEY_LENGTH;
    /** Largest message 2 or 3 this code produces or accepts. */
    public static final int MAX_MESSAGE_LENGTH = 2 * X25519.KEY_LENGTH + 2 * CipherState.TAG_LENGTH
            + HandshakePayload.MAX_LENGTH;

    private final DeviceIdentity identity;
    private final DeviceId expectedRemote;
    private final HandshakeState state;
    private byte[] applicationData = new byte[0];
    private byte[] lastWritten;
    private byte[] lastRead;
    private DeviceId remoteId;
    private byte[] remoteApplicationData;
    private SessionKeys sessionKeys;
    private boolean destroyed;

    private SecureHandshake(DeviceIdentity identity, boolean initiator, byte[] prologue, DeviceId expectedRemote,
                            NoiseSuite suite, X25519.KeyPairRaw staticKey) {
        this.identity = Objects.requireNonNull(identity, "identity");
        this.expectedRemote = expectedRemote;
        Objects.requireNonNull(prologue, "prologue");
        byte[] fullPrologue = Arrays.copyOf(PROLOGUE_PREFIX, PROLOGUE_PREFIX.length + prologue.length);
        System.arraycopy(prologue, 0, fullPrologue, PROLOGUE_PREFIX.length, prologue.length);
        this.state = new HandshakeState(Objects.requireNonNull(suite, "suite"), initiator, fullPrologue, staticKey, null);
    }

    /**
     * @param identity the local device
     * @param prologue context both sides must agree on (session token, connection IDs); a
     *        mismatch fails the handshake at message 2 with {@link Reason#DECRYPTION_FAILED}
     * @param expectedRemote the device we mean to reach, or null to accept any verified identity
     * @param suite the cipher suite; both sides must use the same
     * @return the initiator's side, whose turn it is to write message 1
     */
    public static SecureHandshake initiator(DeviceIdentity identity, byte[] prologue, DeviceId expectedRemote,
                                            NoiseSuite suite) {
        return new SecureHandshake(identity, true, prologue, expectedRemote, suite, X25519.generate());
    }

    /**
     * @param identity the local device
     * @param prologue as for {@link #initiator}
     * @param expectedRemote the device we expect (an introduced peer), or null for any verified one
     * @param suite the cipher suite
     * @return the responder's side, waiting for message 1
     */
    public static SecureHandshake responder(DeviceIdentity identity, byte[] prologue, DeviceId expectedRemote,
                                            NoiseSuite suite) {
        return new SecureHandshake(identity, false, prologue, expectedRemote, suite, X25519.generate());
    }

    /** As {@link #initiator} with a given static key (tests that play a man in the middle). */
    static SecureHandshake initiator(DeviceIdentity identity, byte[] prologue, DeviceId expectedRemote,
                                     NoiseSuite suite, X25519.KeyPairRaw staticKey) {
        return new SecureHandshake(identity, true, prologue, expectedRemote, suite, staticKey);
    }

    /** As {@link #responder} with a given static key (tests that play a man in the middle). */
    static SecureHandshake responder(DeviceIdentity identity, byte[] prologue, DeviceId expectedRemote,
                                     NoiseSuite suite, X25519.KeyPairRaw staticKey) {
        return new SecureHandshake(identity, false, prologue, expectedRemote, suite, staticKey);
    }

    /**
     * Sets opaque bytes carried, encrypted and authenticated, in this side's identity payload
     * (message 2 for the responder, 3 for the initiator).
     *
     * @param data up to {@link HandshakePayload#MAX_APPLICATION_DATA} bytes, copied
     * @return this
     * @throws IllegalStateException if the identity message was already written
     * @throws IllegalArgumentException if too long
     */
    public SecureHandshake applicationData(byte[] data) {
        Objects.requireNonNull(data, "data");
        if (data.length > HandshakePayload.MAX_APPLICATION_DATA) {
            throw new IllegalArgumentException("application data of " + data.length + " bytes exceeds "
                    + HandshakePayload.MAX_APPLICATION_DATA);
        }
        if (state.messageIndex() > (state.isInitiator() ? 2 : 1)) {
            throw new IllegalStateException("the identity message was already written");
        }
        applicationData = data.clone();
        return this;
    }

    /** @return true if the next step is {@link #writeMessage()} */
    public boolean isWriteTurn() {
        return !destroyed && state.isWriteTurn();
    }

    /** @return true once all three messages were written or read on this side */
    public boolean isComplete() {
        return state.isComplete();
    }

    /** @return true on the initiator's side */
    public boolean isInitiator() {
        return state.isInitiator();
    }

    /**
     * Writes this side's next message.
     *
     * @return the message to send (keep it for retransmission; {@link #lastWrittenMessage()} has it too)
     * @throws HandshakeException with {@link Reason#INVALID_PUBLIC_KEY} if the peer's message 1
     *         carried a small-order key (the handshake cannot proceed; discard it)
     * @throws IllegalStateException if it is not this side's turn, or after {@link #destroy()}
     */
    public byte[] writeMessage() throws HandshakeException {
        checkAlive();
        byte[] payload = state.messageIndex() == 0
                ? new byte[0]
                : HandshakePayload.sign(identity, state.localStaticPublic(), applicationData).encode();
        lastWritten = state.writeMessage(payload);
        completeIfDone();
        return lastWritten.clone();
    }

    /**
     * Reads the peer's next message.
     *
     * @param message the received bytes, all of them
     * @throws HandshakeException if refused; the state is then unchanged. {@link Reason#DUPLICATE}
     *         means it repeats the message read last: resend {@link #lastWrittenMessage()}.
     * @throws IllegalStateException after {@link #destroy()}
     */
    public void readMessage(byte[] message) throws HandshakeException {
        Objects.requireNonNull(message, "message");
        checkAlive();
        if (lastRead != null && Arrays.equals(lastRead, message)) {
            throw new HandshakeException(Reason.DUPLICATE, "message " + state.messageIndex() + " received again");
        }
        if (state.isComplete() || state.isWriteTurn()) {
            throw new HandshakeException(Reason.UNEXPECTED_MESSAGE, "a " + message.length + "-byte message arrived while "
                    + (state.isComplete() ? "the handshake is complete" : "it is this side's turn to write"));
        }
        int index = state.messageIndex();
        if (index == 0 && message.length != MESSAGE_1_LENGTH) {
            throw new HandshakeException(Reason.MALFORMED_MESSAGE, "message 1 must have " + MESSAGE_1_LENGTH
                    + " bytes, got " + message.length);
        }
        if (message.length > MAX_MESSAGE_LENGTH) {
            throw new HandshakeException(Reason.MALFORMED_MESSAGE, "message " + (index + 1) + " has " + message.length
                    + " bytes, more than the maximum " + MAX_MESSAGE_LENGTH);
        }
        DeviceId[] verified = new DeviceId[1];
        byte[][] data = new byte[1][];
        state.readMessage(message, (payload, remoteStatic) -> {
            if (index == 0) {
                return;
            }
            HandshakePayload decoded = HandshakePayload.decode(payload);
            DeviceId id = decoded.verify(remoteStatic);
            if (expectedRemote != null && !expectedRemote.equals(id)) {
                throw new HandshakeException(Reason.UNEXPECTED_PEER, "the peer proved identity " + id
                        + ", expected " + expectedRemote);
            }
            verified[0] = id;
            data[0] = decoded.applicationData();
        });
        lastRead = message.clone();
        if (verified[0] != null) {
            remoteId = verified[0];
            remoteApplicationData = data[0];
        }
        completeIfDone();
    }

    /**
     * As {@link #readMessage(byte[])} for the bytes between the buffer's position and limit; the
     * position moves to the limit whether or not the message is accepted.
     *
     * @param message the received message
     * @throws HandshakeException as {@link #readMessage(byte[])}
     */
    public void readMessage(ByteBuffer message) throws HandshakeException {
        byte[] bytes = new byte[message.remaining()];
        message.get(bytes);
        readMessage(bytes);
    }

    private void completeIfDone() {
        if (state.isComplete() && sessionKeys == null) {
            byte[][] split = state.splitKeys();
            boolean initiator = state.isInitiator();
            sessionKeys = new SessionKeys(state.suite(), initiator, initiator ? split[0] : split[1],
                    initiator ? split[1] : split[0], split[2], state.handshakeHash());
            state.destroy();
        }
    }

    /** @return a copy of the last message this side wrote, for retransmission; null before the first */
    public byte[] lastWrittenMessage() {
        return lastWritten == null ? null : lastWritten.clone();
    }

    /**
     * @return the peer's verified device ID: on the initiator after message 2, on the responder after
     *         message 3; null before
     */
    public DeviceId remoteId() {
        return remoteId;
    }

    /** @return a copy of the application data in the peer's identity payload; null before it is verified */
    public byte[] remoteApplicationData() {
        return remoteApplicationData == null ? null : remoteApplicationData.clone();
    }

    /**
     * @return the session keys; the caller owns them from here on (and {@link SessionKeys#destroy()}s them)
     * @throws IllegalStateException before completion
     */
    public SessionKeys sessionKeys() {
        if (sessionKeys == null) {
            throw new IllegalStateException("handshake not complete");
        }
        return sessionKeys;
    }

    /** @return the suite */
    public NoiseSuite suite() {
        return state.suite();
    }

    /**
     * Erases the handshake's own key material (not the {@link SessionKeys} already handed out).
     * Idempotent; afterwards every read or write throws {@link IllegalStateException}.
     */
    public void destroy() {
        destroyed = true;
        state.destroy();
    }

    private void checkAlive() {
        if (destroyed) {
            throw new IllegalStateException("handshake was destroyed");
        }
    }
}
