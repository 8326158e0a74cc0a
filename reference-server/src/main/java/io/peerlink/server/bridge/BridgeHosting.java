package io.peerlink.server.bridge;

import io.peerlink.Endpoint;
import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.bridge.http.HttpCoapProxy;
import io.peerlink.server.ServerConfig;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.ServerConnector;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Properties;
import java.time.Duration;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;
import java.util.logging.Logger;

/**
 * Hosts the ResourceBridge (CoAP resource directory, module peerlink-bridge) inside the reference
 * server: started with the server, on UDP 5683 unless configured otherwise, stopped with it; its
 * HTTP-to-CoAP proxy answers under {@code /hc} on the server's HTTP port.
 * Everything bridge-specific in the server goes through this one class.
 */
public final class BridgeHosting implements AutoCloseable {
    private static final Logger LOG = Logger.getLogger(BridgeHosting.class.getName());

    private final ResourceBridge bridge;
    private final HttpCoapProxy proxy;

    private BridgeHosting(ResourceBridge bridge, HttpCoapProxy proxy) {
        this.bridge = bridge;
        this.proxy = proxy;
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
            return new BridgeHosting(null, null);
        }
        ResourceBridge.Builder builder = PeerLinks.resourceBridge()
                .coap(new InetSocketAddress(config.bindHost(), settings.coapPort()));
        if (settings.storage() != null) {
            builder.storage(settings.storage());
        }
        if (settings.descriptions() != null) {
            builder.descriptions(settings.descriptions());
        }
        if (settings.secretsFile() != null) {
            Properties secrets = new Properties();
            try (Reader in = Files.newBufferedReader(settings.secretsFile(), StandardCharsets.UTF_8)) {
                secrets.load(in);
            } catch (IOException e) {
                throw new IllegalStateException("cannot read the secrets file " + settings.secretsFile() + ": "
                        + e.getMessage(), e);
            }
            // Values are never logged: only how many there are.
            secrets.stringPropertyNames().forEach(name -> builder.secret(name, secrets.getProperty(name)));
            LOG.info(() -> "resource directory: " + secrets.size() + " secret(s) from " + settings.secretsFile());
        }
        try {
            ResourceBridge bridge = builder.start().toCompletableFuture().join();
            HttpCoapProxy proxy;
            try {
                proxy = new HttpCoapProxy(bridge, Duration.ofSeconds(10));
            } catch (IOException | RuntimeException e) {
                bridge.close();
                throw new IllegalStateException("HTTP-to-CoAP proxy failed to start: " + e.getMessage(), e);
            }
            LOG.info(() -> "resource directory: " + bridge.endpoint() + " (/rd, /rd-lookup, /oic/rd, /oic/res), "
                    + (settings.storage() == null ? "in memory" : "stored in " + settings.storage())
                    + (settings.descriptions() == null ? "" : ", virtual resources from " + settings.descriptions())
                    + "; HTTP to CoAP under " + HttpCoapProxy.PREFIX);
            return new BridgeHosting(bridge, proxy);
        } catch (CompletionException e) {
            throw new IllegalStateException("resource directory failed to start on UDP " + settings.coapPort() + ": "
                    + e.getCause().getMessage(), e.getCause());
        }
    }

    /**
     * Lets the connector accept the proxy's appended URI form ({@code /hc/coap://...}).
     *
     * @param connector the server's HTTP connector
     */
    public void configure(ServerConnector connector) {
        if (proxy != null) {
            connector.getConnectionFactory(HttpConnectionFactory.class).getHttpConfiguration()
                    .setUriCompliance(HttpCoapProxy.URI_COMPLIANCE);
        }
    }

    /**
     * @param next the server's own handler
     * @return a handler that serves HTTP-to-CoAP under {@code /hc} and passes everything else to next
     */
    public Handler httpHandler(Handler next) {
        return proxy == null ? next : new Handler.Sequence(proxy, next);
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
        if (proxy != null) {
            proxy.close();
        }
        if (bridge != null) {
            bridge.close();
        }
    }
}
