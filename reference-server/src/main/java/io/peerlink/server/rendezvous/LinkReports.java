package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.spi.AccessPolicy;

import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Devices' {@code link-report}s (docs/protocol-rendezvous.md, "Link reports") and the read-only
 * view of admitted sessions the operator's dashboard is built from. A report replaces the
 * device's previous one; one arriving less than {@link #MIN_INTERVAL_MILLIS} after the last kept
 * one is dropped (the device sends again at its next change or period); entries naming a peer
 * the access policy does not let the device reach are dropped, so a device cannot draw links to
 * devices outside its reach on the operator's screen. Memory: at most 64 entries per session.
 */
public final class LinkReports {
    /** Reports closer together than this are dropped. */
    public static final long MIN_INTERVAL_MILLIS = 1000;

    private LinkReports() {
    }

    /** Keeps a report from an admitted session. Runs on the session's own delivery thread. */
    static void accept(ControlSession s, Message.LinkReport report, AccessPolicy policy, PresenceRegistry registry) {
        long now = System.nanoTime();
        if (now - s.lastLinkReportNanos < TimeUnit.MILLISECONDS.toNanos(MIN_INTERVAL_MILLIS)) {
            return;
        }
        s.lastLinkReportNanos = now;
        List<Message.LinkReport.Link> kept = new ArrayList<>(report.links().size());
        java.util.Set<DeviceId> peers = new java.util.HashSet<>();
        for (Message.LinkReport.Link link : report.links()) {
            if (!link.peer().equals(s.deviceId())) {
                // The WebSocket relay checks these against the policy when a frame comes (the peer may not be back yet).
                peers.add(link.peer());
            }
            String network = registry.networkOf(link.peer());
            if (network != null && !link.peer().equals(s.deviceId()) && policy.mayConnect(s.deviceId(), s.network(), link.peer(), network)) {
                kept.add(link);
            }
        }
        s.links = List.copyOf(kept);
        s.reportedPeers = java.util.Set.copyOf(peers);
        s.linksAtMillis = System.currentTimeMillis();
    }

    /**
     * One admitted device as the operator sees it.
     *
     * @param id the device
     * @param network its network
     * @param from the control connection's remote address
     * @param connectedAtMillis when its control connection opened, epoch ms
     * @param rttMillis smoothed control-connection RTT, ms; negative if not measured
     * @param links its last link report (peers it may reach only)
     * @param linksAtMillis when that report arrived, epoch ms; 0 if none
     */
    public record SessionView(DeviceId id, String network, InetSocketAddress from, long connectedAtMillis, double rttMillis,
                              List<Message.LinkReport.Link> links, long linksAtMillis) {
    }

    /**
     * Visits every admitted, live session (weakly consistent; O(devices online)).
     *
     * @param service the rendezvous service
     * @param visitor called once per session
     */
    public static void forEachSession(RendezvousService service, Consumer<SessionView> visitor) {
        for (ControlSession s : service.registry().sessions()) {
            DeviceId id = s.deviceId();
            if (id != null && !s.closed) {
                visitor.accept(new SessionView(id, s.network(), s.connection.remoteAddress(), s.openedAtMillis, s.srttMillis,
                        s.links, s.linksAtMillis));
            }
        }
    }
}
