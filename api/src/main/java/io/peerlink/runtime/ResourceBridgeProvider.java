package io.peerlink.runtime;

import io.peerlink.ResourceBridge;

/**
 * Implemented by a resource-bridge implementation (peerlink-bridge) and registered for
 * {@link java.util.ServiceLoader}; {@link io.peerlink.PeerLinks#resourceBridge()} finds it. It is a
 * provider of its own, separate from {@link PeerLinkProvider}, so the bridge plugs in beside the
 * link runtime rather than competing with it on the class path.
 */
public abstract class ResourceBridgeProvider {

    /** For subclasses; a provider needs a public no-argument constructor. */
    protected ResourceBridgeProvider() {
    }

    /** @return a new bridge builder */
    public abstract ResourceBridge.Builder builder();
}
