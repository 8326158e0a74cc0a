package io.peerlink.server.rendezvous;

import io.peerlink.DeviceId;

import java.util.Collection;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The seam between the rendezvous protocol and where devices are: which devices this node holds
 * a control connection for (always in memory: a session is a live socket), which network every
 * device was admitted into and whether it is online anywhere, and, with several nodes, which node
 * holds a device and how to hand that node a message.
 *
 * <p>Implementations: {@link InMemoryPresenceRegistry}, the embedded default for one node, and
 * {@link RedisPresenceRegistry}, which shares presence and carries node-to-node messages through
 * Redis (docs/operations.md, "Several nodes on Redis"). The node-to-node methods have one-node
 * defaults. The message text is opaque here; {@link RendezvousService} writes and reads it.
 *
 * <p>Thread-safe; methods are called on Jetty's threads and the rendezvous timer thread.
 */
public interface PresenceRegistry extends AutoCloseable {

    /**
     * Registers an admitted session of this node, replacing an older one of the same device.
     *
     * @param session the admitted session
     * @return the replaced session of this node, or null
     */
    ControlSession register(ControlSession session);

    /** Removes the session if it is still the device's current one. @param session the closing session */
    void unregister(ControlSession session);

    /** @param id a device @return its live session on this node, or null */
    ControlSession local(DeviceId id);

    /** @return a weakly consistent view of this node's live sessions */
    Collection<ControlSession> sessions();

    /** @param id a device @return the network it was last admitted into on any node, or null if unknown */
    String networkOf(DeviceId id);

    /** @param id a device @return true if it has a live control connection on any node */
    boolean isOnline(DeviceId id);

    /** @return number of devices online on this node */
    int onlineCount();

    /** @return devices whose network this node knows (online here, and with an allow-list, ones seen before) */
    int knownCount();

    /** @return devices online on this node per network, counted now (a scrape, not a hot path) */
    Map<String, Integer> onlineByNetwork();

    /** Forgets the networks of devices a new allow-list no longer has. @param allowed device to network */
    void retainNetworks(Map<DeviceId, String> allowed);

    /** @return this node's id (unique per process start) */
    default String nodeId() {
        return "local";
    }

    /**
     * @param id a device
     * @return the id of the other node that holds the device's control connection, or null if it
     *         is on this node, offline or unknown
     */
    default String remoteNode(DeviceId id) {
        return null;
    }

    /**
     * Hands a message to another node.
     *
     * @param node the node's id
     * @param message the message (opaque text)
     * @return false if no node by that id is listening (it died or never existed), true if it was handed over
     */
    default boolean send(String node, String message) {
        return false;
    }

    /**
     * Sets where messages from other nodes go, and who closes a session of this node whose device
     * has since been admitted on another node. Called once, before any device is admitted. Both
     * run on a thread of the registry's and may call back into the registry.
     *
     * @param messages receives the text of every message another node sent to this one
     * @param displaced receives a session of this node, already unregistered, whose device is now on another node
     */
    default void listen(Consumer<String> messages, Consumer<ControlSession> displaced) {
    }

    /**
     * Called once per keepalive interval with this node's live sessions, so shared presence
     * entries that expire unless refreshed stay alive while their devices are.
     *
     * @param live this node's live sessions
     */
    default void refresh(Collection<ControlSession> live) {
    }

    /**
     * @return null while shared state works, else why it does not (e.g. Redis unreachable): the node then serves its own
     *         devices only, {@code /readyz} answers 503 with this reason, and connects to devices not on this node fail
     *         with it (docs/operations.md, "Redis outage")
     */
    default String unavailable() {
        return null;
    }

    /** Releases connections to shared stores; idempotent. Sessions are not touched. */
    @Override
    default void close() {
    }
}
