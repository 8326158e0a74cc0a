package io.peerlink.core.internal.rendezvous.protocol;

import jakarta.json.bind.annotation.JsonbPropertyOrder;

import java.util.List;
import java.util.Map;

/**
 * The JSON shape of every rendezvous message: the union of all message fields, absent ones null
 * (and omitted on the wire). Decoding into this one class first and then into a typed
 * {@link Message} lets the codec tell malformed JSON, an unknown {@code type} and an invalid
 * field apart, each with its own error code. Only {@link RendezvousCodec} uses it.
 */
@JsonbPropertyOrder({"type", "v", "requestId"})
public final class WireFrame {
    /** Message type. */
    public String type;
    /** Protocol version (hello). */
    public Integer v;
    /** Request correlation. */
    public Long requestId;
    /** Challenge nonce, base64. */
    public String nonce;
    /** Server clock, epoch millis. */
    public Long serverTime;
    /** Device ID. */
    public String deviceId;
    /** Raw Ed25519 public key, base64. */
    public String publicKey;
    /** Ed25519 signature, base64. */
    public String signature;
    /** Device claims. */
    public Map<String, String> claims;
    /** Candidate list. */
    public List<WireCandidate> candidates;
    /** Session ID (welcome). */
    public String sessionId;
    /** Network (welcome). */
    public String network;
    /** Keepalive interval in seconds (welcome). */
    public Integer keepaliveSeconds;
    /** Error code. */
    public String code;
    /** Error text. */
    public String message;
    /** Target device. */
    public String to;
    /** Requesting device. */
    public String from;
    /** Unreachable/reject reason. */
    public String reason;
    /** Peer device (introduce). */
    public String peer;
    /** Peer candidates (introduce). */
    public List<WireCandidate> peerCandidates;
    /** One-time session token (introduce). */
    public String sessionToken;
    /** Local connection ID, 16 hex digits (introduce). */
    public String localConnectionId;
    /** Remote connection ID, 16 hex digits (introduce). */
    public String remoteConnectionId;
    /** INITIATOR or RESPONDER (introduce). */
    public String role;
    /** Synchronised start delay in ms (introduce). */
    public Long startInMillis;
    /** Ping/pong timestamp. */
    public Long t;
    /** Presence subject. */
    public String of;
    /** Presence answer. */
    public Boolean online;

    /** A candidate on the wire. */
    @JsonbPropertyOrder({"type", "endpoint", "priority"})
    public static final class WireCandidate {
        /** HOST, SERVER_REFLEXIVE, PEER_REFLEXIVE or RELAY. */
        public String type;
        /** Endpoint URI, e.g. {@code udp://192.0.2.10:40000}. */
        public String endpoint;
        /** ICE priority, 0..2^32-1. */
        public Long priority;
    }
}
