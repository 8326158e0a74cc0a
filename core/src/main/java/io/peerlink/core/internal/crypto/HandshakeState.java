package io.peerlink.core.internal.crypto;

import io.peerlink.core.internal.crypto.HandshakeException.Reason;

import javax.crypto.AEADBadTagException;
import java.security.InvalidKeyException;
import java.security.PrivateKey;
import java.util.Arrays;
import java.util.Objects;

/**
 * Noise HandshakeState (spec rev 34, section 5.3) for the one pattern PeerLink uses:
 * <pre>
 * XX:
 *   -&gt; e
 *   &lt;- e, ee, s, es
 *   -&gt; s, se
 * </pre>
 * Beyond the spec, reading and writing are transactional: a message that fails (bad tag, bad
 * length, small-order key) leaves every field exactly as before, so a forged or duplicated
 * datagram cannot break a handshake in progress. Not thread-safe.
 */
final class HandshakeState {
    /** Noise's maximum message length. */
    static final int MAX_MESSAGE_LENGTH = 65535;
    /** Number of handshake messages in XX. */
    static final int MESSAGE_COUNT = 3;

    private final NoiseSuite suite;
    private final boolean initiator;
    private final X25519.KeyPairRaw localStatic;
    private X25519.KeyPairRaw localEphemeral;
    private SymmetricState symmetric;
    private byte[] remoteStatic;
    private byte[] remoteEphemeral;
    private int messageIndex;
    private byte[][] splitKeys;
    private byte[] finalHash;

    /**
     * @param suite cipher suite
     * @param initiator true for the side that sends the first message
     * @param prologue bytes both sides must agree on; mixed into h
     * @param localStatic our static key pair
     * @param localEphemeral a fixed ephemeral key pair (test vectors only), or null for a fresh one
     */
    HandshakeState(NoiseSuite suite, boolean initiator, byte[] prologue, X25519.KeyPairRaw localStatic,
                   X25519.KeyPairRaw localEphemeral) {
        this.suite = Objects.requireNonNull(suite, "suite");
        this.initiator = initiator;
        this.localStatic = Objects.requireNonNull(localStatic, "localStatic");
        this.localEphemeral = localEphemeral;
        this.symmetric = new SymmetricState(suite);
        symmetric.mixHash(Objects.requireNonNull(prologue, "prologue"));
    }

    /** @return true if the next message is ours to write */
    boolean isWriteTurn() {
        return !isComplete() && (messageIndex % 2 == 0) == initiator;
    }

    /** @return true once all three messages have been written or read */
    boolean isComplete() {
        return messageIndex >= MESSAGE_COUNT;
    }

    /** @return index (0..2) of the next message, 3 when complete */
    int messageIndex() {
        return messageIndex;
    }

    /** @return the peer's static public key once received, else null (a copy) */
    byte[] remoteStatic() {
        return remoteStatic == null ? null : remoteStatic.clone();
    }

    /** @return our static public key (a copy) */
    byte[] localStaticPublic() {
        return localStatic.publicKey().clone();
    }

