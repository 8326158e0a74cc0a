package io.peerlink.core.internal.rendezvous.protocol;

import io.peerlink.DeviceId;

import java.nio.charset.StandardCharsets;

/** What a device signs in its {@code hello}. */
public final class Handshake {
    /** Domain-separation prefix: a signature made for the rendezvous can be used for nothing else. */
    public static final String CONTEXT = "peerlink-rendezvous-v1";
    /** Bytes of a challenge nonce. */
    public static final int NONCE_LENGTH = 32;
    /** The protocol version this code speaks. */
    public static final int VERSION = 1;
    /** The WebSocket path of protocol v1. */
    public static final String PATH = "/peerlink/v1";

    private Handshake() {
    }

    /**
     * @param nonce the server's 32-byte challenge nonce for this connection
     * @param deviceId the device's ID
     * @return {@code UTF-8(CONTEXT) || nonce || ASCII(deviceId)}
     */
    public static byte[] signedPayload(byte[] nonce, DeviceId deviceId) {
        byte[] context = CONTEXT.getBytes(StandardCharsets.US_ASCII);
        byte[] id = deviceId.value().getBytes(StandardCharsets.US_ASCII);
        byte[] out = new byte[context.length + nonce.length + id.length];
        System.arraycopy(context, 0, out, 0, context.length);
        System.arraycopy(nonce, 0, out, context.length, nonce.length);
        System.arraycopy(id, 0, out, context.length + nonce.length, id.length);
        return out;
    }
}
