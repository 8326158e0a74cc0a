package io.peerlink.server;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.RelayServer;
import io.peerlink.relay.turn.TurnClient;
import io.peerlink.relay.turn.TurnCredentials;
import io.peerlink.relay.turn.TurnException;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendezvous side of relaying, on the wire: introductions carry per-link TURN credentials for
 * the embedded server (UDP and TCP URIs); those credentials allocate on the real embedded server
 * and get a permission only towards the introduced peer; trickle reaches the introduced peer
 * only, under its own request ID, RELAY candidates only; a trickle for no introduction is an error
 * and the connection stays up.
 */
class RendezvousRelaysTest {
    private static final String SECRET = "relay-test-secret-0123456789";
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private RawControlClient admitted(ReferenceServer server, DeviceIdentity id, List<Candidate> candidates) throws Exception {
        RawControlClient raw = new RawControlClient(server.controlUri());
        toClose.add(raw);
        raw.send(RawControlClient.hello(id, raw.challenge.nonce(), "127.0.0.1", candidates));
        assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
        return raw;
    }

    @Test
    void introductionsCarryPerLinkCredentialsAndTrickleReachesOnlyThePeer() throws Exception {
        DeviceIdentity a = DeviceIdentity.ephemeral();
        DeviceIdentity b = DeviceIdentity.ephemeral();
        Path list = dir.resolve("allow-list");
        Files.writeString(list, a.id() + "\n" + b.id() + "\n");
        ReferenceServer server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0)
                .coapPort(-1).turnSecret(SECRET).turnAllowLoopbackPeers(true).allowListFile(list).build());
        toClose.add(server);
        Candidate bHost = Candidate.of(Endpoint.parse("udp://127.0.0.1:40002"), CandidateType.HOST, 65535);
        RawControlClient ra = admitted(server, a, List.of(Candidate.of(Endpoint.parse("udp://127.0.0.1:40001"), CandidateType.HOST, 65535)));
        RawControlClient rb = admitted(server, b, List.of(bHost));

        ra.send(new Message.Connect(7, b.id()));
        Message.Incoming in = (Message.Incoming) rb.nextNonPing();
        rb.send(new Message.Accept(in.requestId()));
        Message.Introduce ia = (Message.Introduce) ra.nextNonPing();
        Message.Introduce ib = (Message.Introduce) rb.nextNonPing();
        assertEquals(7, ia.requestId());
        assertEquals(in.requestId(), ib.requestId());

        InetSocketAddress turn = server.turnServer().udpAddress();
        List<RelayServer> relays = ia.relayServers();
        assertEquals(List.of("turn:127.0.0.1:" + turn.getPort() + "?transport=udp", "turn:127.0.0.1:" + turn.getPort() + "?transport=tcp"),
                relays.stream().map(RelayServer::uri).toList());
        RelayServer mine = relays.get(0);
        assertEquals(a.id().value(), TurnCredentials.userId(mine.username()), "the quota counts per device");
        assertNotNull(TurnCredentials.linkTag(mine.username()));
        assertEquals(TurnCredentials.password(SECRET, mine.username()), mine.credential());
        RelayServer theirs = ib.relayServers().get(0);
        assertNotEquals(TurnCredentials.linkTag(mine.username()), TurnCredentials.linkTag(theirs.username()), "one tag per side");

        // The credentials allocate on the real embedded server; permissions go only to the introduced peer.
        try (TurnClient client = TurnClient.connect(TurnClient.Protocol.UDP, turn, new TurnCredentials(mine.username(), mine.credential()), null)) {
            assertNotNull(client.allocate());
            client.createPermission(InetAddress.getByName("127.0.0.1")); // B's candidate and control address
            TurnException refused = assertThrows(TurnException.class, () -> client.createPermission(InetAddress.getByName("127.0.0.2")));
            assertEquals(403, refused.code());
        }
        TurnException wrong = assertThrows(TurnException.class, () -> {
            try (TurnClient c = TurnClient.connect(TurnClient.Protocol.UDP, turn, new TurnCredentials(mine.username(), "forged"), null)) {
                c.allocate();
            }
        });
        assertEquals(401, wrong.code());

        // Trickle: A's relayed candidate reaches B under B's request ID; non-RELAY candidates are not forwarded.
        Candidate relayed = Candidate.of(Endpoint.parse("turn://127.0.0.1:50000"), CandidateType.RELAY, 1);
        ra.send(new Message.Trickle(7, List.of(relayed, Candidate.of(Endpoint.parse("udp://192.0.2.9:1"), CandidateType.HOST, 1))));
        Message.Trickle forwarded = (Message.Trickle) rb.nextNonPing();
        assertEquals(ib.requestId(), forwarded.requestId());
        assertEquals(List.of(relayed), forwarded.candidates());

        // A trickle for an introduction this connection never got is refused; the connection stays.
        rb.send(new Message.Trickle(424242, List.of(relayed)));
        Message.Error e = (Message.Error) rb.nextNonPing();
        assertEquals(ErrorCode.UNKNOWN_REQUEST, e.code());
        rb.send(new Message.Trickle(ib.requestId(), List.of(relayed)));
        Message.Trickle back = (Message.Trickle) ra.nextNonPing();
        assertEquals(7, back.requestId());
        assertTrue(ra.received.isEmpty() || !ra.received.peek().contains("trickle"), "exactly one trickle forwarded");
    }

    @Test
    void turnFollowsStunUnlessConfigured() {
        assertEquals(3479, ServerConfig.builder().build().relay().turnPort());
        assertEquals(0, ServerConfig.builder().stunPort(0).build().relay().turnPort());
        assertEquals(-1, ServerConfig.builder().stunPort(-1).build().relay().turnPort());
        assertEquals(5000, ServerConfig.builder().stunPort(-1).turnPort(5000).build().relay().turnPort());
        assertThrows(IllegalArgumentException.class, () -> ServerConfig.builder().turnSecret("short").build());
        assertThrows(IllegalArgumentException.class, () -> new ServerConfig.ExternalTurn(List.of("http://198.51.100.1:3478"), "s"));
    }
}
