package io.peerlink.server.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;

import java.util.List;
import java.util.concurrent.ScheduledFuture;

/**
 * The server's state for one control connection. Its own messages arrive serially (the
 * WebSocket delivers one at a time per connection); other devices' threads only read the
 * volatile fields and send to its {@link Connection}.
 */
public final class ControlSession {
    final RendezvousService service;
    final Connection connection;
    /** The challenge nonce; null once used (one hello per nonce). */
    byte[] nonce;
    long challengeSentNanos;
    ScheduledFuture<?> helloTimeout;
    /** Counted among the service's handshakes in flight (from the challenge to admission or close); guarded by this. */
    boolean handshaking;
    /** A resume on this connection was answered with TICKET_REJECTED (a second one closes it). */
    boolean ticketRejected;
    volatile boolean closed;
    private volatile DeviceId deviceId;
    private volatile String network;
    volatile List<Candidate> candidates = List.of();

    /** An introduction this device got: its request ID maps to the peer's session and the peer's request ID. */
    record Introduced(ControlSession peer, long peerRequestId, long atNanos) {
    }

    /** Introductions remembered for trickle, at most this many (the oldest is forgotten first). */
    static final int MAX_INTRODUCED = 64;
    /** How long an introduction accepts trickled candidates. */
    static final long INTRODUCED_NANOS = 120_000_000_000L;
    private final java.util.LinkedHashMap<Long, Introduced> introductions = new java.util.LinkedHashMap<>();

    synchronized void introduced(long requestId, ControlSession peer, long peerRequestId) {
        introductions.remove(requestId);
        introductions.put(requestId, new Introduced(peer, peerRequestId, System.nanoTime()));
        while (introductions.size() > MAX_INTRODUCED) {
            introductions.remove(introductions.keySet().iterator().next());
        }
    }

    /** @return the recent introduction this device got under {@code requestId}, or null */
    synchronized Introduced introduced(long requestId) {
        Introduced i = introductions.get(requestId);
        if (i != null && System.nanoTime() - i.atNanos() > INTRODUCED_NANOS) {
            introductions.remove(requestId);
            return null;
        }
        return i;
    }
    /** Devices introduced to this one; told when this one goes offline. */
    final java.util.Set<DeviceId> introducedTo = java.util.concurrent.ConcurrentHashMap.newKeySet();
    volatile long lastSeenNanos;
    /** The device ID the hello claimed (verified only once admitted); for the operator's view of refusals. */
    volatile DeviceId claimedId;
    /** When the connection opened, epoch ms. */
    final long openedAtMillis = System.currentTimeMillis();
    /** The device's last accepted link report (docs/protocol-rendezvous.md, "Link reports"). */
    volatile List<Message.LinkReport.Link> links = List.of();
    volatile long linksAtMillis;
    long lastLinkReportNanos = Long.MIN_VALUE / 2;
    /** Smoothed control-connection RTT in ms (RFC 6298 style, alpha 1/8); negative until measured. */
    volatile double srttMillis = -1;
    // token bucket for the per-connection rate limit
    double tokens;
    long lastRefillNanos;
    long lastRateErrorNanos;
    int consecutiveDrops;

    ControlSession(RendezvousService service, Connection connection) {
        this.service = service;
        this.connection = connection;
    }

    /** Peers the device's latest link report names (unchecked claims; {@link WsRelay} checks them against the policy). */
    volatile java.util.Set<DeviceId> reportedPeers = java.util.Set.of();
    /** Reported peers the access policy was found to let this device reach (a cache for {@link WsRelay}). */
    final java.util.Set<DeviceId> relayChecked = java.util.concurrent.ConcurrentHashMap.newKeySet();

    /** Relay budgets of this device's WebSocket-relayed peers (see {@link WsRelay}). */
    final java.util.Map<DeviceId, io.peerlink.relay.turn.RelayBudget> relayBudgets = new java.util.HashMap<>();

    /** @param frame one binary message from the device (a relay frame); only valid during the call */
    public void onBinary(java.nio.ByteBuffer frame) {
        service.onBinary(this, frame);
    }

    /** @param text one text message from the device */
    public void onText(String text) {
        service.onText(this, text);
    }

    /** The connection is gone (closed by either side or failed). */
    public void onClose() {
        service.onClose(this);
    }

    void admit(DeviceId id, String admittedNetwork) {
        this.deviceId = id;
        this.network = admittedNetwork;
    }

    /** @return the admitted device, or null before admission */
    public DeviceId deviceId() {
        return deviceId;
    }

    /** @return the admitted network, or null before admission */
    public String network() {
        return network;
    }

    boolean admitted() {
        return deviceId != null;
    }

    void send(Message message) {
        if (!closed) {
            connection.send(service.codec().encode(message));
        }
    }

    /** @param json an encoded message, e.g. one another node built */
    void sendText(String json) {
        if (!closed) {
            connection.send(json);
        }
    }

    void sendError(ErrorCode code, String text, Long requestId) {
        send(new Message.Error(code, text, requestId));
    }

    void fail(ErrorCode code, String text, int closeCode) {
        if (!admitted() && !closed) {
            service.events().refused(code, text, connection.remoteAddress(), claimedId);
        }
        sendError(code, text, null);
        closed = true;
        service.handshakeOver(this);
        connection.close(closeCode, code.name());
    }

    /**
     * Smallest RTT sample in ms; negative until measured. The synchronised start uses this, not
     * the smoothed RTT: early samples of a freshly started device include its cold start (class
     * loading, first signature), and an over-estimate on one side makes the other start late —
     * enough to let a full-TTL probe reach a NAT before its own device's opener (seen in the NAT lab).
     */
    volatile double minRttMillis = -1;

    void rttSample(double millis) {
        double current = srttMillis;
        srttMillis = current < 0 ? millis : current * 7 / 8 + millis / 8;
        double min = minRttMillis;
        minRttMillis = min < 0 ? millis : Math.min(min, millis);
    }
}
