package io.peerlink.runtime;

import io.peerlink.Device;
import io.peerlink.PeerLinkException;
import io.peerlink.ResourceBridge;

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

    /**
     * @return a new resource bridge builder
     * @throws PeerLinkException if this runtime has no resource bridge on its path
     */
    public BridgeBuilder resourceBridgeBuilder() {
        throw new PeerLinkException("this PeerLink runtime (" + getClass().getName()
                + ") has no ResourceBridge: add io.peerlink:peerlink-bridge to the class or module path");
    }

    /** Builds a {@link ResourceBridge}. */
    public interface BridgeBuilder {
        /**
         * @param host address to bind the CoAP endpoint to
         * @param port UDP port (5683 is CoAP's)
         * @return this
         */
        BridgeBuilder coap(String host, int port);

        /**
         * @return the started bridge
         * @throws PeerLinkException if it cannot bind
         */
        ResourceBridge build();
    }
}
