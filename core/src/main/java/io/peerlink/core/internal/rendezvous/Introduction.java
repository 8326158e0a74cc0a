package io.peerlink.core.internal.rendezvous;

import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.Candidate;
import io.peerlink.DeviceId;

import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * What the rendezvous server tells both sides of an accepted connect: who the peer is, where to
 * try it, the one-time session token that binds the link set-up to this introduction, the
 * connection IDs each side puts in its link headers, its role, and when to start punching.
 *
 * @param peer the other device
 * @param peerCandidates its candidates, highest priority first
 * @param sessionToken one-time 128-bit random token (base64url, no padding), the same on both sides
 * @param localConnectionId the ID peers put in datagrams addressed to this device
 * @param remoteConnectionId the ID this device puts in datagrams addressed to the peer
 * @param role whether this device initiated the connect
 * @param startIn how long after receiving this to start connectivity checks (synchronised start)
 * @param requestId the introduction's request ID on this device's control connection (trickle refers to it)
 * @param relays TURN servers with credentials minted for this link (may be empty)
 */
public record Introduction(DeviceId peer, List<Candidate> peerCandidates, String sessionToken,
                           long localConnectionId, long remoteConnectionId, Role role, Duration startIn, long requestId,
                           List<RelayServer> relays) {

    /** Which side of the connect a device is on. */
    public enum Role {
        /** The device that asked to connect. */
        INITIATOR,
        /** The device that accepted. */
        RESPONDER
    }

    /** @throws NullPointerException if any reference component is null */
    public Introduction {
        Objects.requireNonNull(peer, "peer");
        peerCandidates = List.copyOf(Objects.requireNonNull(peerCandidates, "peerCandidates"));
        Objects.requireNonNull(sessionToken, "sessionToken");
        Objects.requireNonNull(role, "role");
        Objects.requireNonNull(startIn, "startIn");
        relays = List.copyOf(Objects.requireNonNull(relays, "relays"));
    }

    /**
     * An introduction without relays and request ID (tests).
     *
     * @param peer see above
     * @param peerCandidates see above
     * @param sessionToken see above
     * @param localConnectionId see above
     * @param remoteConnectionId see above
     * @param role see above
     * @param startIn see above
     */
    public Introduction(DeviceId peer, List<Candidate> peerCandidates, String sessionToken, long localConnectionId,
                        long remoteConnectionId, Role role, Duration startIn) {
        this(peer, peerCandidates, sessionToken, localConnectionId, remoteConnectionId, role, startIn, -1, List.of());
    }
}
