package io.peerlink.server.auth;

import io.peerlink.DeviceId;
import io.peerlink.spi.AccessPolicy;

/** {@code same-network}: a device may reach another exactly when both were admitted into the same network. */
public final class SameNetworkAccessPolicy implements AccessPolicy {
    /** Used by {@link java.util.ServiceLoader}. */
    public SameNetworkAccessPolicy() {
    }

    @Override
    public String name() {
        return "same-network";
    }

    @Override
    public boolean mayConnect(DeviceId from, String fromNetwork, DeviceId to, String toNetwork) {
        return fromNetwork != null && fromNetwork.equals(toNetwork);
    }
}
