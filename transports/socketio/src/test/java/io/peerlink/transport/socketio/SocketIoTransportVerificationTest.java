package io.peerlink.transport.socketio;

import io.peerlink.Endpoint;
import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayLimits;
import io.peerlink.gateway.GatewayServer;
import io.peerlink.spi.Transport;
import io.peerlink.tck.TransportVerification;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import java.net.URI;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The Socket.IO transport passes the conformance suite through a real gateway server (Jetty 12,
 * socket.io-server-java, relay namespace) on loopback.
 */
class SocketIoTransportVerificationTest extends TransportVerification {

    private static final byte[] SECRET = new byte[32];
    private static final AtomicInteger IDS = new AtomicInteger();
    private static GatewayServer gateway;
    private static Server jetty;
    private static int port;

    @BeforeAll
    static void startServer() throws Exception {
        new SecureRandom().nextBytes(SECRET);
        GatewayKey key = new GatewayKey.HmacSha256(SECRET);
        gateway = GatewayServer.builder(id -> id.startsWith("tck-") ? Optional.of(key) : Optional.empty())
                // Every transport of the suite connects from 127.0.0.1: lift the per-address admission limit.
                .limits(GatewayLimits.DEFAULTS.withConnectRate(10_000, 10_000))
                .datagramRelay(true).build();
        jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        jetty.setHandler(new ContextHandlerCollection(gateway.contextHandler()));
        jetty.start();
        port = connector.getLocalPort();
    }

    @AfterAll
    static void stopServer() throws Exception {
        gateway.close();
        jetty.stop();
    }

    @Override
    protected Transport createTransport() {
        return new SocketIoTransport(URI.create("http://127.0.0.1:" + port), "tck-" + IDS.incrementAndGet(), SECRET);
    }

    /** The same scheme on another server: beyond this transport's one connection. */
    @Override
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint(SocketIoTransport.SCHEME, "127.0.0.1", port == 65535 ? 1 : port + 1, "/someone");
    }

    /**
     * OkHttp (under socket.io-client) closes a WebSocket whose unsent queue exceeds 16 MiB; the
     * default flood (20,000 × 1 KiB at a receiver that does not read) crosses that, and the
     * transport does not reconnect yet (docs/transports.md, future work). 10,000 stays below it.
     */
    @Override
    protected int floodDatagrams() {
        return 10_000;
    }

    @Override
    protected Duration timeout() {
        return Duration.ofSeconds(20);
    }
}
