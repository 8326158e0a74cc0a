package io.peerlink.server;

import io.peerlink.DeviceId;
import io.peerlink.Rendezvous;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.rendezvous.ResumptionTickets;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Resumption tickets (protocol 2.1, docs/protocol-rendezvous.md "Resumption tickets", docs/security.md):
 * a restarted server re-admits devices by ticket, and every attack on a ticket — replayed, forged,
 * stolen without its secret, expired, from another server, for a device the allow-list dropped —
 * is refused or falls back to a signed hello, against a real server.
 */
class ResumptionTicketTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    @AfterEach
    void closeAll() throws Exception {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            closeables.get(i).close();
        }
    }

    private <T extends AutoCloseable> T closing(T c) {
        closeables.add(c);
        return c;
    }

    private ServerConfig config(Path allowList, Path keyFile, int port) {
        return ServerConfig.builder().bindHost("127.0.0.1").httpPort(port).stunPort(-1).coapPort(-1).allowListFile(allowList)
                .keepalive(Duration.ofSeconds(1)).tickets(ServerConfig.Tickets.withKeyFile(keyFile)).build();
    }

    private static void awaitConnected(ReferenceServer server, int devices) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (server.connectedDevices() != devices) {
            assertTrue(System.nanoTime() < deadline, "expected " + devices + " devices online, have " + server.connectedDevices());
            Thread.sleep(20);
        }
    }

    private static RendezvousService service(ReferenceServer server) {
        return server.bean(RendezvousService.class);
    }

    /** A raw admission by signed hello: the welcome carries a ticket and its secret. */
    private static Message.Welcome admitRaw(ReferenceServer server, DeviceIdentity id) throws Exception {
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(RawControlClient.hello(id, raw.challenge.nonce()));
            Message.Welcome w = assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
            assertNotNull(w.ticket(), "a server with tickets issues one at admission");
            assertEquals(Handshake.RESUMPTION_SECRET_LENGTH, w.resumptionSecret().length);
            return w;
        }
    }

    private static Message.Resume resume(DeviceId id, String ticket, byte[] secret, byte[] nonce) {
        return new Message.Resume(Handshake.VERSION, id, "127.0.0.1", ticket, Handshake.resumeProof(secret, nonce, id, "127.0.0.1"),
                Map.of(), List.of());
    }

    /** The server refuses the resume with TICKET_REJECTED (saying why), then offers a fresh challenge. */
    private static Message.Challenge expectRejected(RawControlClient raw, String why) throws Exception {
        Message.Error e = assertInstanceOf(Message.Error.class, raw.nextNonPing());
        assertEquals(ErrorCode.TICKET_REJECTED, e.code(), e.message());
        assertTrue(e.message().contains(why), e.message());
        Message.Challenge fresh = assertInstanceOf(Message.Challenge.class, raw.nextNonPing());
        assertFalse(java.util.Arrays.equals(raw.challenge.nonce(), fresh.nonce()), "a new nonce for the fallback hello");
        return fresh;
    }

    @Test
    void aRestartedServerReadmitsByTicketAndTheAllowListAndPolicyStillApply() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ib = DeviceIdentity.ephemeral();
        DeviceIdentity ic = DeviceIdentity.ephemeral();
        Path allow = dir.resolve("allow-list");
        Files.writeString(allow, ia.id() + " lab\n" + ib.id() + " lab\n" + ic.id() + " other\n");
        Path keyFile = dir.resolve("state/peerlink-tickets.key");
        ReferenceServer first = ReferenceServer.start(config(allow, keyFile, 0));
        int port = first.controlUri().getPort();
        assertTrue(Files.isRegularFile(keyFile), "the ticket key is generated on first start");
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(keyFile)));
        TestDevice a = closing(TestDevice.started(first.controlUri(), ia));
        TestDevice b = closing(TestDevice.started(first.controlUri(), ib));
        TestDevice c = closing(TestDevice.started(first.controlUri(), ic));
        a.awaitRegistered();
        b.awaitRegistered();
        c.awaitRegistered();
        assertEquals(0, service(first).resumptions(), "first admissions are signed hellos");
        a.states.clear();
        first.close();
        a.awaitState(Rendezvous.State.RECONNECTING);

        // Same key file: the restarted server re-admits all three by ticket, an HMAC each.
        ReferenceServer restarted = closing(ReferenceServer.start(config(allow, keyFile, port)));
        awaitConnected(restarted, 3);
        assertEquals(3, service(restarted).resumptions());
        assertEquals(0, service(restarted).ticketsRejected());
        // Resumed devices are full members: introductions work, and the access policy applies as after a hello.
        var intro = b.client.connect(ia.id()).toCompletableFuture().get(10, TimeUnit.SECONDS);
        assertEquals(ia.id(), intro.peer());
        ExecutionException denied = assertThrows(ExecutionException.class,
                () -> a.client.connect(ic.id()).toCompletableFuture().get(10, TimeUnit.SECONDS));
        assertEquals(UnreachableException.Reason.UNKNOWN, assertInstanceOf(UnreachableException.class, denied.getCause()).reason());

        // Restart with a new allow-list: B is gone (cannot resume: DENIED, final), C moved networks (its ticket is
        // stale: TICKET_REJECTED, then a signed hello admits it into the new network).
        Files.writeString(allow, ia.id() + " lab\n" + ic.id() + " lab\n");
        a.states.clear();
        restarted.close();
        a.awaitState(Rendezvous.State.RECONNECTING);
        ReferenceServer third = closing(ReferenceServer.start(config(allow, keyFile, port)));
        awaitConnected(third, 2);
        assertTrue(refusedWithDenied(b), "B, no longer listed, is refused");
        assertEquals(2, third.connectedDevices());
        assertEquals(1, service(third).resumptions(), "A resumed; C's ticket named its old network");
        assertEquals(1, service(third).ticketsRejected());
        assertEquals(ic.id(), a.client.connect(ic.id()).toCompletableFuture().get(10, TimeUnit.SECONDS).peer(),
                "C is in A's network now");

        // Another server (a different ticket key): the tickets are not its own, devices fall back to a hello.
        a.states.clear();
        third.close();
        a.awaitState(Rendezvous.State.RECONNECTING);
        ReferenceServer other = closing(ReferenceServer.start(config(allow, dir.resolve("other.key"), port)));
        awaitConnected(other, 2);
        assertEquals(0, service(other).resumptions());
        assertEquals(2, service(other).ticketsRejected());
    }

    /** @return true once the device's registration attempt ends in DENIED (it keeps retrying, so poll) */
    private static boolean refusedWithDenied(TestDevice d) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (System.nanoTime() < deadline) {
            try {
                d.client.registered().toCompletableFuture().get(1, TimeUnit.SECONDS);
            } catch (ExecutionException e) {
                if (e.getCause().getMessage().contains("DENIED")) {
                    return true;
                }
            } catch (java.util.concurrent.TimeoutException e) {
                // still trying
            }
            Thread.sleep(50);
        }
        return false;
    }

    @Test
    void replayedForgedStolenExpiredAndForeignTicketsAreRefused() throws Exception {
        DeviceIdentity ia = DeviceIdentity.ephemeral();
        DeviceIdentity ie = DeviceIdentity.ephemeral();
        Path allow = dir.resolve("allow-list");
        Files.writeString(allow, ia.id() + " lab\n" + ie.id() + " lab\n");
        Path keyFile = dir.resolve("tickets.key");
        ReferenceServer server = closing(ReferenceServer.start(config(allow, keyFile, 0)));
        Message.Welcome w = admitRaw(server, ia);

        // Honest resume, with the proof over this connection's nonce; the captured message is kept.
        Message.Resume captured;
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            captured = resume(ia.id(), w.ticket(), w.resumptionSecret(), raw.challenge.nonce());
            raw.send(captured);
            assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
        }
        // Replayed on a new connection: the proof covers the old nonce. The device still gets in with a hello.
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(captured);
            Message.Challenge fresh = expectRejected(raw, "proof does not verify");
            raw.send(RawControlClient.hello(ia, fresh.nonce()));
            assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
        }
        // Stolen ticket without its secret (an eavesdropper on the ticket only): a guessed proof fails; a second
        // resume on the same connection closes it.
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ia.id(), w.ticket(), new byte[32], raw.challenge.nonce()));
            Message.Challenge fresh = expectRejected(raw, "proof does not verify");
            raw.send(resume(ia.id(), w.ticket(), new byte[32], fresh.nonce()));
            Message.Error e = assertInstanceOf(Message.Error.class, raw.nextNonPing());
            assertEquals(ErrorCode.TICKET_REJECTED, e.code());
            assertEquals(1008, raw.awaitClose());
        }
        // Forged: the body changed (another network), proof made with the real secret: the MAC fails.
        byte[] raw0 = Base64.getUrlDecoder().decode(w.ticket());
        raw0[raw0.length - 33] ^= 1;
        String forged = Base64.getUrlEncoder().withoutPadding().encodeToString(raw0);
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ia.id(), forged, w.resumptionSecret(), raw.challenge.nonce()));
            expectRejected(raw, "not issued by this server");
        }
        // A's ticket presented for another device E (with A's secret): issued to another device.
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ie.id(), w.ticket(), w.resumptionSecret(), raw.challenge.nonce()));
            expectRejected(raw, "issued to another device");
        }
        // Expired: a ticket this server's key made two days ago with a 24 h lifetime.
        ResumptionTickets past = ResumptionTickets.from(ServerConfig.Tickets.withKeyFile(keyFile),
                Clock.fixed(Instant.now().minus(Duration.ofDays(2)), ZoneOffset.UTC));
        ResumptionTickets.Issued old = past.issue(ia.rawPublicKey(), "lab");
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ia.id(), old.ticket(), old.secret(), raw.challenge.nonce()));
            expectRejected(raw, "expired");
        }
        // The same key now: accepted, which shows the expired one failed for its age alone.
        ResumptionTickets.Issued fresh = ResumptionTickets.from(ServerConfig.Tickets.withKeyFile(keyFile)).issue(ia.rawPublicKey(), "lab");
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ia.id(), fresh.ticket(), fresh.secret(), raw.challenge.nonce()));
            assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
        }
        // Another server's ticket (its own key file).
        ReferenceServer elsewhere = closing(ReferenceServer.start(config(allow, dir.resolve("elsewhere.key"), 0)));
        Message.Welcome foreign = admitRaw(elsewhere, ia);
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(resume(ia.id(), foreign.ticket(), foreign.resumptionSecret(), raw.challenge.nonce()));
            expectRejected(raw, "not issued by this server");
        }
        // A resume signed for another server name is refused like a relayed hello.
        try (RawControlClient raw = new RawControlClient(server.controlUri())) {
            raw.send(new Message.Resume(Handshake.VERSION, ia.id(), "evil.example", w.ticket(),
                    Handshake.resumeProof(w.resumptionSecret(), raw.challenge.nonce(), ia.id(), "evil.example"), Map.of(), List.of()));
            assertEquals(ErrorCode.WRONG_SERVER, assertInstanceOf(Message.Error.class, raw.nextNonPing()).code());
        }
        // A server without tickets answers a resume with TICKET_REJECTED and a challenge, never admits by it.
        ReferenceServer plain = closing(ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(allow).build()));
        try (RawControlClient raw = new RawControlClient(plain.controlUri())) {
            raw.send(resume(ia.id(), w.ticket(), w.resumptionSecret(), raw.challenge.nonce()));
            Message.Challenge again = expectRejected(raw, "does not accept resumption tickets");
            raw.send(RawControlClient.hello(ia, again.nonce()));
            Message.Welcome signed = assertInstanceOf(Message.Welcome.class, raw.nextNonPing());
            assertNull(signed.ticket(), "no tickets from a server that has them off");
        }
        assertEquals(2, service(server).resumptions(), "only the honest resume and the fresh ticket got in by ticket");

        // A valid ticket of a device the allow-list no longer lists: DENIED and closed, no fallback.
        Message.Welcome we = admitRaw(server, ie);
        Files.writeString(allow, ia.id() + " lab\n");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
        while (true) {
            try (RawControlClient raw = new RawControlClient(server.controlUri())) {
                raw.send(resume(ie.id(), we.ticket(), we.resumptionSecret(), raw.challenge.nonce()));
                Message m = raw.nextNonPing();
                if (m instanceof Message.Error e) {
                    assertEquals(ErrorCode.DENIED, e.code(), e.message());
                    assertEquals(1008, raw.awaitClose());
                    break;
                }
                assertInstanceOf(Message.Welcome.class, m, "listed until the allow-list reloads");
            }
            assertTrue(System.nanoTime() < deadline, "the allow-list change was never applied");
            Thread.sleep(100);
        }
    }

    @Test
    void aCorruptKeyFileStopsStartWithAMessage() throws Exception {
        Path keyFile = dir.resolve("bad.key");
        Files.writeString(keyFile, "not a key\n");
        Exception e = assertThrows(Exception.class, () -> ReferenceServer.start(config(null, keyFile, 0)).close());
        Throwable t = e;
        while (t.getCause() != null && !String.valueOf(t.getMessage()).contains("ticket key file")) {
            t = t.getCause();
        }
        assertTrue(String.valueOf(t.getMessage()).contains("ticket key file " + keyFile), String.valueOf(e));
    }
}
