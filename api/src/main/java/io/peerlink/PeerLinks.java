package io.peerlink;

import io.peerlink.runtime.PeerLinkProvider;
import io.peerlink.runtime.ResourceBridgeProvider;

import java.util.Iterator;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;

/**
 * The entry point. Finds the runtime with {@link ServiceLoader} the way JSON-B finds its
 * implementation:
 *
 * <pre>{@code
 * try (Device device = PeerLinks.device()
 *         .identity(Path.of("device.key"))
 *         .rendezvous(URI.create("ws://192.0.2.1:8080/peerlink/v1"))
 *         .udp(new InetSocketAddress(0))
 *         .build()) {
 *     PeerLink link = device.connect(DeviceId.parse(peerId)).toCompletableFuture().join();
 *     link.channel().send(ByteBuffer.wrap("hello".getBytes()));
 * }   // Device.close(): delivers "hello" first, then closes
 * }</pre>
 *
 * <p>docs/embedding.md has a complete sender and receiver, run by the build.
 */
public final class PeerLinks {
    private PeerLinks() {
    }

    /**
     * @return a device builder from the runtime found on the class or module path
     * @throws PeerLinkException if no runtime is found, naming the artifact to add
     */
    public static Device.Builder device() {
        return provider().deviceBuilder();
    }

    /**
     * @param provider an explicit runtime, for tests and containers
     * @return a device builder from that runtime
     * @throws NullPointerException if provider is null
     */
    public static Device.Builder device(PeerLinkProvider provider) {
        return Objects.requireNonNull(provider, "provider").deviceBuilder();
    }

    /**
     * @return a resource bridge builder from the bridge implementation found by
     *         {@link ServiceLoader} ({@link ResourceBridgeProvider}); independent of the link
     *         runtime, so {@code peerlink-bridge} works beside {@code peerlink-core} or without it
     * @throws PeerLinkException if no bridge implementation is found, naming the artifact to add
     */
    public static ResourceBridge.Builder resourceBridge() {
        try {
            Iterator<ResourceBridgeProvider> it = ServiceLoader.load(ResourceBridgeProvider.class).iterator();
            if (it.hasNext()) {
                return it.next().builder();
            }
        } catch (ServiceConfigurationError e) {
            throw new PeerLinkException("a ResourceBridge implementation was found but could not be loaded: "
                    + e.getMessage(), e);
        }
        throw new PeerLinkException("no ResourceBridge implementation found: add io.peerlink:peerlink-bridge to the "
                + "class or module path");
    }

    /**
     * @param provider an explicit bridge implementation, for tests and containers
     * @return a resource bridge builder from it
     * @throws NullPointerException if provider is null
     */
    public static ResourceBridge.Builder resourceBridge(ResourceBridgeProvider provider) {
        return Objects.requireNonNull(provider, "provider").builder();
    }

    /**
     * @return the first runtime found by {@link ServiceLoader}
     * @throws PeerLinkException if there is none, or it cannot be instantiated
     */
    public static PeerLinkProvider provider() {
        try {
            Iterator<PeerLinkProvider> it = ServiceLoader.load(PeerLinkProvider.class).iterator();
            if (it.hasNext()) {
                return it.next();
            }
        } catch (ServiceConfigurationError e) {
            throw new PeerLinkException("a PeerLink runtime was found but could not be loaded: " + e.getMessage(), e);
        }
        throw new PeerLinkException("no PeerLink runtime found: add io.peerlink:peerlink-core (and a transport such as "
                + "io.peerlink:peerlink-transport-udp) to the class or module path");
    }
}
