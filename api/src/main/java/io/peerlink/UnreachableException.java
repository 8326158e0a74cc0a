package io.peerlink;

import java.util.Objects;

/**
 * A peer could not be reached; {@link #reason()} says why, and {@link #getCause()}, where there is
 * one, what failed underneath (e.g. "connection refused to ws://..." for the rendezvous server).
 */
public class UnreachableException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    /** Why a peer is unreachable. */
    public enum Reason {
        /** The peer is known but has no control connection to the rendezvous server. */
        OFFLINE,
        /** The access policy does not allow this device to reach the peer. */
        DENIED,
        /**
         * The server knows no device with that ID that this device may reach: either the ID was
         * never admitted since the server process started (a mistyped ID, a device that has not
         * connected since the server restarted) or the access policy does not let this device
         * reach it. The server deliberately does not say which, so that IDs cannot be probed.
         */
        UNKNOWN,
        /** The peer declined the incoming link. */
        REJECTED,
        /** Both sides were introduced but no candidate pair got through and no relay was available. */
        NO_PATH,
        /**
         * No link within the connect timeout ({@link Device.Builder#connectTimeout}, default 10 s,
         * plus the connectivity checks' duration); {@link #getCause()} carries the last failure
         * underneath if there was one (e.g. the rendezvous connection's).
         */
        TIMEOUT,
        /**
         * The device has no working connection to its rendezvous server right now, so it cannot
         * ask for an introduction; {@link #getCause()} says why (connection refused, host not
         * resolvable, TLS or pin failure, admission rejected). Fails at once rather than at the
         * timeout. The device keeps reconnecting; try again later.
         */
        NO_RENDEZVOUS,
        /**
         * The handshake proved another identity than the one expected (a device in the middle, a
         * rendezvous server or a stale endpoint pointing elsewhere).
         */
        WRONG_PEER
    }

    private final transient DeviceId peer;
    /** Why the peer is unreachable. */
    private final Reason reason;

    /**
     * @param peer the device that could not be reached, or {@code null} for a bare endpoint
     * @param reason why
     * @param detail human-readable detail
     * @throws NullPointerException if {@code reason} is null
     */
    public UnreachableException(DeviceId peer, Reason reason, String detail) {
        this(peer, reason, detail, null);
    }

    /**
     * @param peer the device that could not be reached, or {@code null} for a bare endpoint
     * @param reason why
     * @param detail human-readable detail
     * @param cause what failed underneath, or {@code null}
     * @throws NullPointerException if {@code reason} is null
     */
    public UnreachableException(DeviceId peer, Reason reason, String detail, Throwable cause) {
        super((peer == null ? "peer" : peer.toString()) + " is unreachable: " + reason + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"), cause);
        this.peer = peer;
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    /** @return the device that could not be reached, or {@code null} for a bare endpoint */
    public DeviceId peer() {
        return peer;
    }

    /** @return why the peer is unreachable */
    public Reason reason() {
        return reason;
    }
}
