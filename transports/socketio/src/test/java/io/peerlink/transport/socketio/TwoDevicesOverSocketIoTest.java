package io.peerlink.transport.socketio;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinkException;
import io.peerlink.PeerLinks;
import io.peerlink.gateway.GatewayKey;
import io.peerlink.gateway.GatewayServer;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A {@code PeerLink} over the Socket.IO relay through the public API: two devices whose only
 * transport is {@code socketio}, configured by option name ({@code socketio.hmacSecret}), link
 * through a real gateway server; the handshake proves both identities and 2 MiB arrive byte-exact.
 * (That the gateway sees only ciphertext is shown in the NAT lab, natlab's BrokerLinkTest.)
 */
class TwoDevicesOverSocketIoTest {
    private static final byte[] ALICE = new byte[32];
    private static final byte[] BOB = new byte[32];
    private static GatewayServer gateway;
    private static Server jetty;
    private static int port;

    @BeforeAll
    static void startServer() throws Exception {
        new SecureRandom().nextBytes(ALICE);
        new SecureRandom().nextBytes(BOB);
        Map<String, GatewayKey> keys = Map.of("alice", new GatewayKey.HmacSha256(ALICE), "bob", new GatewayKey.HmacSha256(BOB));
        gateway = GatewayServer.builder(id -> Optional.ofNullable(keys.get(id))).datagramRelay(true).build();
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

    private static Device device(String id, byte[] secret) {
        return PeerLinks.device().ephemeralIdentity().transport(Endpoint.parse("socketio://127.0.0.1:" + port + "/" + id),
                Map.of("socketio.hmacSecret", Base64.getEncoder().encodeToString(secret))).build();
    }

    @Test
    void twoDevicesLinkThroughTheRelayAndMoveTwoMebibytesByteExact() throws Exception {
        try (Device alice = device("alice", ALICE); Device bob = device("bob", BOB)) {
            CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
            LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
            bob.onIncoming(request -> request.accept().whenComplete((link, e) -> {
                if (e != null) {
                    accepted.completeExceptionally(e);
                    return;
                }
                link.channel().onMessage((message, delivery) -> {
                    byte[] bytes = new byte[message.remaining()];
                    message.get(bytes);
                    got.add(bytes);
                });
                accepted.complete(link);
            }));
            Endpoint bobAt = Endpoint.parse("socketio://127.0.0.1:" + port + "/bob");
            PeerLink link = alice.connect(bobAt, bob.id()).toCompletableFuture().get(30, TimeUnit.SECONDS);
            PeerLink atBob = accepted.get(30, TimeUnit.SECONDS);
            assertEquals(bob.id(), link.peer());
            assertEquals(alice.id(), atBob.peer());
            assertEquals(PathKind.BROKERED, link.path().kind());
            byte[] payload = new byte[2 * 1024 * 1024];
            new Random(7).nextBytes(payload);
            link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(120, TimeUnit.SECONDS);
            assertArrayEquals(payload, got.poll(120, TimeUnit.SECONDS));
        }
    }

    @Test
    void aMissingOrMalformedSecretFailsBuildNamingTheOption() {
        Endpoint bind = Endpoint.parse("socketio://127.0.0.1:" + port + "/alice");
        PeerLinkException missing = assertThrows(PeerLinkException.class, () -> PeerLinks.device().ephemeralIdentity().transport(bind).build());
        assertTrue(missing.getMessage().contains("socketio.hmacSecret"), missing.getMessage());
        PeerLinkException unknown = assertThrows(PeerLinkException.class,
                () -> PeerLinks.device().ephemeralIdentity().transport(bind, Map.of("socketio.secret", "x")).build());
        assertTrue(unknown.getMessage().contains("unknown option 'socketio.secret'")
                && unknown.getMessage().contains("socketio.hmacSecret, socketio.tls"), unknown.getMessage());
        PeerLinkException wrong = assertThrows(PeerLinkException.class, () -> PeerLinks.device().ephemeralIdentity()
                .transport(bind, Map.of("socketio.hmacSecret", Base64.getEncoder().encodeToString(BOB))).build());
        assertTrue(wrong.getMessage().contains("cannot start transport " + bind), wrong.getMessage());
    }
}
