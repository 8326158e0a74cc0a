package io.peerlink.gateway;

import java.util.Objects;

/**
 * The gateway's acknowledgement of a command: {@code ok} with a result object, or a refusal
 * with the gateway's error text. Both are answers; a missing answer fails the stage instead
 * ({@link GatewayException.Reason#COMMAND_TIMEOUT}).
 */
public record CommandResult(String commandId, boolean ok, String resultJson, String error) {
    public CommandResult {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(resultJson, "resultJson");
        Objects.requireNonNull(error, "error");
    }
}
