package io.peerlink.natlab.tools;

import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The Socket.IO gateway with its datagram relay ({@code /relay}, docs/gateway.md) on a standalone
 * Jetty 12, for the broker-link lab tests: {@code GatewayRelay <host> <port> <keysFile>}, where the
 * keys file holds {@code <id>=<base64 HMAC-SHA256 secret>} lines. Prints {@code LISTENING <port>}.
 */
public final class GatewayRelay {
    private GatewayRelay() {
    }

    public static void main(String[] args) throws Exception {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args[2]))) {
            p.load(in);
        }
        Map<String, GatewayKey> keys = new ConcurrentHashMap<>();
        for (String id : p.stringPropertyNames()) {
            keys.put(id, new GatewayKey.HmacSha256(Base64.getDecoder().decode(p.getProperty(id))));
        }
        GatewayServer gateway = GatewayServer.builder(id -> Optional.ofNullable(keys.get(id))).datagramRelay(true).build();
        Server jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost(args[0]);
        connector.setPort(Integer.parseInt(args[1]));
        jetty.addConnector(connector);
        jetty.setHandler(new ContextHandlerCollection(gateway.contextHandler()));
        jetty.start();
        System.out.println("LISTENING " + connector.getLocalPort());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            gateway.close();
            try {
                jetty.stop();
            } catch (Exception e) {
                System.err.println("jetty stop: " + e);
            }
        }));
        jetty.join();
    }
}