    /**
     * @param payload carried after the tokens; encrypted once a key has been mixed in
     * @return the message
     * @throws HandshakeException with {@link Reason#INVALID_PUBLIC_KEY} if the peer's ephemeral
     *         key is of small order (state unchanged)
     * @throws IllegalStateException if it is not our turn to write
     */
    byte[] writeMessage(byte[] payload) throws HandshakeException {
        Objects.requireNonNull(payload, "payload");
        if (!isWriteTurn()) {
            throw new IllegalStateException("not our turn to write (message " + messageIndex + ", "
                    + (initiator ? "initiator" : "responder") + (isComplete() ? ", complete" : "") + ")");
        }
        SymmetricState next = symmetric.copy();
        X25519.KeyPairRaw ephemeral = localEphemeral;
        byte[] out;
        try {
            switch (messageIndex) {
                case 0 -> {
                    ephemeral = ephemeral != null ? ephemeral : X25519.generate();
                    next.mixHash(ephemeral.publicKey());
                    out = concat(ephemeral.publicKey(), next.encryptAndHash(payload));
                }
                case 1 -> {
                    ephemeral = ephemeral != null ? ephemeral : X25519.generate();
                    next.mixHash(ephemeral.publicKey());
                    next.mixKey(dh(ephemeral.privateKey(), remoteEphemeral));
                    byte[] encryptedStatic = next.encryptAndHash(localStatic.publicKey());
                    next.mixKey(dh(localStatic.privateKey(), remoteEphemeral));
                    out = concat(ephemeral.publicKey(), encryptedStatic, next.encryptAndHash(payload));
                }
                default -> {
                    byte[] encryptedStatic = next.encryptAndHash(localStatic.publicKey());
                    next.mixKey(dh(localStatic.privateKey(), remoteEphemeral));
                    out = concat(encryptedStatic, next.encryptAndHash(payload));
                }
            }
        } catch (HandshakeException e) {
            next.erase();
            throw e;
        }
        if (out.length > MAX_MESSAGE_LENGTH) {
            next.erase();
            throw new IllegalArgumentException("handshake message of " + out.length + " bytes exceeds Noise's "
                    + MAX_MESSAGE_LENGTH);
        }
        commit(next, ephemeral);
        return out;
    }

    /**
     * @param message the received message
     * @return its decrypted payload
     * @throws HandshakeException if the message is refused; the state is then unchanged
     * @throws IllegalStateException if it is our turn to write or the handshake is complete
     */
    byte[] readMessage(byte[] message) throws HandshakeException {
        return readMessage(message, (payload, remote) -> { });
    }

    /** Checks a decrypted payload before the read is committed. */
    @FunctionalInterface
    interface PayloadCheck {
        /**
         * @param payload the decrypted payload
         * @param remoteStatic the peer's static key, null before message 2
         * @throws HandshakeException to refuse the message; the state then stays unchanged
         */
        void check(byte[] payload, byte[] remoteStatic) throws HandshakeException;
    }

    /**
     * As {@link #readMessage(byte[])}, with {@code check} run on the payload before anything is
     * committed: a message whose payload it refuses leaves the state unchanged.
     */
    byte[] readMessage(byte[] message, PayloadCheck check) throws HandshakeException {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(check, "check");
        if (isComplete() || isWriteTurn()) {
            throw new IllegalStateException("no message to read now (message " + messageIndex + ", "
                    + (initiator ? "initiator" : "responder") + (isComplete() ? ", complete" : "") + ")");
        }
        if (message.length > MAX_MESSAGE_LENGTH) {
            throw new HandshakeException(Reason.MALFORMED_MESSAGE, "message " + (messageIndex + 1) + " has "
                    + message.length + " bytes, more than Noise's " + MAX_MESSAGE_LENGTH);
        }
        SymmetricState next = symmetric.copy();
        byte[] newRemoteEphemeral = remoteEphemeral;
        byte[] newRemoteStatic = remoteStatic;
        int at = 0;
        byte[] payload;
        try {
            switch (messageIndex) {
                case 0 -> {
                    newRemoteEphemeral = take(message, at, X25519.KEY_LENGTH, "e");
                    at += X25519.KEY_LENGTH;
                    next.mixHash(newRemoteEphemeral);
                }
                case 1 -> {
                    newRemoteEphemeral = take(message, at, X25519.KEY_LENGTH, "e");
                    at += X25519.KEY_LENGTH;
                    next.mixHash(newRemoteEphemeral);
                    next.mixKey(dh(localEphemeral.privateKey(), newRemoteEphemeral));
                    int staticLength = X25519.KEY_LENGTH + CipherState.TAG_LENGTH;
                    newRemoteStatic = next.decryptAndHash(take(message, at, staticLength, "s"));
                    at += staticLength;
                    next.mixKey(dh(localEphemeral.privateKey(), newRemoteStatic));
                }
                default -> {
                    int staticLength = X25519.KEY_LENGTH + CipherState.TAG_LENGTH;
                    newRemoteStatic = next.decryptAndHash(take(message, at, staticLength, "s"));
                    at += staticLength;
                    next.mixKey(dh(localEphemeral.privateKey(), newRemoteStatic));
                }
            }
            byte[] rest = Arrays.copyOfRange(message, at, message.length);
            if (next.hasKey() && rest.length < CipherState.TAG_LENGTH) {
                throw new HandshakeException(Reason.MALFORMED_MESSAGE, "message " + (messageIndex + 1)
                        + " is truncated: " + rest.length + " payload bytes, less than the 16-byte tag");
            }
            payload = next.decryptAndHash(rest);
            check.check(payload, newRemoteStatic);
        } catch (AEADBadTagException e) {
            next.erase();
            throw new HandshakeException(Reason.DECRYPTION_FAILED, "message " + (messageIndex + 1)
                    + " does not authenticate (tampered, wrong prologue, wrong suite or not for this handshake)", e);
        } catch (HandshakeException e) {
            next.erase();
            throw e;
        }
        remoteEphemeral = newRemoteEphemeral;
        remoteStatic = newRemoteStatic;
        commit(next, localEphemeral);
        return payload;
    }

