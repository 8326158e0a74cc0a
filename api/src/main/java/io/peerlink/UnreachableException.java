package io.peerlink;

import java.util.Objects;

/** A peer could not be reached; {@link #reason()} says why. */
public class UnreachableException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    /** Why a peer is unreachable. */
    public enum Reason {
        /** The peer is known but has no control connection to the rendezvous server. */
        OFFLINE,
        /** The access policy does not allow this device to reach the peer. */
        DENIED,
        /** No device with that ID has ever been admitted. */
        UNKNOWN,
        /** The peer declined the incoming link. */
        REJECTED,
        /** Both sides were introduced but no candidate pair got through and no relay was available. */
        NO_PATH,
        /** The peer did not answer in time. */
        TIMEOUT,
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
        super((peer == null ? "peer" : peer.toString()) + " is unreachable: " + reason + (detail == null || detail.isEmpty() ? "" : " (" + detail + ")"));
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
