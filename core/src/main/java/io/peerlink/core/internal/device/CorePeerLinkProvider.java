package io.peerlink.core.internal.device;

import io.peerlink.Device;
import io.peerlink.runtime.PeerLinkProvider;

/** The runtime's entry for {@link java.util.ServiceLoader}; found by {@code PeerLinks}. */
public final class CorePeerLinkProvider extends PeerLinkProvider {
    /** Required by ServiceLoader. */
    public CorePeerLinkProvider() {
    }

    @Override
    public Device.Builder deviceBuilder() {
        return new DeviceBuilderImpl();
    }
}
