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
 * dropped and counted, as a TURN server drops datagrams. Both devices must be on this node.
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
    private final AtomicLong relayedBytes = new AtomicLong();
    private final AtomicLong relayedFrames = new AtomicLong();
    private final AtomicLong[] dropped = new AtomicLong[Drop.values().length];

    WsRelay(ServerConfig.Relay config, PresenceRegistry registry) {
        this.config = config;
        this.registry = registry;
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
        if (!from.introducedTo.contains(to)) {
            drop(Drop.NOT_INTRODUCED);
            return;
        }
        ControlSession target = registry.local(to);
        if (target == null || target.closed || !target.introducedTo.contains(from.deviceId())) {
            drop(Drop.UNDELIVERABLE);
            return;
        }
        int n = frame.remaining() - RelayFrame.HEADER;
        long now = System.currentTimeMillis();
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

    /** Charges one device's budget for a peer, creating it within the per-device quota. */
    private boolean charge(ControlSession device, DeviceId peer, int n, long now) {
        RelayBudget budget;
        synchronized (device.relayBudgets) {
            budget = device.relayBudgets.get(peer);
            if (budget == null) {
                if (device.relayBudgets.size() >= config.allocationsPerDevice()) {
                    // Budgets of peers no longer introduced (gone offline) free their slot.
                    device.relayBudgets.keySet().removeIf(p -> !device.introducedTo.contains(p));
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
