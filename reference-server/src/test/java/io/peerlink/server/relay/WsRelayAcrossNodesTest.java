package io.peerlink.server.relay;

import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.rendezvous.WsRelay;
import io.peerlink.testkit.RedisServer;
import io.peerlink.testkit.RedisServerExtension;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The WebSocket relay across two reference-server nodes sharing a real {@code redis-server}
 * (docs/relay.md, "WebSocket relay"): a device on node one and a device on node two, with no UDP
 * between them and no TURN server, link through their WebSockets and the nodes' Redis channel.
 */
@ExtendWith(RedisServerExtension.class)
class WsRelayAcrossNodesTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        GatedUdpProvider.BLOCKED.clear();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private ReferenceServer node(RedisServer redis, Path allowList) {
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().turnPort(-1).bindHost("127.0.0.1").httpPort(0)
                .stunPort(0).coapPort(-1).allowListFile(allowList)
                .redis(new ServerConfig.Redis(URI.create(redis.uri()), "wsrelay:")).build());
        toClose.add(server);
        return server;
    }

    private Device device(String name, ReferenceServer server) throws Exception {
        Device d = PeerLinks.device().identity(dir.resolve(name + ".key")).rendezvous(server.controlUri())
                .stunServer(server.stunAddress())
                .transport(Endpoint.parse("gated-udp://127.0.0.1:0"), GatedUdpProvider.class.getName())
                .connectTimeout(Duration.ofSeconds(5)).build();
        toClose.add(d);
        d.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        GatedUdpProvider.BLOCKED.add(d.localEndpoints().get(0).port());
        return d;
    }

    @Test
    void devicesOnTwoNodesLinkThroughTheWebSocketRelay(RedisServer redis) throws Exception {
        DeviceId a = DeviceIdentity.loadOrCreate(dir.resolve("a.key")).id();
        DeviceId b = DeviceIdentity.loadOrCreate(dir.resolve("b.key")).id();
        Path list = dir.resolve("allow-list");
        Files.writeString(list, a + "\n" + b + "\n");
        ReferenceServer one = node(redis, list);
        ReferenceServer two = node(redis, list);
        Device alice = device("a", one);
        Device bob = device("b", two);

        byte[] data = new byte[300_000];
        new Random(11).nextBytes(data);
        ByteArrayOutputStream got = new ByteArrayOutputStream();
        CompletableFuture<byte[]> received = new CompletableFuture<>();
        CompletableFuture<PeerLink> incoming = new CompletableFuture<>();
        bob.onIncoming(request -> request.accept().thenAccept(link -> {
            link.channel().onMessage((m, how) -> {
                byte[] chunk = new byte[m.remaining()];
                m.get(chunk);
                synchronized (got) {
                    got.writeBytes(chunk);
                    if (got.size() >= data.length) {
                        received.complete(got.toByteArray());
                    }
                }
            });
            incoming.complete(link);
        }));
        PeerLink link = alice.connect(b).toCompletableFuture().get(20, TimeUnit.SECONDS);
        assertEquals(PathKind.RELAY, link.path().kind(), link.paths().toString());
        assertEquals("wsrelay", link.path().local().scheme(), link.paths().toString());
        PeerLink bobsLink = incoming.get(10, TimeUnit.SECONDS);
        assertEquals("wsrelay", bobsLink.path().local().scheme(), bobsLink.paths().toString());
        for (int off = 0; off < data.length; off += 1000) {
            link.channel().send(java.nio.ByteBuffer.wrap(data, off, Math.min(1000, data.length - off)));
        }
        assertArrayEquals(data, received.get(30, TimeUnit.SECONDS), "byte-exact across nodes");
        assertTrue(two.wsRelay().relayedBytes() >= data.length, "node two delivered the transfer to bob: "
                + two.wsRelay().relayedBytes());
        assertTrue(one.wsRelay().relayedBytes() > 0, "node one delivered bob's acknowledgements to alice");
        assertEquals(0, one.wsRelay().dropped(WsRelay.Drop.NOT_INTRODUCED) + two.wsRelay().dropped(WsRelay.Drop.NOT_INTRODUCED));
    }
}
