package io.peerlink.server.gateway;

import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayKeyStore;
import io.peerlink.gateway.GatewayLimits;
import io.peerlink.gateway.GatewayPlatform;
import io.peerlink.gateway.GatewayServer;
import io.peerlink.server.HttpEndpoint;
import io.peerlink.server.ServerConfig;
import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Server;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.spec.X509EncodedKeySpec;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The Socket.IO gateway platform (module peerlink-gateway, docs/gateway.md) as an
 * {@link HttpEndpoint}: mounted at {@code gateway.path} (default {@code /socket.io}) when
 * {@code gateway.enabled} is true, with the gateways' credentials read from {@code gateway.keys}.
 *
 * <p>The keys file has one line per gateway, {@code <gatewayId> hmac-sha256 <base64 secret of at
 * least 16 bytes>} or {@code <gatewayId> ed25519 <base64 X.509 (SubjectPublicKeyInfo) public key>};
 * blank lines and text after {@code #} are ignored. It is read once at start; a bad line stops the
 * server with its line number.
 */
@ApplicationScoped
public class GatewayEndpoint implements HttpEndpoint {
    private ServerConfig config;
    private volatile GatewayServer gateway;

    /** CDI. */
    protected GatewayEndpoint() {
    }

    /** @param config the server configuration */
    @Inject
    public GatewayEndpoint(ServerConfig config) {
        this.config = config;
    }

    @Override
    public String name() {
        return "gateway";
    }

    @Override
    public String contextPath() {
        return config.gateway().contextPath();
    }

    @Override
    public boolean enabled() {
        return config.gateway().enabled();
    }

    @Override
    public synchronized Handler handler(Server jetty) {
        ServerConfig.Gateway settings = config.gateway();
        GatewayKeyStore keys = GatewayKeyStore.of(parseKeys(settings.keysFile()));
        GatewayLimits limits = GatewayLimits.DEFAULTS.withHeartbeat(settings.heartbeat(), GatewayLimits.DEFAULTS.missedHeartbeats());
        gateway = GatewayServer.builder(keys).limits(limits).contextPath(settings.contextPath())
                .datagramRelay(settings.datagramRelay()).build();
        return gateway.contextHandler();
    }

    /** @return the platform side (commands, models, listeners) @throws IllegalStateException before it is mounted */
    public GatewayPlatform platform() {
        GatewayServer g = gateway;
        if (g == null) {
            throw new IllegalStateException("the gateway endpoint is " + (enabled() ? "not mounted yet" : "off (gateway.enabled=false)"));
        }
        return g.platform();
    }

    @PreDestroy
    synchronized void close() {
        if (gateway != null) {
            gateway.close();
            gateway = null;
        }
    }

    /**
     * @param file the keys file
     * @return gateway id to credential
     * @throws IllegalStateException naming the file and line of the first problem
     */
    public static Map<String, GatewayKey> parseKeys(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("gateway.keys: cannot read " + file + ": " + e.getMessage(), e);
        }
        Map<String, GatewayKey> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            String where = "gateway.keys: " + file + " line " + (i + 1) + ": ";
            String[] parts = content.split("\\s+");
            if (parts.length != 3) {
                throw new IllegalStateException(where + "expected '<gatewayId> hmac-sha256|ed25519 <base64>'");
            }
            byte[] bytes;
            try {
                bytes = Base64.getDecoder().decode(parts[2]);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(where + "the key is not base64", e);
            }
            GatewayKey key;
            try {
                key = switch (parts[1].toLowerCase(Locale.ROOT)) {
                    case "hmac-sha256" -> new GatewayKey.HmacSha256(bytes);
                    case "ed25519" -> new GatewayKey.Ed25519(KeyFactory.getInstance("Ed25519")
                            .generatePublic(new X509EncodedKeySpec(bytes)));
                    default -> throw new IllegalStateException(where + "unknown algorithm '" + parts[1]
                            + "' (hmac-sha256 or ed25519)");
                };
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalStateException(where + e.getMessage(), e);
            }
            if (out.put(parts[0], key) != null) {
                throw new IllegalStateException(where + "gateway '" + parts[0] + "' is listed twice");
            }
        }
        return out;
    }
}
