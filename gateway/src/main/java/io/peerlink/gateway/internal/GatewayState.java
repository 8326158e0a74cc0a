package io.peerlink.gateway.internal;

import io.peerlink.gateway.ModelState;

import java.util.Collection;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;

/**
 * The seam between the gateway protocol and where its state lives (docs/gateway.md, "Several
 * nodes"): the device registry, the versioned models, which node holds each gateway's
 * connection, and node-to-node messages. {@link InMemoryGatewayState} is the one-node default;
 * {@link RedisGatewayState} shares all of it through Redis. Connections themselves (live sockets)
 * stay in the node's memory, in {@link GatewayHub}. Thread-safe.
 */
public interface GatewayState extends AutoCloseable {

    /** Outcome of {@link #report}. */
    enum ReportOutcome { APPLIED, UNKNOWN_DEVICE, CONFLICT }

    /**
     * Registers a device through a gateway (idempotent).
     *
     * @return its model, or empty if the gateway already has {@code maxDevices} other devices
     */
    Optional<ModelState> register(String gatewayId, String deviceId, int maxDevices);

    /** @return whether the device is registered through the gateway */
    boolean isRegistered(String gatewayId, String deviceId);

    /** @return the model, if the device is registered through the gateway */
    Optional<ModelState> model(String gatewayId, String deviceId);

    /** Replaces the desired state and increments its version. @return the new model, or empty for an unknown device */
    Optional<ModelState> setDesired(String gatewayId, String deviceId, String desiredJson);

    /**
     * Applies a gateway's report if {@code baseVersion} is the current reported version.
     *
     * @param after receives the model after the report, or the current one on a conflict
     * @return what happened
     */
    ReportOutcome report(String gatewayId, String deviceId, long baseVersion, String reportedJson, Consumer<ModelState> after);

    /** This node now holds the gateway's authenticated connection. */
    void online(String gatewayId);

    /** This node no longer holds the gateway's connection (only if no other node took it since). */
    void offline(String gatewayId);

    /** @return the id of another node holding the gateway's connection, or null (here, or offline) */
    default String remoteNode(String gatewayId) {
        return null;
    }

    /** @return gateways online on any node */
    Set<String> onlineGateways();

    /** Keeps this node's presence entries alive; called by the sweep with the gateways held here. */
    default void refresh(Collection<String> gatewayIds) {
    }

    /** @return this node's id */
    default String nodeId() {
        return "local";
    }

    /** @return false if no node by that id listens */
    default boolean send(String node, String message) {
        return false;
    }

    /**
     * @param messages receives what other nodes send to this one, on a thread of the state's
     * @param displaced receives a gateway id held here that has since connected to another node
     */
    default void listen(Consumer<String> messages, Consumer<String> displaced) {
    }

    @Override
    default void close() {
    }
}
