package io.peerlink.runtime;

import io.peerlink.Device;

/**
 * Implemented by a PeerLink runtime (peerlink-core) and registered for
 * {@link java.util.ServiceLoader}; {@link io.peerlink.PeerLinks} finds it. Applications do not use
 * this type except to pass an explicit provider.
 */
public abstract class PeerLinkProvider {

    /** For subclasses; a provider needs a public no-argument constructor. */
    protected PeerLinkProvider() {
    }

    /** @return a new device builder */
    public abstract Device.Builder deviceBuilder();
}
