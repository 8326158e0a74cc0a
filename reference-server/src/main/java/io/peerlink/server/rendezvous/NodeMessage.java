package io.peerlink.server.rendezvous;

import jakarta.json.bind.annotation.JsonbSubtype;
import jakarta.json.bind.annotation.JsonbTypeInfo;

/**
 * What one reference-server node tells another about a connect request between a device of each
 * (docs/operations.md, "Several nodes on Redis"): JSON written by JSON-B, tagged by {@code t}.
 * The requester's node owns the request (its timeout and its answer to the requester); the
 * target's node asks its device and builds the introduction for both sides, so an introduction
 * is made in one place whichever nodes the devices are on. Device-facing messages travel as the
 * rendezvous protocol's own JSON text.
 */
@JsonbTypeInfo(key = "t", value = {
        @JsonbSubtype(alias = "connect", type = NodeMessage.Connect.class),
        @JsonbSubtype(alias = "introduce", type = NodeMessage.Introduce.class),
        @JsonbSubtype(alias = "unreachable", type = NodeMessage.Unreachable.class),
        @JsonbSubtype(alias = "peer-offline", type = NodeMessage.PeerOffline.class),
        @JsonbSubtype(alias = "relay", type = NodeMessage.Relay.class)
})
public sealed interface NodeMessage {

    /**
     * A device of the sending node asks to reach a device of the receiving node; the access
     * policy has allowed it.
     *
     * @param fromNode the requester's node, where the answer goes
     * @param pendingId the request's id on the requester's node
     * @param requestId the requester's own request id (goes into its introduction)
     * @param requester the requesting device
     * @param candidates the requester's candidates, as the JSON of a {@code candidates} message
     * @param minRttMillis the requester's smallest control-connection RTT, negative if unmeasured
     * @param target the device asked for
     */
    record Connect(String fromNode, long pendingId, long requestId, String requester, String candidates,
                   double minRttMillis, String target) implements NodeMessage {
    }

    /**
     * The target accepted: the requester's introduction, ready to send.
     *
     * @param pendingId the request's id on the requester's node
     * @param introduce the requester's {@code introduce} message (JSON)
     */
    record Introduce(long pendingId, String introduce) implements NodeMessage {
    }

    /**
     * The request ended without an introduction.
     *
     * @param pendingId the request's id on the requester's node
     * @param reason an {@link io.peerlink.UnreachableException.Reason} name
     * @param message detail for the requester, or null
     */
    record Unreachable(long pendingId, String reason, String message) implements NodeMessage {
    }

    /**
     * A device went offline; tell one device of the receiving node that was introduced to it.
     *
     * @param device the device to tell
     * @param gone the device that went offline
     */
    record PeerOffline(String device, String gone) implements NodeMessage {
    }

    /**
     * A relay frame between a device of the sending node and a device of the receiving node
     * (docs/relay.md, "WebSocket relay"); the sending node checked the sender's side.
     *
     * @param from the sending device
     * @param to the device it is for, on the receiving node
     * @param data the datagram, base64
     */
    record Relay(String from, String to, String data) implements NodeMessage {
    }
}
