package io.peerlink.server.bridge;

import io.peerlink.Endpoint;
import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.server.ServerConfig;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * Hosts the ResourceBridge (CoAP resource directory, module peerlink-bridge) inside the reference
 * server: started with the server, on UDP 5683 unless configured otherwise, stopped with it.
 * Everything bridge-specific in the server goes through this one class.
 */
public final class BridgeHosting implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BridgeHosting.class.getName());

    private final ResourceBridge bridge;

    private BridgeHosting(ResourceBridge bridge) {
        this.bridge = bridge;
    }

    /**
     * @param config the server configuration
     * @return the running bridge, or a hosting without one when {@code coapPort} is -1
     * @throws IllegalStateException if the bridge cannot start (port taken, database unreadable)
     */
    public static BridgeHosting start(ServerConfig config) {
        ServerConfig.Bridge settings = config.bridge();
        if (settings.coapPort() < 0) {
            LOG.info("resource directory: off");
            return new BridgeHosting(null);
        }
        ResourceBridge.Builder builder = PeerLinks.resourceBridge()
                .coap(new InetSocketAddress(config.bindHost(), settings.coapPort()));
        if (settings.storage() != null) {
            builder.storage(settings.storage());
        }
        try {
            ResourceBridge bridge = builder.start().toCompletableFuture().join();
            LOG.info(() -> "resource directory: " + bridge.endpoint() + " (/rd, /rd-lookup, /oic/rd, /oic/res), "
                    + (settings.storage() == null ? "in memory" : "stored in " + settings.storage()));
            return new BridgeHosting(bridge);
        } catch (CompletionException e) {
            throw new IllegalStateException("resource directory failed to start on UDP " + settings.coapPort() + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    /** @return the CoAP endpoint, or null when the bridge is off */
    public Endpoint coapEndpoint() {
        return bridge == null ? null : bridge.endpoint();
    }

    /** @return the bridge, or null when it is off */
    public ResourceBridge bridge() {
        return bridge;
    }

    @Override
    public void close() {
        if (bridge != null) {
            bridge.close();
        }
    }
}
