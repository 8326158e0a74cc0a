package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;

import java.util.Collection;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The embedded default {@link PresenceRegistry}: one node, everything in memory.
 * Who is online and which network admitted devices belong to. With {@code forgetOnLeave} (open
 * mode, and any authenticator without a fixed list) a device's network is forgotten when its
 * last session leaves, so the map is bounded by the devices online; with an allow-list it is
 * bounded by the list, and remembering lets a peer hear OFFLINE rather than UNKNOWN. Two concurrent hash
 * maps: O(1) per operation, no lock shared across devices and no thread per device, so 10,000
 * devices cost a few megabytes. Several nodes use {@link RedisPresenceRegistry} instead.
 */
public final class InMemoryPresenceRegistry implements PresenceRegistry {
    private final ConcurrentHashMap<DeviceId, ControlSession> online = new ConcurrentHashMap<>();
    private final ConcurrentHashMap<DeviceId, String> networks = new ConcurrentHashMap<>();
    private final boolean forgetOnLeave;

    /** Remembers networks of devices that left (allow-list mode). */
    public InMemoryPresenceRegistry() {
        this(false);
    }

    /** @param forgetOnLeave forget a device's network when it leaves (open mode, unbounded authenticators) */
    public InMemoryPresenceRegistry(boolean forgetOnLeave) {
        this.forgetOnLeave = forgetOnLeave;
    }

    /**
     * Registers an admitted session, replacing an older one of the same device.
     *
     * @param session the admitted session
     * @return the replaced session, or null
     */
    @Override
    public ControlSession register(ControlSession session) {
        networks.put(session.deviceId(), session.network());
        return online.put(session.deviceId(), session);
    }

    /** Removes the session if it is still the device's current one. @param session the closing session */
    @Override
    public void unregister(ControlSession session) {
        if (session.deviceId() != null && online.remove(session.deviceId(), session) && forgetOnLeave) {
            // A newer session of the same device may register between these two lines; it re-adds its network.
            networks.remove(session.deviceId(), session.network());
            ControlSession current = online.get(session.deviceId());
            if (current != null) {
                networks.put(current.deviceId(), current.network());
            }
        }
    }

    /** @param id a device @return its live session, or null */
    @Override
    public ControlSession local(DeviceId id) {
        return online.get(id);
    }

    /** @param id a device @return the network it was last admitted into, or null if never admitted */
    @Override
    public String networkOf(DeviceId id) {
        return networks.get(id);
    }

    /** @param id a device @return true if it has a live control connection */
    @Override
    public boolean isOnline(DeviceId id) {
        return online.containsKey(id);
    }

    /** @return number of devices online */
    @Override
    public int onlineCount() {
        return online.size();
    }

    /** @return devices whose network is remembered (online, and with an allow-list, offline ones too) */
    @Override
    public int knownCount() {
        return networks.size();
    }

    /** Forgets the networks of devices a new allow-list no longer has. @param allowed device to network */
    @Override
    public void retainNetworks(java.util.Map<DeviceId, String> allowed) {
        networks.keySet().removeIf(id -> !allowed.containsKey(id) && !online.containsKey(id));
    }

    /** @return devices online per network, counted now (O(devices online); a scrape, not a hot path) */
    @Override
    public java.util.Map<String, Integer> onlineByNetwork() {
        java.util.Map<String, Integer> counts = new java.util.HashMap<>();
        for (ControlSession s : online.values()) {
            counts.merge(s.network(), 1, Integer::sum);
        }
        return counts;
    }

    /** @return a weakly consistent view of the live sessions */
    @Override
    public Collection<ControlSession> sessions() {
        return online.values();
    }
}
