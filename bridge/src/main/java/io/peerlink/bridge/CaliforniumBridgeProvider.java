package io.peerlink.bridge;

import io.peerlink.ResourceBridge;
import io.peerlink.bridge.internal.CoapResourceBridge;
import io.peerlink.runtime.ResourceBridgeProvider;

/**
 * The resource bridge on Eclipse Californium, found by {@link io.peerlink.PeerLinks#resourceBridge()}
 * through {@link java.util.ServiceLoader}.
 */
public final class CaliforniumBridgeProvider extends ResourceBridgeProvider {
    /** For {@link java.util.ServiceLoader}. */
    public CaliforniumBridgeProvider() {
    }

    @Override
    public ResourceBridge.Builder builder() {
        return new CoapResourceBridge.Builder();
    }
}