    private void commit(SymmetricState next, X25519.KeyPairRaw ephemeral) {
        symmetric.erase();
        symmetric = next;
        localEphemeral = ephemeral;
        messageIndex++;
        if (isComplete()) {
            splitKeys = symmetric.split();
            finalHash = symmetric.handshakeHash();
            symmetric.erase();
        }
    }

    /** @return the current handshake hash h (after completion: the final one, for channel binding) */
    byte[] handshakeHash() {
        return finalHash != null ? finalHash.clone() : symmetric.handshakeHash();
    }

    /**
     * Split() once the handshake is complete: {initiator-to-responder key, responder-to-initiator
     * key, exporter secret}. Each call returns fresh copies.
     */
    byte[][] splitKeys() {
        if (!isComplete()) {
            throw new IllegalStateException("handshake not complete (next message " + (messageIndex + 1) + ")");
        }
        return new byte[][] {splitKeys[0].clone(), splitKeys[1].clone(), splitKeys[2].clone()};
    }

    /** @return whether this side is the initiator */
    boolean isInitiator() {
        return initiator;
    }

    /** @return the suite */
    NoiseSuite suite() {
        return suite;
    }

    /** Erases the chaining key, cipher key and split outputs held here. */
    void destroy() {
        symmetric.erase();
        if (splitKeys != null) {
            for (byte[] key : splitKeys) {
                Arrays.fill(key, (byte) 0);
            }
        }
    }

    private byte[] take(byte[] message, int at, int length, String token) throws HandshakeException {
        if (message.length - at < length) {
            throw new HandshakeException(Reason.MALFORMED_MESSAGE, "message " + (messageIndex + 1) + " is truncated: "
                    + message.length + " bytes, token '" + token + "' needs " + length + " at offset " + at);
        }
        return Arrays.copyOfRange(message, at, at + length);
    }

    private static byte[] dh(PrivateKey privateKey, byte[] remotePublic) throws HandshakeException {
        try {
            return X25519.agree(privateKey, remotePublic);
        } catch (InvalidKeyException e) {
            throw new HandshakeException(Reason.INVALID_PUBLIC_KEY, "X25519 with the peer's key failed: " + e.getMessage(), e);
        }
    }

    private static byte[] concat(byte[]... parts) {
        int length = 0;
        for (byte[] part : parts) {
            length += part.length;
        }
        byte[] out = new byte[length];
        int at = 0;
        for (byte[] part : parts) {
            System.arraycopy(part, 0, out, at, part.length);
            at += part.length;
        }
        return out;
    }
}
