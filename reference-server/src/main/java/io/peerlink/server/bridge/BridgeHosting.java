package io.peerlink.server.bridge;

import io.peerlink.Endpoint;
import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.bridge.http.HttpCoapProxy;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.HttpEndpoint;
import io.peerlink.server.ServerService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.Server;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Properties;
import java.time.Duration;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletionException;

/**
 * Hosts the ResourceBridge (CoAP resource directory, module peerlink-bridge) inside the reference
 * server: a {@link ServerService} on UDP 5683 unless configured otherwise ({@code coap.port}, -1 for
 * none), and an {@link HttpEndpoint} whose HTTP-to-CoAP proxy answers under {@code /hc} on the
 * server's HTTP port. Everything bridge-specific in the server goes through this one bean.
 */
@ApplicationScoped
public class BridgeHosting implements ServerService, HttpEndpoint {
    private static final Logger LOG = LoggerFactory.getLogger(BridgeHosting.class);

    private ServerConfig config;
    private volatile ResourceBridge bridge;
    private volatile HttpCoapProxy proxy;

    /** CDI. */
    protected BridgeHosting() {
    }

    /** @param config the server configuration */
    @Inject
    public BridgeHosting(ServerConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "resource-directory";
    }

    @Override
    public boolean enabled() {
        return config.bridge().coapPort() >= 0;
    }

    @Override
    public String contextPath() {
        return "/";
    }

    @Override
    public int order() {
        return 10;
    }

    /**
     * Starts the bridge.
     *
     * @throws IllegalStateException if the bridge cannot start (port taken, database unreadable)
     */
    @Override
    public void start() {
        ServerConfig.Bridge settings = config.bridge();
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
                throw new IllegalStateException("cannot read the secrets file " + settings.secretsFile() + " (coap.ws-secrets): "
                        + e.getMessage(), e);
            }
            // Values are never logged: only how many there are.
            secrets.stringPropertyNames().forEach(name -> builder.secret(name, secrets.getProperty(name)));
            LOG.info("resource directory: {} secret(s) from {}", secrets.size(), settings.secretsFile());
        }
        ResourceBridge started;
        try {
            started = builder.start().toCompletableFuture().join();
        } catch (CompletionException e) {
            throw new IllegalStateException("resource directory failed to start on UDP " + settings.coapPort() + " (coap.port; -1 turns it off): "
                    + e.getCause().getMessage(), e.getCause());
        }
        try {
            proxy = new HttpCoapProxy(started, Duration.ofSeconds(10));
        } catch (IOException | RuntimeException e) {
            started.close();
            throw new IllegalStateException("HTTP-to-CoAP proxy failed to start: " + e.getMessage(), e);
        }
        bridge = started;
    }

    @Override
    public String describe() {
        ResourceBridge b = bridge;
        ServerConfig.Bridge settings = config.bridge();
        return b == null ? "off" : b.endpoint() + " (/rd, /rd-lookup, /oic/rd, /oic/res), "
                + (settings.storage() == null ? "in memory" : "stored in " + settings.storage())
                + (settings.descriptions() == null ? "" : ", virtual resources from " + settings.descriptions())
                + "; HTTP to CoAP under " + HttpCoapProxy.PREFIX;
    }

    /** Lets the connector accept the proxy's appended URI form ({@code /hc/coap://...}). */
    @Override
    public void customize(HttpConfiguration http) {
        http.setUriCompliance(HttpCoapProxy.URI_COMPLIANCE);
    }

    /** @return the HTTP-to-CoAP proxy, serving under {@code /hc} and declining everything else */
    @Override
    public Handler handler(Server jetty) {
        HttpCoapProxy p = proxy;
        if (p == null) {
            throw new IllegalStateException("the resource directory must start before its HTTP endpoint is mounted");
        }
        return p;
    }

    /** @return the CoAP endpoint, or null when the bridge is off */
    public Endpoint coapEndpoint() {
        ResourceBridge b = bridge;
        return b == null ? null : b.endpoint();
    }

    /** @return the bridge, or null when it is off */
    public ResourceBridge bridge() {
        return bridge;
    }

    @Override
    public void stop() {
        HttpCoapProxy p = proxy;
        proxy = null;
        if (p != null) {
            p.close();
        }
        ResourceBridge b = bridge;
        bridge = null;
        if (b != null) {
            b.close();
        }
    }
}
