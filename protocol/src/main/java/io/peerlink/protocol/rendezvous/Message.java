package io.peerlink.protocol.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.DeviceId;
import io.peerlink.PathKind;
import io.peerlink.UnreachableException;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.json.bind.annotation.JsonbSubtype;
import jakarta.json.bind.annotation.JsonbTypeDeserializer;
import jakarta.json.bind.annotation.JsonbTypeSerializer;
import jakarta.json.bind.annotation.JsonbTypeInfo;

import java.util.List;
import java.util.Map;

/**
 * A rendezvous control message (docs/protocol-rendezvous.md). Each record is one {@code type};
 * JSON-B maps the {@code type} key to the record through the {@link JsonbTypeInfo} below, and each
 * record's constructor validates its fields (throwing {@link FieldException}), so a record that
 * exists is a valid message. {@link RendezvousCodec} adds what JSON-B cannot say: strict JSON
 * types, integer ranges and no trailing data. Byte arrays are owned by the record: do not mutate.
 */
@JsonbTypeInfo(key = "type", value = {
        @JsonbSubtype(alias = "challenge", type = Message.Challenge.class),
        @JsonbSubtype(alias = "hello", type = Message.Hello.class),
        @JsonbSubtype(alias = "resume", type = Message.Resume.class),
        @JsonbSubtype(alias = "welcome", type = Message.Welcome.class),
        @JsonbSubtype(alias = "error", type = Message.Error.class),
        @JsonbSubtype(alias = "candidates", type = Message.Candidates.class),
        @JsonbSubtype(alias = "connect", type = Message.Connect.class),
        @JsonbSubtype(alias = "unreachable", type = Message.Unreachable.class),
        @JsonbSubtype(alias = "incoming", type = Message.Incoming.class),
        @JsonbSubtype(alias = "accept", type = Message.Accept.class),
        @JsonbSubtype(alias = "reject", type = Message.Reject.class),
        @JsonbSubtype(alias = "introduce", type = Message.Introduce.class),
        @JsonbSubtype(alias = "ping", type = Message.Ping.class),
        @JsonbSubtype(alias = "pong", type = Message.Pong.class),
        @JsonbSubtype(alias = "presence", type = Message.Presence.class),
        @JsonbSubtype(alias = "presenceResult", type = Message.PresenceResult.class),
        @JsonbSubtype(alias = "peer-offline", type = Message.PeerOffline.class),
        @JsonbSubtype(alias = "link-report", type = Message.LinkReport.class),
        @JsonbSubtype(alias = "trickle", type = Message.Trickle.class)
})
public sealed interface Message {

    /**
     * Server to device on open: sign this nonce.
     *
     * @param nonce 32 random bytes (base64 on the wire)
     * @param serverTime epoch millis
     */
    @JsonbPropertyOrder({"nonce", "serverTime"})
    record Challenge(byte[] nonce, long serverTime) implements Message {
        /** @throws FieldException if the nonce is not 32 bytes */
        public Challenge {
            Check.length(nonce, Handshake.NONCE_LENGTH, "nonce");
        }
    }

