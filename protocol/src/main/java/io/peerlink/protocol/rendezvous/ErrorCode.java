package io.peerlink.protocol.rendezvous;

/** The {@code code} of an {@code error} message (see docs/protocol-rendezvous.md, "Errors"). */
public enum ErrorCode {
    /** Not JSON, not an object, wrong JSON types, or no {@code type}. The connection stays open. */
    MALFORMED,
    /** A {@code type} this protocol version does not define. The connection stays open. */
    UNKNOWN_TYPE,
    /** A field is missing, out of range or badly encoded; the message names it. The connection stays open. */
    INVALID_FIELD,
    /** The message exceeds the size limit (64 KiB). The server closes the connection. */
    TOO_LARGE,
    /** {@code hello.v} is not a version this server speaks. The server closes the connection. */
    UNSUPPORTED_VERSION,
    /** Anything but {@code hello} before admission. The server closes the connection. */
    NOT_AUTHENTICATED,
    /** A second {@code hello} on an admitted connection: a challenge nonce is good for one use only. Closes. */
    ALREADY_AUTHENTICATED,
    /** The signature does not verify over this connection's nonce (forged, or replayed from another connection). Closes. */
    BAD_SIGNATURE,
    /** The hello was signed for another server name (a hello relayed from elsewhere, or a name this server does not answer to). Closes. */
    WRONG_SERVER,
    /** The public key does not derive the claimed device ID. Closes. */
    KEY_MISMATCH,
    /** The authenticator refused the device; the message says why. Closes. */
    DENIED,
    /** Too many messages on this connection; the message was dropped. Persistent abuse closes. */
    RATE_LIMITED,
    /** An {@code accept}/{@code reject} for a request that does not exist (any more). */
    UNKNOWN_REQUEST,
    /** The same device connected again; this older connection is closed. */
    REPLACED,
    /** No {@code hello} arrived in time after the challenge. Closes. */
    HELLO_TIMEOUT,
    /** The server failed; the message has no detail for the device. */
    INTERNAL,
    /**
     * A {@code resume} was not accepted (ticket expired, not issued by this server, for another device, or its proof does
     * not verify over this connection's nonce). The connection stays open and a fresh {@code challenge} follows, to be
     * answered with a full {@code hello} (protocol 2.1); a second {@code resume} on the same connection closes it.
     */
    TICKET_REJECTED
}
