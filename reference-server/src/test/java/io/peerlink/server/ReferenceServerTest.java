package io.peerlink.server;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.PeerLinkException;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.core.internal.rendezvous.Introduction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

class ReferenceServerTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T resource) {
        toClose.add(resource);
        return resource;
    }

    private static final String STATUS_TOKEN = "status-token-for-tests";

    private ReferenceServer allowListServer(String allowList, Duration keepalive) throws Exception {
        Path file = dir.resolve("allow-list");
        Files.writeString(file, allowList);
        return closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .allowListFile(file).keepalive(keepalive).statusToken(STATUS_TOKEN).build()));
    }

    private TestDevice device(ReferenceServer server, DeviceIdentity identity) {
        return closing(TestDevice.started(server.controlUri(), identity));
    }

    private static Candidate candidate(String host, int port, CandidateType type) {
        return Candidate.of(Endpoint.udp(new InetSocketAddress(host, port)), type, 65535);
    }

    private static Throwable cause(java.util.concurrent.CompletionStage<?> stage) {
        ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(10, TimeUnit.SECONDS));
        return e.getCause();
    }

    @Test
    void allowListAdmitsListedDevicesAndDeniesOthersWithAClearReason() throws Exception {
        DeviceIdentity listed = DeviceIdentity.ephemeral();
        DeviceIdentity stranger = DeviceIdentity.ephemeral();
        ReferenceServer server = allowListServer("# lab devices\n" + listed.id() + " lab   # gateway\n\n", Duration.ofSeconds(2));
        assertEquals("/peerlink/v1", server.controlUri().getPath());
        TestDevice ok = device(server, listed);
        ok.awaitRegistered();
        assertEquals(Rendezvous.State.REGISTERED, ok.client.state());

        TestDevice denied = device(server, stranger);
        Throwable failure = cause(denied.client.registered());
        assertInstanceOf(PeerLinkException.class, failure);
        assertTrue(failure.getMessage().contains("DENIED") && failure.getMessage().contains("allow-list"), failure.getMessage());
        assertEquals(1, server.connectedDevices());
    }

    @Test
    void openModeAdmitsAnyDeviceIntoTheDefaultNetwork() throws Exception {
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .open(true).build()));
        assertNull(server.stunAddress());
        TestDevice a = device(server, DeviceIdentity.ephemeral());
        TestDevice b = device(server, DeviceIdentity.ephemeral());
        a.awaitRegistered();
        b.awaitRegistered();
        assertEquals(2, server.connectedDevices());
        assertTrue(a.client.isOnline(b.id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    @Test
    void introductionExchangesCandidatesBothWaysWithDistinctConnectionIdsAndOneToken() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ib = DeviceIdentity.ephemeral();
        ReferenceServer server = allowListServer(ia.id() + " lab\n" + ib.id() + " lab\n", Duration.ofSeconds(2));
        TestDevice a = device(server, ia);
        TestDevice b = device(server, ib);
        // The server-reflexive candidate must be at the control connection's source (loopback here); one elsewhere is dropped.
        List<Candidate> aCandidates = List.of(candidate("10.0.0.2", 40000, CandidateType.HOST), candidate("127.0.0.1", 61000, CandidateType.SERVER_REFLEXIVE));
        List<Candidate> bCandidates = List.of(candidate("10.1.0.3", 40001, CandidateType.HOST));
        a.client.updateCandidates(aCandidates);
        b.client.updateCandidates(bCandidates);
        a.awaitRegistered();
        b.awaitRegistered();

        Introduction atA = a.client.connect(b.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(a.id(), b.incoming.poll(5, TimeUnit.SECONDS));
        Introduction atB = b.introductions.poll(5, TimeUnit.SECONDS);
        assertNotNull(atB, "target got no introduction");

        assertEquals(b.id(), atA.peer());
        assertEquals(a.id(), atB.peer());
        assertEquals(bCandidates, atA.peerCandidates());
        assertEquals(aCandidates, atB.peerCandidates());
        assertEquals(Introduction.Role.INITIATOR, atA.role());
        assertEquals(Introduction.Role.RESPONDER, atB.role());
        assertEquals(atA.sessionToken(), atB.sessionToken());
        assertEquals(22, atA.sessionToken().length(), "128-bit token, base64url without padding");
        assertNotEquals(atA.localConnectionId(), atA.remoteConnectionId());
        assertEquals(atA.localConnectionId(), atB.remoteConnectionId());
        assertEquals(atA.remoteConnectionId(), atB.localConnectionId());
        assertTrue(a.client.controlRtt().compareTo(Duration.ZERO) > 0, "the welcome ping measured the control RTT");
        assertFalse(atA.startIn().isNegative());
        assertFalse(atB.startIn().isNegative());

        Introduction again = a.client.connect(b.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertNotEquals(atA.sessionToken(), again.sessionToken(), "session tokens are one-time");
        assertEquals(2, server.introductions());

        HttpClient http = HttpClient.newHttpClient();
        URI base = URI.create("http://127.0.0.1:" + server.controlUri().getPort());
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(base.resolve("/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, health.statusCode());
        assertEquals("ok\n", health.body());
        HttpResponse<String> status = http.send(HttpRequest.newBuilder(base.resolve("/status"))
                .header("Authorization", "Bearer " + STATUS_TOKEN).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(200, status.statusCode());
        assertTrue(status.body().contains("\"devicesOnline\":2"), status.body());
        assertTrue(status.body().contains("\"introductions\":2"), status.body());
        assertEquals(404, http.send(HttpRequest.newBuilder(base.resolve("/nothing")).build(), HttpResponse.BodyHandlers.ofString()).statusCode());
    }

    @Test
    void rejectedConnectFailsWithRejectedAndTheReason() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ib = DeviceIdentity.ephemeral();
        ReferenceServer server = allowListServer(ia.id() + "\n" + ib.id() + "\n", Duration.ofSeconds(2));
        TestDevice a = device(server, ia);
        TestDevice b = device(server, ib);
        b.rejectReason = "busy updating firmware";
        a.awaitRegistered();
        b.awaitRegistered();
        UnreachableException e = assertInstanceOf(UnreachableException.class, cause(a.client.connect(b.id())));
        assertEquals(UnreachableException.Reason.REJECTED, e.reason());
        assertTrue(e.getMessage().contains("busy updating firmware"), e.getMessage());
        assertEquals(0, server.introductions());
    }

    @Test
    void connectToUnknownOfflineAndDeniedTargetsFailsWithTheReason() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity gone = DeviceIdentity.ephemeral();
        DeviceIdentity otherNet = DeviceIdentity.ephemeral();
        ReferenceServer server = allowListServer(ia.id() + " lab\n" + gone.id() + " lab\n" + otherNet.id() + " office\n", Duration.ofSeconds(2));
        TestDevice a = device(server, ia);
        TestDevice g = device(server, gone);
        TestDevice o = device(server, otherNet);
        a.awaitRegistered();
        g.awaitRegistered();
        o.awaitRegistered();
        g.close();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (server.connectedDevices() != 2 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(2, server.connectedDevices());

        DeviceId unknown = DeviceIdentity.ephemeral().id();
        assertEquals(UnreachableException.Reason.UNKNOWN, ((UnreachableException) cause(a.client.connect(unknown))).reason());
        assertEquals(UnreachableException.Reason.OFFLINE, ((UnreachableException) cause(a.client.connect(gone.id()))).reason());
        // Not allowed answers exactly like never registered: the requester must not learn that the ID exists.
        UnreachableException denied = (UnreachableException) cause(a.client.connect(otherNet.id()));
        UnreachableException never = (UnreachableException) cause(a.client.connect(DeviceIdentity.ephemeral().id()));
        assertEquals(UnreachableException.Reason.UNKNOWN, denied.reason());
        assertEquals(never.reason(), denied.reason());
        assertEquals(never.getMessage().replace(never.peer().toString(), "X"), denied.getMessage().replace(denied.peer().toString(), "X"));
        assertTrue(o.incoming.isEmpty(), "a denied request must not reach the target");
        assertFalse(a.client.isOnline(otherNet.id()).toCompletableFuture().get(5, TimeUnit.SECONDS), "presence must not leak across networks");
        assertFalse(a.client.isOnline(gone.id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    @Test
    void silentDeviceIsRemovedAfterThreeKeepalives() throws Exception {
        DeviceIdentity silent = DeviceIdentity.ephemeral();
        DeviceIdentity live = DeviceIdentity.ephemeral();
        ReferenceServer server = allowListServer(silent.id() + "\n" + live.id() + "\n", Duration.ofMillis(300));
        TestDevice l = device(server, live);
        l.awaitRegistered();
        RawControlClient raw = closing(new RawControlClient(server.controlUri()));
        raw.send(RawControlClient.hello(silent, raw.challenge.nonce()));
        assertInstanceOf(io.peerlink.protocol.rendezvous.Message.Welcome.class, raw.nextNonPing());
        assertEquals(2, server.connectedDevices());
        // The raw client never answers the server's pings; the real client does.
        raw.closed.get(10, TimeUnit.SECONDS);
        assertEquals(1, server.connectedDevices());
        assertEquals(Rendezvous.State.REGISTERED, l.client.state());
        assertFalse(l.client.isOnline(silent.id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    @Test
    void clientReRegistersByItselfAfterTheServerRestarts() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ib = DeviceIdentity.ephemeral();
        Path file = dir.resolve("allow-list");
        Files.writeString(file, ia.id() + "\n" + ib.id() + "\n");
        ServerConfig first = ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).allowListFile(file)
                .keepalive(Duration.ofSeconds(1)).build();
        ReferenceServer server = ReferenceServer.start(first);
        int port = server.controlUri().getPort();
        TestDevice a = closing(TestDevice.started(server.controlUri(), ia));
        List<Candidate> aCandidates = List.of(candidate("10.0.0.9", 41000, CandidateType.HOST));
        a.client.updateCandidates(aCandidates);
        a.awaitRegistered();
        a.states.clear();
        server.close();
        a.awaitState(Rendezvous.State.RECONNECTING);
        ServerConfig second = ServerConfig.builder().bindHost("127.0.0.1").httpPort(port).stunPort(-1).coapPort(-1).allowListFile(file)
                .keepalive(Duration.ofSeconds(1)).build();
        ReferenceServer restarted = closing(ReferenceServer.start(second));
        a.awaitState(Rendezvous.State.REGISTERED);
        a.awaitRegistered();
        assertEquals(1, restarted.connectedDevices());
        // The restarted server knows nothing but what the client re-sent: its candidates must be there.
        TestDevice b = closing(TestDevice.started(restarted.controlUri(), ib));
        b.awaitRegistered();
        Introduction intro = b.client.connect(ia.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(aCandidates, intro.peerCandidates());
    }

    @Test
    void misconfigurationStopsStartWithAMessageSayingWhatToFix() throws Exception {
        // No allow-list file is not a mistake: the server starts with embedded defaults and admits nobody.
        ServerConfig noFile = ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).build();
        try (ReferenceServer server = ReferenceServer.start(noFile)) {
            assertNotNull(server.controlUri());
        }
        io.peerlink.server.auth.AllowListAuthenticator empty = new io.peerlink.server.auth.AllowListAuthenticator();
        empty.configure(noFile.plugin("authenticator.allow-list."));
        byte[] someoneKey = new byte[32];
        new java.security.SecureRandom().nextBytes(someoneKey);
        assertInstanceOf(io.peerlink.spi.AuthResult.Denied.class, empty.authenticate(new io.peerlink.spi.AuthRequest(
                io.peerlink.DeviceId.fromPublicKey(someoneKey), someoneKey, new java.net.InetSocketAddress("127.0.0.1", 1), java.util.Map.of())));

        IllegalStateException unknown = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(
                ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).authenticator("ldap").build()));
        assertTrue(unknown.getMessage().contains("no Authenticator named 'ldap'") && unknown.getMessage().contains("allow-list"), unknown.getMessage());

        Path bad = dir.resolve("bad-list");
        Files.writeString(bad, "# ok\nnot-a-device-id lab\n");
        IllegalStateException badLine = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(
                ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1).allowListFile(bad).build()));
        assertTrue(badLine.getMessage().contains("line 2"), badLine.getMessage());

        ReferenceServer running = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1)
                .open(true).build()));
        IllegalStateException httpTaken = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerConfig.builder()
                .bindHost("127.0.0.1").httpPort(running.controlUri().getPort()).stunPort(-1).coapPort(-1).open(true).build()));
        assertTrue(httpTaken.getMessage().contains("ailed to bind") || httpTaken.getMessage().contains("in use"), httpTaken.getMessage());
        IllegalStateException stunTaken = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(ServerConfig.builder()
                .bindHost("127.0.0.1").httpPort(0).stunPort(running.stunAddress().getPort()).coapPort(-1).open(true).build()));
        assertTrue(stunTaken.getMessage().contains("cannot bind STUN server"), stunTaken.getMessage());
        assertEquals(0, running.connectedDevices(), "the running server is unaffected");
    }

    @Test
    void unansweredIncomingTimesOutAndADisconnectingTargetMakesItOffline() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ib = DeviceIdentity.ephemeral();
        Path file = dir.resolve("allow-list");
        Files.writeString(file, ia.id() + "\n" + ib.id() + "\n");
        ServerConfig.Limits limits = ServerConfig.Limits.defaults().withConnectTimeout(Duration.ofMillis(500));
        ReferenceServer server = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .allowListFile(file).limits(limits).build()));
        TestDevice a = device(server, ia);
        TestDevice b = device(server, ib);
        b.holdIncoming = true;
        a.awaitRegistered();
        b.awaitRegistered();
        assertEquals(UnreachableException.Reason.TIMEOUT, ((UnreachableException) cause(a.client.connect(b.id()))).reason());
        // Accepting after the timeout is too late: the request is gone and nobody gets an introduction.
        b.held.poll(5, TimeUnit.SECONDS).accept();

        java.util.concurrent.CompletionStage<Introduction> pendingConnect = a.client.connect(b.id());
        assertNotNull(b.held.poll(5, TimeUnit.SECONDS), "the target saw the second request");
        b.close();
        assertEquals(UnreachableException.Reason.OFFLINE, ((UnreachableException) cause(pendingConnect)).reason());
        assertTrue(b.introductions.isEmpty());
        assertEquals(0, server.introductions());
    }
}
