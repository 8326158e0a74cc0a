package io.peerlink.gateway;

import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The platform side of the gateway protocol (docs/gateway.md): commands to devices, the
 * devices' virtual models, and what gateways upload. Listeners run on network threads and must
 * return quickly; an exception thrown by a listener is caught and does not affect the gateway.
 */
public interface GatewayPlatform {

    /**
     * Sends a command to a device through its gateway. The stage completes with the gateway's
     * acknowledgement, or fails with a {@link GatewayException}: {@code GATEWAY_OFFLINE},
     * {@code UNKNOWN_DEVICE}, {@code BAD_JSON} (immediately), {@code COMMAND_TIMEOUT} or
     * {@code DISCONNECTED} (later). Never blocks.
     */
    CompletionStage<CommandResult> sendCommand(Command command);

    /**
     * Replaces the desired state of a device (last writer wins on the platform side), increments
     * its desired version and pushes it to the gateway if it is online. Throws
     * {@link GatewayException} ({@code UNKNOWN_DEVICE}, {@code BAD_JSON}).
     */
    ModelState setDesired(String gatewayId, String deviceId, String desiredJson);

    /** The model of a device registered through {@code gatewayId}, if any. */
    Optional<ModelState> model(String gatewayId, String deviceId);

    /** Ids of the gateways that are currently authenticated and not timed out. */
    Set<String> onlineGateways();

    AutoCloseable onTelemetry(Consumer<Telemetry> listener);

    AutoCloseable onStatus(Consumer<GatewayStatus> listener);

    AutoCloseable onDeviceRegistered(Consumer<DeviceRegistration> listener);
}
