package io.peerlink.samples;

import io.peerlink.CloseReason;
import io.peerlink.DeviceId;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Runs the documents' samples as written (they are the regions of {@link EmbeddingSamples}) against
 * a real reference server over real UDP: a sender sends N messages and closes its device right
 * away, a receiver gets all N and sees a graceful close.
 */
class EmbeddingSamplesTest {
    private static final int N = 200;
    @TempDir
    Path dir;
    private ReferenceServer server;

    @AfterEach
    void stop() {
        if (server != null) {
            server.close();
        }
    }

    private void startServer(DeviceId... allowed) throws Exception {
        StringBuilder allow = new StringBuilder();
        for (DeviceId d : allowed) {
            allow.append(d).append(" home\n");
        }
        Path file = dir.resolve("allow-list");
        Files.writeString(file, allow);
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(file).build());
    }

    @Test
    void senderAndReceiverFromTheDocsDeliverNOfN() throws Exception {
        Path senderKey = dir.resolve("sender.key");
        Path receiverKey = dir.resolve("receiver.key");
        DeviceId receiverId = DeviceIdentity.loadOrCreate(receiverKey).id();
        startServer(DeviceIdentity.loadOrCreate(senderKey).id(), receiverId);
        EmbeddingSamples samples = new EmbeddingSamples(server.stunAddress());
        CompletableFuture<CloseReason> receiver = CompletableFuture.supplyAsync(() -> {
            try {
                return samples.receiver(receiverKey, server.controlUri());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (server.connectedDevices() < 1 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(1, server.connectedDevices(), "the receiver registered");
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < N; i++) {
            messages.add("{\"seq\":" + i + ",\"temperature\":" + (20 + i % 7) + "}");
        }
        messages.add("x".repeat(1 << 20));   // and one of 1 MiB
        samples.sender(senderKey, server.controlUri(), receiverId, messages);
        CloseReason reason = receiver.get(30, TimeUnit.SECONDS);
        assertEquals(CloseReason.NORMAL, reason.code(), reason.toString());
        assertEquals(messages, samples.received, "N of N delivered, in order");
    }

    @Test
    void theFailureSampleReportsTheReasonAndCause() throws Exception {
        Path key = dir.resolve("a.key");
        DeviceId unknown = DeviceIdentity.loadOrCreate(dir.resolve("nobody.key")).id();
        startServer(DeviceIdentity.loadOrCreate(key).id());
        EmbeddingSamples samples = new EmbeddingSamples(server.stunAddress());
        assertEquals(UnreachableException.Reason.UNKNOWN, samples.failure(key, server.controlUri(), unknown));
        java.net.URI down = server.controlUri();
        server.close();
        server = null;
        assertEquals(UnreachableException.Reason.NO_RENDEZVOUS, samples.failure(key, down, unknown));
    }

    @Test
    void theTransportOptionsSampleBuildsAndAMisspelledOptionIsNamed() {
        EmbeddingSamples samples = new EmbeddingSamples(new java.net.InetSocketAddress("127.0.0.1", 3478));
        try (io.peerlink.Device device = samples.transportOptions(dir.resolve("o.key"))) {
            assertEquals("udp", device.localEndpoints().get(0).scheme());
        }
        io.peerlink.PeerLinkException e = org.junit.jupiter.api.Assertions.assertThrows(io.peerlink.PeerLinkException.class,
                () -> io.peerlink.PeerLinks.device().ephemeralIdentity()
                        .transport(io.peerlink.Endpoint.parse("udp://0.0.0.0:0"), java.util.Map.of("udp.ttl", "2")).build());
        org.junit.jupiter.api.Assertions.assertTrue(e.getMessage().contains("unknown option 'udp.ttl'"), e.getMessage());
    }

    @Test
    void theHostingSampleServesTheAllowListFromItsSettings() throws Exception {
        DeviceIdentity listed = DeviceIdentity.ephemeral();
        Path file = Files.writeString(dir.resolve("hosted-allow-list"), listed.id() + " home\n");
        server = EmbeddingSamples.hostServer(file);
        org.junit.jupiter.api.Assertions.assertEquals(List.of("operations", "rendezvous"), server.endpoints());
        io.peerlink.server.auth.AllowListAuthenticator list = (io.peerlink.server.auth.AllowListAuthenticator)
                server.bean(io.peerlink.spi.Authenticator.class);
        org.junit.jupiter.api.Assertions.assertEquals(file, list.file());
    }
}
