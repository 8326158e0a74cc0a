package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.RelayFrame;
import io.peerlink.relay.turn.RelayBudget;
import io.peerlink.server.ServerConfig;

import java.nio.ByteBuffer;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The last-resort relay (docs/relay.md, "WebSocket relay"): sealed datagrams between two devices
 * over their rendezvous WebSockets, addressed by device ID, when nothing else gets out (UDP and the
 * TURN ports blocked). Only between devices the rendezvous introduced to each other (the TURN
 * permission rule), under the limits of the embedded TURN server ({@code turn.*}): each device and
 * peer has a {@link RelayBudget} (bytes over its life, both directions, and a rate), one device
 * relays with at most {@code turn.allocations-per-device} peers at once, and frames go out through
 * the connection's bounded queue (a slow reader is disconnected). Frames that break a rule are
 * dropped and counted, as a TURN server drops datagrams. A frame for a device on another node
 * (Redis) crosses as a {@link NodeMessage.Relay}: the sender's node checks and charges the sender's
 * side, the receiver's node the receiver's side, and counts it relayed.
 */
public final class WsRelay {
    /** Why a frame was not relayed. */
    public enum Drop {
        /** not a DATA frame with a valid device ID */
        MALFORMED,
        /** the peer was not introduced to the sender (or told offline since) */
        NOT_INTRODUCED,
        /** the peer is not connected to this node */
        UNDELIVERABLE,
        /** over the byte, rate or per-device link limit */
        OVER_LIMIT
    }

    private final ServerConfig.Relay config;
    private final PresenceRegistry registry;
    private final io.peerlink.spi.AccessPolicy policy;
    private final AtomicLong relayedBytes = new AtomicLong();
    private final AtomicLong relayedFrames = new AtomicLong();
    private final AtomicLong[] dropped = new AtomicLong[Drop.values().length];

    private final java.util.function.BiPredicate<String, NodeMessage> toNode;

    WsRelay(ServerConfig.Relay config, PresenceRegistry registry, io.peerlink.spi.AccessPolicy policy,
            java.util.function.BiPredicate<String, NodeMessage> toNode) {
        this.config = config;
        this.registry = registry;
        this.policy = policy;
        this.toNode = toNode;
        for (int i = 0; i < dropped.length; i++) {
            dropped[i] = new AtomicLong();
        }
    }

    /** @return true if the server relays frames at all ({@code turn.ws-relay}) */
    public boolean enabled() {
        return config.wsRelay();
    }

    /** A frame from an admitted device; runs on that device's connection thread. */
    void onFrame(ControlSession from, ByteBuffer frame) {
        if (!config.wsRelay()) {
            return;
        }
        DeviceId to = RelayFrame.peer(frame);
        if (to == null) {
            drop(Drop.MALFORMED);
            return;
        }
        if (!mayRelay(from, to)) {
            drop(Drop.NOT_INTRODUCED);
            return;
        }
        ControlSession target = registry.local(to);
        int n = frame.remaining() - RelayFrame.HEADER;
        long now = System.currentTimeMillis();
        if (target == null) {
            String node = registry.remoteNode(to);
            if (node == null) {
                drop(Drop.UNDELIVERABLE);
            } else if (!charge(from, to, n, now)) {
                drop(Drop.OVER_LIMIT);
            } else {
                ByteBuffer payload = RelayFrame.payload(frame);
                byte[] data = new byte[payload.remaining()];
                payload.get(data);
                if (!toNode.test(node, new NodeMessage.Relay(from.deviceId().value(), to.value(),
                        java.util.Base64.getEncoder().encodeToString(data)))) {
                    drop(Drop.UNDELIVERABLE);
                }
            }
            return;
        }
        if (target.closed || !mayRelay(target, from.deviceId())) {
            drop(Drop.UNDELIVERABLE);
            return;
        }
        if (!charge(from, to, n, now) || !charge(target, from.deviceId(), n, now)) {
            drop(Drop.OVER_LIMIT);
            return;
        }
        // The frame is only valid during the call: the copy goes to the target's queue.
        ByteBuffer copy = ByteBuffer.allocate(frame.remaining()).put(frame.duplicate()).flip();
        RelayFrame.readdress(copy, from.deviceId());
        if (target.connection.sendBinary(copy)) {
            relayedBytes.addAndGet(n);
            relayedFrames.incrementAndGet();
        } else {
            drop(Drop.UNDELIVERABLE);
        }
    }

