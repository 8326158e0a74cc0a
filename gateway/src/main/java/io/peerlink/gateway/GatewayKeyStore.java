package io.peerlink.gateway;

import java.util.Map;
import java.util.Optional;

/**
 * Where the server looks up a gateway's credential. Called on a network thread for every
 * authentication attempt: implementations must be fast and thread-safe.
 */
@FunctionalInterface
public interface GatewayKeyStore {

    /** The key registered for {@code gatewayId}, or empty when the gateway is unknown. */
    Optional<GatewayKey> find(String gatewayId);

    /** A fixed, in-memory store (copied). */
    static GatewayKeyStore of(Map<String, GatewayKey> keys) {
        Map<String, GatewayKey> copy = Map.copyOf(keys);
        return id -> Optional.ofNullable(copy.get(id));
    }
}
