package io.peerlink.core.internal.device;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Device;
import io.peerlink.DeviceId;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.rendezvous.Introduction;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * A rendezvous server that substitutes another device for the one asked for (its candidates and,
 * behind them, its keys) makes the handshake fail: the devices are driven with the introductions
 * such a server would send.
 */
class RendezvousSubstitutionTest {
    private static final InetSocketAddress LOOPBACK = new InetSocketAddress("127.0.0.1", 0);
    private final List<Device> devices = new ArrayList<>();

    @AfterEach
    void closeDevices() {
        devices.forEach(Device::close);
    }

    private DeviceImpl device() {
        DeviceImpl d = (DeviceImpl) PeerLinks.device().ephemeralIdentity().udp(LOOPBACK).connectTimeout(Duration.ofSeconds(3)).build();
        devices.add(d);
        return d;
    }

    private static List<Candidate> at(Device d) {
        return List.of(Candidate.of(d.localEndpoints().get(0), CandidateType.HOST, 1000));
    }

    private static Introduction intro(DeviceId peer, List<Candidate> candidates, long local, long remote, Introduction.Role role) {
        return new Introduction(peer, candidates, "dG9rZW4tMTIzNDU2Nzg5MGFi", local, remote, role, Duration.ZERO);
    }

    @Test
    void anHonestIntroductionLinksTheIntroducedDevices() throws Exception {
        DeviceImpl a = device();
        DeviceImpl b = device();
        CompletableFuture<PeerLink> atA = new CompletableFuture<>();
        CompletableFuture<PeerLink> atB = new CompletableFuture<>();
        b.introduced(intro(a.id(), at(a), 22, 11, Introduction.Role.RESPONDER), atB);
        a.introduced(intro(b.id(), at(b), 11, 22, Introduction.Role.INITIATOR), atA);
        assertEquals(b.id(), atA.get(10, TimeUnit.SECONDS).peer());
        assertEquals(a.id(), atB.get(10, TimeUnit.SECONDS).peer());
    }

    @Test
    void aSubstitutedDeviceBehindTheIntroducedIdFailsTheHandshake() throws Exception {
        DeviceImpl a = device();
        DeviceImpl b = device();
        DeviceImpl impostor = device();
        CompletableFuture<PeerLink> atA = new CompletableFuture<>();
        CompletableFuture<PeerLink> atImpostor = new CompletableFuture<>();
        // The server tells A it is linking to B, but gives it the impostor's candidates; the
        // impostor is told, truthfully, that A is coming.
        impostor.introduced(intro(a.id(), at(a), 22, 11, Introduction.Role.RESPONDER), atImpostor);
        a.introduced(intro(b.id(), at(impostor), 11, 22, Introduction.Role.INITIATOR), atA);

        ExecutionException e = assertThrows(ExecutionException.class, () -> atA.get(10, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause());
        assertEquals(UnreachableException.Reason.WRONG_PEER, u.reason());
        Thread.sleep(300);
        assertFalse(atImpostor.isDone() && !atImpostor.isCompletedExceptionally(), "the impostor got no link");
    }

    @Test
    void aSubstitutedInitiatorFailsAtTheResponder() throws Exception {
        DeviceImpl a = device();
        DeviceImpl b = device();
        DeviceImpl impostor = device();
        CompletableFuture<PeerLink> atB = new CompletableFuture<>();
        CompletableFuture<PeerLink> atImpostor = new CompletableFuture<>();
        // B accepted a link from A; the server sends the impostor in A's place.
        b.introduced(intro(a.id(), at(impostor), 22, 11, Introduction.Role.RESPONDER), atB);
        impostor.introduced(intro(b.id(), at(b), 11, 22, Introduction.Role.INITIATOR), atImpostor);

        ExecutionException e = assertThrows(ExecutionException.class, () -> atB.get(10, TimeUnit.SECONDS));
        UnreachableException u = assertInstanceOf(UnreachableException.class, e.getCause());
        assertEquals(UnreachableException.Reason.WRONG_PEER, u.reason());
        assertThrows(ExecutionException.class, () -> atImpostor.get(10, TimeUnit.SECONDS), "no confirmation from B");
    }
}