    /** A frame another node relays to a device of this one; runs on the registry's thread. */
    void onNodeFrame(NodeMessage.Relay r) {
        if (!config.wsRelay()) {
            return;
        }
        DeviceId from;
        DeviceId to;
        byte[] data;
        try {
            from = DeviceId.parse(r.from());
            to = DeviceId.parse(r.to());
            data = java.util.Base64.getDecoder().decode(r.data());
        } catch (IllegalArgumentException | NullPointerException e) {
            drop(Drop.MALFORMED);
            return;
        }
        ControlSession target = registry.local(to);
        if (target == null || target.closed || !mayRelay(target, from) || data.length > RelayFrame.MAX_PAYLOAD) {
            drop(Drop.UNDELIVERABLE);
            return;
        }
        if (!charge(target, from, data.length, System.currentTimeMillis())) {
            drop(Drop.OVER_LIMIT);
            return;
        }
        if (target.connection.sendBinary(RelayFrame.encode(from, ByteBuffer.wrap(data)))) {
            relayedBytes.addAndGet(data.length);
            relayedFrames.incrementAndGet();
        } else {
            drop(Drop.UNDELIVERABLE);
        }
    }

    /**
     * Whether {@code device} takes part in relaying with {@code peer}: the rendezvous introduced
     * them on this control connection, or the device's latest link report names a link to the
     * peer and the access policy lets it reach the peer. The second rule carries a link across a
     * reconnect of the control connection (or a restart of the server), which forgets the
     * introductions: the device reports its links again right after it registers. Each side
     * consents for itself (the sender's report on the sender's node, the receiver's on the
     * receiver's), so a device gets frames only from peers it reports a link to.
     */
    private boolean mayRelay(ControlSession device, DeviceId peer) {
        if (device.introducedTo.contains(peer)) {
            return true;
        }
        if (!device.reportedPeers.contains(peer)) {
            return false;
        }
        if (device.relayChecked.contains(peer)) {
            return true;
        }
        String network = registry.networkOf(peer);
        if (network != null && policy.mayConnect(device.deviceId(), device.network(), peer, network)) {
            device.relayChecked.add(peer);
            return true;
        }
        return false;
    }

    /** Charges one device's budget for a peer, creating it within the per-device quota. */
    private boolean charge(ControlSession device, DeviceId peer, int n, long now) {
        RelayBudget budget;
        synchronized (device.relayBudgets) {
            budget = device.relayBudgets.get(peer);
            if (budget == null) {
                if (device.relayBudgets.size() >= config.allocationsPerDevice()) {
                    // Budgets of peers no longer introduced (gone offline) free their slot.
                    device.relayBudgets.keySet().removeIf(p -> !device.introducedTo.contains(p) && !device.reportedPeers.contains(p));
                    if (device.relayBudgets.size() >= config.allocationsPerDevice()) {
                        return false;
                    }
                }
                budget = new RelayBudget(config.maxBytesPerAllocation(), config.bytesPerSecondPerAllocation());
                device.relayBudgets.put(peer, budget);
            }
        }
        return budget.charge(n, now);
    }

    private void drop(Drop why) {
        dropped[why.ordinal()].incrementAndGet();
    }

    /** @return datagram bytes relayed (payload, headers excluded) since start */
    public long relayedBytes() {
        return relayedBytes.get();
    }

    /** @return frames relayed since start */
    public long relayedFrames() {
        return relayedFrames.get();
    }

    /** @param why a reason @return frames dropped for it since start */
    public long dropped(Drop why) {
        return dropped[why.ordinal()].get();
    }

    /** @return frames dropped for any reason since start */
    public long dropped() {
        long sum = 0;
        for (AtomicLong d : dropped) {
            sum += d.get();
        }
        return sum;
    }
}