    /**
     * Device to server: prove the identity and register.
     *
     * @param v protocol version ({@link Handshake#VERSION})
     * @param deviceId claimed device ID
     * @param publicKey raw 32-byte Ed25519 key (base64)
     * @param signature 64-byte Ed25519 signature over {@link Handshake#signedPayload(byte[], DeviceId, String)} (base64)
     * @param server the server name the device dialed and signed ({@link Handshake#serverName(java.net.URI)})
     * @param claims untrusted claims, e.g. {@code network}; absent = none
     * @param candidates the device's current candidates; absent = none
     */
    @JsonbPropertyOrder({"v", "deviceId", "publicKey", "signature", "server", "claims", "candidates"})
    record Hello(int v, DeviceId deviceId, byte[] publicKey, byte[] signature, String server, Map<String, String> claims,
                 List<Candidate> candidates) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Hello {
            Check.present(deviceId, "deviceId");
            Check.length(publicKey, 32, "publicKey");
            Check.length(signature, 64, "signature");
            Check.text(server, "server");
            claims = Check.claims(claims);
            candidates = Check.candidates(candidates, "candidates");
        }
    }

    /**
     * Device to server, instead of {@link Hello}: re-admission with a resumption ticket an earlier
     * {@link Welcome} of this server gave the device (protocol 2.1, docs/protocol-rendezvous.md,
     * "Resumption tickets"). The server checks an HMAC instead of an Ed25519 signature.
     *
     * @param v protocol version ({@link Handshake#VERSION})
     * @param deviceId the device the ticket was issued to
     * @param server the server name the device dialed ({@link Handshake#serverName(java.net.URI)})
     * @param ticket the ticket exactly as the server issued it (opaque to the device)
     * @param proof 32-byte {@link Handshake#resumeProof(byte[], byte[], DeviceId, String)} over this connection's nonce (base64)
     * @param claims untrusted claims, as in hello; absent = none
     * @param candidates the device's current candidates; absent = none
     */
    @JsonbPropertyOrder({"v", "deviceId", "server", "ticket", "proof", "claims", "candidates"})
    record Resume(int v, DeviceId deviceId, String server, String ticket, byte[] proof, Map<String, String> claims,
                  List<Candidate> candidates) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Resume {
            Check.present(deviceId, "deviceId");
            Check.text(server, "server");
            Check.ticket(ticket, "ticket");
            Check.length(proof, Handshake.RESUME_PROOF_LENGTH, "proof");
            claims = Check.claims(claims);
            candidates = Check.candidates(candidates, "candidates");
        }
    }

    /**
     * Server to device: admitted.
     *
     * @param sessionId server-chosen
     * @param network admitted network
     * @param keepaliveSeconds ping interval, 1..3600
     * @param ticket a resumption ticket for the next admission at this server (protocol 2.1), or null: keep the one held
     * @param resumptionSecret the 32-byte secret that goes with {@code ticket} (base64); present exactly when the ticket is
     */
    @JsonbPropertyOrder({"sessionId", "network", "keepaliveSeconds", "ticket", "resumptionSecret"})
    record Welcome(String sessionId, String network, int keepaliveSeconds, String ticket, byte[] resumptionSecret)
            implements Message {
        /** @throws FieldException if a field is missing or out of range */
        @jakarta.json.bind.annotation.JsonbCreator
        public Welcome {
            Check.text(sessionId, "sessionId");
            Check.text(network, "network");
            Check.range(keepaliveSeconds, 1, 3600, "keepaliveSeconds");
            if (ticket != null || resumptionSecret != null) {
                Check.ticket(ticket, "ticket");
                Check.length(resumptionSecret, Handshake.RESUMPTION_SECRET_LENGTH, "resumptionSecret");
            }
        }

        /**
         * A welcome without a ticket (protocol 2 without the 2.1 fields).
         *
         * @param sessionId see above
         * @param network see above
         * @param keepaliveSeconds see above
         */
        public Welcome(String sessionId, String network, int keepaliveSeconds) {
            this(sessionId, network, keepaliveSeconds, null, null);
        }
    }

    /**
     * Either direction: something went wrong.
     *
     * @param code what
     * @param message detail
     * @param requestId related request, or null
     */
    @JsonbPropertyOrder({"code", "message", "requestId"})
    record Error(ErrorCode code, String message, Long requestId) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Error {
            Check.present(code, "code");
            Check.text(message, "message");
            if (requestId != null) {
                Check.requestId(requestId);
            }
        }
    }

    /** Device to server: replaces the device's candidate list. @param candidates the new list */
    record Candidates(List<Candidate> candidates) implements Message {
        /** @throws FieldException if there are too many */
        public Candidates {
            candidates = Check.candidates(candidates, "candidates");
        }
    }

    /** Device to server: introduce me to {@code to}. @param requestId device-chosen @param to target */
    @JsonbPropertyOrder({"requestId", "to"})
    record Connect(long requestId, DeviceId to) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Connect {
            Check.requestId(requestId);
            Check.present(to, "to");
        }
    }

    /**
     * Server to requester: the connect failed.
     *
     * @param requestId the connect's
     * @param to target
     * @param reason why
     * @param message detail text; absent = empty
     */
    @JsonbPropertyOrder({"requestId", "to", "reason", "message"})
    record Unreachable(long requestId, DeviceId to, UnreachableException.Reason reason, String message) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Unreachable {
            Check.requestId(requestId);
            Check.present(to, "to");
            Check.present(reason, "reason");
            message = Check.optionalText(message, "message");
        }
    }

    /** Server to target: {@code from} wants to connect. @param requestId server-chosen @param from requester */
    @JsonbPropertyOrder({"requestId", "from"})
    record Incoming(long requestId, DeviceId from) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Incoming {
            Check.requestId(requestId);
            Check.present(from, "from");
        }
    }

    /** Target to server: accept an incoming request. @param requestId the incoming's */
    record Accept(long requestId) implements Message {
        /** @throws FieldException if out of range */
        public Accept {
            Check.requestId(requestId);
        }
    }

    /** Target to server: decline. @param requestId the incoming's @param reason text for the requester; absent = empty */
    @JsonbPropertyOrder({"requestId", "reason"})
    record Reject(long requestId, String reason) implements Message {
        /** @throws FieldException if a field is out of range */
        public Reject {
            Check.requestId(requestId);
            reason = Check.optionalText(reason, "reason");
        }
    }

    /**
     * Server to both sides after accept.
     *
     * @param requestId the requester's connect ID (to the requester) or the incoming's ID (to the target)
     * @param peer the other device
     * @param peerCandidates its candidates
     * @param sessionToken one-time 128-bit token (base64url), same for both sides
     * @param localConnectionId ID the peer addresses this device with (16 hex digits)
     * @param remoteConnectionId ID this device addresses the peer with (16 hex digits)
     * @param role INITIATOR for the requester
     * @param startInMillis delay before the synchronised start, 0..60000
     * @param relays TURN servers with credentials minted for this link (optional, at most
     *        {@link RendezvousCodec#MAX_RELAYS}; null when absent or empty: use {@link #relayServers()})
     */
    @JsonbPropertyOrder({"requestId", "peer", "peerCandidates", "sessionToken", "localConnectionId", "remoteConnectionId",
            "role", "startInMillis", "relays"})
    record Introduce(long requestId, DeviceId peer, List<Candidate> peerCandidates, String sessionToken,
                     @JsonbTypeSerializer(Adapters.ConnectionIdWriter.class) @JsonbTypeDeserializer(Adapters.ConnectionIdReader.class)
                     long localConnectionId,
                     @JsonbTypeSerializer(Adapters.ConnectionIdWriter.class) @JsonbTypeDeserializer(Adapters.ConnectionIdReader.class)
                     long remoteConnectionId, Role role, long startInMillis, List<RelayServer> relays)
            implements Message {
        /** @throws FieldException if a field is missing or out of range */
        @jakarta.json.bind.annotation.JsonbCreator
        public Introduce {
            Check.requestId(requestId);
            Check.present(peer, "peer");
            peerCandidates = Check.candidates(peerCandidates, "peerCandidates");
            Check.sessionToken(sessionToken);
            Check.present(role, "role");
            Check.range(startInMillis, 0, 60_000, "startInMillis");
            relays = Check.relays(relays);
        }

        /**
         * An introduction without relays (protocol 2 without the {@code relays} field).
         *
         * @param requestId see above
         * @param peer see above
         * @param peerCandidates see above
         * @param sessionToken see above
         * @param localConnectionId see above
         * @param remoteConnectionId see above
         * @param role see above
         * @param startInMillis see above
         */
        public Introduce(long requestId, DeviceId peer, List<Candidate> peerCandidates, String sessionToken, long localConnectionId,
                         long remoteConnectionId, Role role, long startInMillis) {
            this(requestId, peer, peerCandidates, sessionToken, localConnectionId, remoteConnectionId, role, startInMillis, null);
        }

        /** @return the relays, empty if none */
        public List<RelayServer> relayServers() {
            return relays == null ? List.of() : relays;
        }
    }

    /**
     * Either direction, after an introduction: candidates learned late (a relayed address
     * allocated after the introduction), for the peer of that introduction only.
     *
     * @param requestId the {@code requestId} of the {@code introduce} the receiving side got (device to
     *        server: the one this device got; server to device: the one the receiver got)
     * @param candidates the new candidates (at most {@link RendezvousCodec#MAX_CANDIDATES})
     */
    @JsonbPropertyOrder({"requestId", "candidates"})
    record Trickle(long requestId, List<Candidate> candidates) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Trickle {
            Check.requestId(requestId);
            candidates = Check.candidates(candidates, "candidates");
        }
    }

    /** Keepalive and RTT probe, either direction. @param t sender's clock, echoed in the pong */
    record Ping(long t) implements Message {
    }

    /** Answer to a ping. @param t the ping's t */
    record Pong(long t) implements Message {
    }

    /** Device to server: is {@code of} online? @param requestId device-chosen @param of the peer */
    @JsonbPropertyOrder({"requestId", "of"})
    record Presence(long requestId, DeviceId of) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public Presence {
            Check.requestId(requestId);
            Check.present(of, "of");
        }
    }

    /** Server to device. @param requestId the presence's @param of the peer @param online true if reachable now */
    @JsonbPropertyOrder({"requestId", "of", "online"})
    record PresenceResult(long requestId, DeviceId of, boolean online) implements Message {
        /** @throws FieldException if a field is missing or out of range */
        public PresenceResult {
            Check.requestId(requestId);
            Check.present(of, "of");
        }
    }

    /**
     * Server to device: a device this one was introduced to has lost its control connection
     * (closed, or silent past the keepalive limit) and has not come back on another one.
     *
     * @param peer the device that went offline
     */
    record PeerOffline(DeviceId peer) implements Message {
        /** @throws FieldException if a field is missing */
        public PeerOffline {
            Check.present(peer, "peer");
        }
    }

    /**
     * Device to server: the device's open links to devices this server introduced it to, for the
     * operator's dashboard (docs/protocol-rendezvous.md, "Link reports"). Replaces the previous
     * report; an empty list means no open link. Sent at most once per second.
     *
     * @param links at most {@link RendezvousCodec#MAX_LINKS} entries, one per peer
     */
    record LinkReport(List<Link> links) implements Message {
        /** @throws FieldException if there are too many entries, or a peer appears twice */
        public LinkReport {
            if (links == null) {
                links = List.of();
            }
            if (links.size() > RendezvousCodec.MAX_LINKS) {
                throw new FieldException("links", "has " + links.size() + " entries, at most " + RendezvousCodec.MAX_LINKS + " allowed");
            }
            java.util.Set<DeviceId> peers = new java.util.HashSet<>();
            for (int i = 0; i < links.size(); i++) {
                Link l = Check.present(links.get(i), "links[" + i + "]");
                if (!peers.add(l.peer())) {
                    throw new FieldException("links[" + i + "].peer", "appears twice");
                }
            }
            links = List.copyOf(links);
        }

        /**
         * One link as its device sees it.
         *
         * @param peer the device at the other end
         * @param path the kind of the link's active path
         * @param rttMicros smoothed round-trip time on the link, microseconds (0..60,000,000; 0 = not measured)
         * @param bytesSent datagram bytes sent on the link since it opened (0..2^53-1)
         * @param bytesReceived datagram bytes received on the link since it opened (0..2^53-1)
         */
        @JsonbPropertyOrder({"peer", "path", "rttMicros", "bytesSent", "bytesReceived"})
        public record Link(DeviceId peer, PathKind path, long rttMicros, long bytesSent, long bytesReceived) {
            /** @throws FieldException if a field is missing or out of range */
            public Link {
                Check.present(peer, "links.peer");
                Check.present(path, "links.path");
                Check.range(rttMicros, 0, 60_000_000L, "links.rttMicros");
                Check.range(bytesSent, 0, RendezvousCodec.MAX_REQUEST_ID, "links.bytesSent");
                Check.range(bytesReceived, 0, RendezvousCodec.MAX_REQUEST_ID, "links.bytesReceived");
            }
        }
    }
}
