package io.peerlink.relay.turn;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.LinkEvent;
import io.peerlink.PathKind;
import io.peerlink.PathState;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.testkit.NumberedTransfer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A link that starts on a relayed path (both devices allocate on a real embedded TURN server) moves
 * to the direct UDP path once that validates, mid-transfer, without losing, duplicating or
 * reordering a message; the relayed path stays as a standby.
 */
class RelayToDirectMigrationTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void close() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    @Test
    void aRelayedLinkMovesToTheDirectPathMidTransferWithoutLossOrDuplication() throws Exception {
        byte[] raw = new byte[24];
        new SecureRandom().nextBytes(raw);
        String secret = HexFormat.of().formatHex(raw);
        TestTurnTransports.configure(secret, 5_000, 15_000);
        TurnServer server = TurnServer.start(TurnServerConfig.builder(secret).allowLoopbackPeers(true).tcpPort(-1).build());
        closeables.add(server);
        Endpoint turn = Endpoint.parse("turn://127.0.0.1:" + server.udpAddress().getPort());
        String provider = TestTurnTransports.class.getName();
        Device a = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(turn, provider).build();
        closeables.add(a);
        Device b = PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).transport(turn, provider).build();
        closeables.add(b);
        NumberedTransfer transfer = new NumberedTransfer(600, 8 << 10, 2);
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        b.onIncoming(req -> req.accept().thenAccept(l -> {
            transfer.receiveOn(l.channel());
            accepted.complete(l);
        }));
        PeerLink link = a.connect(b.localEndpoints().get(1)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        PeerLink peer = accepted.get(10, TimeUnit.SECONDS);
        assertEquals(PathKind.RELAY, link.path().kind());
        CompletableFuture<LinkEvent.PathChanged> upgraded = new CompletableFuture<>();
        link.addListener(e -> {
            if (e instanceof LinkEvent.PathChanged c) {
                upgraded.complete(c);
            }
        });
        CompletableFuture<Void> sending = transfer.sendOn(link.channel());
        assertTrue(transfer.after(100).await(30, TimeUnit.SECONDS), "transfer under way on the relay");
        long relayedBefore = server.stats().relayedBytes();
        assertTrue(relayedBefore > 100L * (8 << 10), "the transfer went through the relay: " + relayedBefore);

        // Only added: the session prefers the validated unrelayed path by itself.
        link.addPath(a.localEndpoints().get(0), b.localEndpoints().get(0)).toCompletableFuture().get(10, TimeUnit.SECONDS);

        LinkEvent.PathChanged change = upgraded.get(10, TimeUnit.SECONDS);
        assertTrue(transfer.received() < transfer.messages(), "moved while messages were still flowing: " + transfer.received());
        assertEquals(PathKind.RELAY, change.from().kind());
        assertEquals(PathKind.DIRECT_PRIVATE, change.to().kind());
        sending.get(60, TimeUnit.SECONDS);
        transfer.awaitIntact(60);
        assertEquals("udp", link.path().local().scheme());
        assertEquals(a.localEndpoints().get(0), peer.path().remote(), "the peer followed to the direct path");
        assertTrue(link.paths().stream().anyMatch(p -> p.kind() == PathKind.RELAY && p.state() == PathState.STANDBY),
                "relayed path kept as standby: " + link.paths());
    }
}
