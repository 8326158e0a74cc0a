package io.peerlink.gateway.internal;

import io.socket.socketio.server.SocketIoSocket;

import java.util.Optional;

/** A refused gateway event; {@code code} is sent to the gateway (docs/gateway.md, "Errors"). */
final class ProtocolError extends RuntimeException {

    static final String BAD_REQUEST = "bad-request";
    static final String PAYLOAD_TOO_LARGE = "payload-too-large";
    static final String UNAUTHENTICATED = "unauthenticated";
    static final String AUTH_FAILED = "auth-failed";
    static final String UNKNOWN_NONCE = "unknown-nonce";
    static final String EXPIRED_NONCE = "expired-nonce";
    static final String UNKNOWN_DEVICE = "unknown-device";
    static final String VERSION_CONFLICT = "version-conflict";
    static final String RATE_LIMITED = "rate-limited";
    static final String UNKNOWN_EVENT = "unknown-event";
    static final String ALREADY_AUTHENTICATED = "already-authenticated";
    static final String TOO_MANY_DEVICES = "too-many-devices";
    /** Several nodes: the shared state (Redis) cannot be reached; nothing was changed, retry later. */
    static final String UNAVAILABLE = "unavailable";

    final String code;
    final transient Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ack;

    ProtocolError(String code, String message, Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ack) {
        super(message, null, false, false);
        this.code = code;
        this.ack = ack;
    }
}
