package io.peerlink.core.internal.rendezvous.protocol;

import io.peerlink.Candidate;
import io.peerlink.DeviceId;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.rendezvous.Introduction;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A rendezvous control message (protocol v1, docs/protocol-rendezvous.md). Each record is one
 * {@code type}; {@link RendezvousCodec} maps them to and from JSON and validates every field, so
 * a record that exists is a valid message. Byte arrays are owned by the record: do not mutate.
 */
public sealed interface Message {

    /** Server to device on open: sign this nonce. @param nonce 32 random bytes @param serverTime epoch millis */
    record Challenge(byte[] nonce, long serverTime) implements Message {
        /** Validates. */
        public Challenge {
            Objects.requireNonNull(nonce, "nonce");
        }
    }

    /**
     * Device to server: prove the identity and register.
     *
     * @param v protocol version (1)
     * @param deviceId claimed device ID
     * @param publicKey raw 32-byte Ed25519 key
     * @param signature Ed25519 signature over {@link Handshake#signedPayload(byte[], DeviceId)}
     * @param claims untrusted claims, e.g. {@code network}
     * @param candidates the device's current candidates
     */
    record Hello(int v, DeviceId deviceId, byte[] publicKey, byte[] signature, Map<String, String> claims,
                 List<Candidate> candidates) implements Message {
        /** Validates and copies. */
        public Hello {
            Objects.requireNonNull(deviceId, "deviceId");
            Objects.requireNonNull(publicKey, "publicKey");
            Objects.requireNonNull(signature, "signature");
            claims = Map.copyOf(claims);
            candidates = List.copyOf(candidates);
        }
    }

    /** Server to device: admitted. @param sessionId server-chosen @param network admitted network @param keepaliveSeconds ping interval */
    record Welcome(String sessionId, String network, int keepaliveSeconds) implements Message {
        /** Validates. */
        public Welcome {
            Objects.requireNonNull(sessionId, "sessionId");
            Objects.requireNonNull(network, "network");
        }
    }

    /** Either direction: something went wrong. @param code what @param message detail @param requestId related request, or null */
    record Error(ErrorCode code, String message, Long requestId) implements Message {
        /** Validates. */
        public Error {
            Objects.requireNonNull(code, "code");
            Objects.requireNonNull(message, "message");
        }
    }

    /** Device to server: replaces the device's candidate list. @param candidates the new list */
    record Candidates(List<Candidate> candidates) implements Message {
        /** Copies. */
        public Candidates {
            candidates = List.copyOf(candidates);
        }
    }

    /** Device to server: introduce me to {@code to}. @param requestId device-chosen @param to target */
    record Connect(long requestId, DeviceId to) implements Message {
        /** Validates. */
        public Connect {
            Objects.requireNonNull(to, "to");
        }
    }

    /** Server to requester: the connect failed. @param requestId the connect's @param to target @param reason why @param detail text */
    record Unreachable(long requestId, DeviceId to, UnreachableException.Reason reason, String detail) implements Message {
        /** Validates. */
        public Unreachable {
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(reason, "reason");
            Objects.requireNonNull(detail, "detail");
        }
    }

    /** Server to target: {@code from} wants to connect. @param requestId server-chosen @param from requester */
    record Incoming(long requestId, DeviceId from) implements Message {
        /** Validates. */
        public Incoming {
            Objects.requireNonNull(from, "from");
        }
    }

    /** Target to server: accept an incoming request. @param requestId the incoming's */
    record Accept(long requestId) implements Message {
    }

    /** Target to server: decline. @param requestId the incoming's @param reason text for the requester */
    record Reject(long requestId, String reason) implements Message {
        /** Validates. */
        public Reject {
            Objects.requireNonNull(reason, "reason");
        }
    }

    /**
     * Server to both sides after accept.
     *
     * @param requestId the requester's connect ID (to the requester) or the incoming's ID (to the target)
     * @param peer the other device
     * @param peerCandidates its candidates
     * @param sessionToken one-time token, same for both sides
     * @param localConnectionId ID the peer addresses this device with
     * @param remoteConnectionId ID this device addresses the peer with
     * @param role INITIATOR for the requester
     * @param startInMillis delay before the synchronised start
     */
    record Introduce(long requestId, DeviceId peer, List<Candidate> peerCandidates, String sessionToken,
                     long localConnectionId, long remoteConnectionId, Introduction.Role role, long startInMillis)
            implements Message {
        /** Validates and copies. */
        public Introduce {
            Objects.requireNonNull(peer, "peer");
            peerCandidates = List.copyOf(peerCandidates);
            Objects.requireNonNull(sessionToken, "sessionToken");
            Objects.requireNonNull(role, "role");
        }
    }

    /** Keepalive and RTT probe, either direction. @param t sender's clock, echoed in the pong */
    record Ping(long t) implements Message {
    }

    /** Answer to a ping. @param t the ping's t */
    record Pong(long t) implements Message {
    }

    /** Device to server: is {@code of} online? @param requestId device-chosen @param of the peer */
    record Presence(long requestId, DeviceId of) implements Message {
        /** Validates. */
        public Presence {
            Objects.requireNonNull(of, "of");
        }
    }

    /** Server to device. @param requestId the presence's @param of the peer @param online true if reachable now */
    record PresenceResult(long requestId, DeviceId of, boolean online) implements Message {
        /** Validates. */
        public PresenceResult {
            Objects.requireNonNull(of, "of");
        }
    }
}
