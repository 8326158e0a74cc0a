package io.peerlink;

import java.util.Objects;

/**
 * How a channel ended.
 *
 * @param code {@link #NORMAL} for a graceful close, otherwise an error code (see docs/protocol.md)
 * @param message human-readable detail, never null
 * @param byPeer true if the peer closed the channel, false if this side did
 */
public record CloseReason(int code, String message, boolean byPeer) {
    /** Graceful close: all data was delivered and acknowledged. */
    public static final int NORMAL = 0;
    /** The application aborted the channel; unacknowledged data was discarded. */
    public static final int ABORTED = 1;
    /** Nothing was heard from the peer within the idle timeout. */
    public static final int IDLE_TIMEOUT = 2;
    /** The peer violated the protocol (malformed frame, flow-control violation, ...). */
    public static final int PROTOCOL_VIOLATION = 3;
    /** The underlying transport failed or was destroyed. */
    public static final int TRANSPORT_FAILED = 4;
    /** The handshake did not complete in time. */
    public static final int HANDSHAKE_TIMEOUT = 5;
    /** The local runtime shut down. */
    public static final int SHUTDOWN = 6;
    /**
     * The rendezvous server reported that the peer lost its control connection, and the peer did
     * not answer a PING over the link within 1 s: it is gone (process ended, host down), noticed in
     * about a second instead of at the idle timeout. A peer that only lost the server keeps its
     * links.
     */
    public static final int PEER_OFFLINE = 7;

    /**
     * Validates the components.
     *
     * @param code {@link #NORMAL} for a graceful close, otherwise an error code (see docs/protocol.md)
     * @param message human-readable detail, never null
     * @param byPeer true if the peer closed the channel, false if this side did
     * @throws NullPointerException if message is null
     */
    public CloseReason {
        Objects.requireNonNull(message, "message");
    }

    /** @return true for {@link #NORMAL} */
    public boolean isGraceful() {
        return code == NORMAL;
    }

    @Override
    public String toString() {
        return "code " + code + (byPeer ? " by peer" : " locally") + (message.isEmpty() ? "" : ": " + message);
    }
}
