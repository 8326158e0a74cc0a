package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.core.internal.link.SetupPacket;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The re-punch's ordering rule (docs/protocol-punching.md, "Re-punch"), on real loopback sockets: a
 * check started with {@link ConnectivityCheck#startAfterPeerOpened} sends its openers at once but no
 * full-TTL probe to a public candidate until the peer's openers are confirmed — by
 * {@link ConnectivityCheck#peerOpened()} (the OPENED signal) or an authentic probe of the peer — and
 * fails at the gate without ever having sent one. The peer's public candidate is a raw socket that
 * records the flags of every probe it gets (openers arrive on loopback: no hop decrements their TTL).
 */
class RepunchGateTest {
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final PunchOptions QUICK = new PunchOptions(1, Duration.ofMillis(600), 3, 0, Duration.ofMillis(40),
            Duration.ofMillis(20), Duration.ofMillis(30), false);

    private static String secret() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    /** @return the flags of every PROBE the raw socket received so far */
    private static List<Integer> probeFlags(CheckHarness.Raw raw) {
        List<Integer> flags = new ArrayList<>();
        synchronized (raw.datagrams) {
            for (byte[] d : raw.datagrams) {
                if ((d[0] & 0xff) == SetupPacket.PROBE) {
                    flags.add(d[17] & 0xff);
                }
            }
        }
        return flags;
    }

    private static long fullTtlProbes(CheckHarness.Raw raw) {
        return probeFlags(raw).stream().filter(f -> (f & SetupPacket.FLAG_OPENER) == 0).count();
    }

    private static long openers(CheckHarness.Raw raw) {
        return probeFlags(raw).stream().filter(f -> (f & SetupPacket.FLAG_OPENER) != 0).count();
    }

    @Test
    void noFullTtlProbeBeforeThePeerSaysItsOpenersAreOut() throws Exception {
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness.Raw peer = new CheckHarness.Raw("127.0.0.1", null)) {
            ConnectivityCheck check = a.check(11, 12, secret(), true,
                    List.of(Candidate.of(peer.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535)), QUICK);
            a.loop.execute(() -> check.startAfterPeerOpened(Duration.ofSeconds(10)));
            Thread.sleep(500);
            assertEquals(0, fullTtlProbes(peer), "a full-TTL probe went out before the peer's openers: " + probeFlags(peer));
            assertEquals(QUICK.openerCount(), openers(peer), "the openers go out at once: " + probeFlags(peer));
            assertTrue(ConnectivityCheckAttackTest.CompletableFutureOnLoop.call(a, check::waitingForPeer));

            a.loop.execute(check::peerOpened);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (fullTtlProbes(peer) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(fullTtlProbes(peer) > 0, "released, the check probes the peer: " + probeFlags(peer));
            assertFalse(ConnectivityCheckAttackTest.CompletableFutureOnLoop.call(a, check::waitingForPeer));
            assertTrue(ConnectivityCheckAttackTest.CompletableFutureOnLoop.call(a, check::probedPublic));
        }
    }

    @Test
    void anAuthenticProbeOfThePeerReleasesTheGate() throws Exception {
        String secret = secret();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness.Raw peer = new CheckHarness.Raw("127.0.0.1", null)) {
            ConnectivityCheck check = a.check(21, 22, secret, true,
                    List.of(Candidate.of(peer.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535)), QUICK);
            a.loop.execute(() -> check.startAfterPeerOpened(Duration.ofSeconds(10)));
            Thread.sleep(300);
            // A probe under the wrong key proves nothing and releases nothing.
            peer.send(CheckHarness.probe(21, 1, 0, 22, ProbeKeys.derive(secret(), false).outbound()), a.endpoint());
            Thread.sleep(300);
            assertEquals(0, fullTtlProbes(peer), "released by an unauthentic probe: " + probeFlags(peer));

            ByteBuffer authentic = CheckHarness.probe(21, 2, 0, 22, ProbeKeys.derive(secret, false).outbound());
            peer.send(authentic, a.endpoint());
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (fullTtlProbes(peer) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(fullTtlProbes(peer) > 0, "an authentic probe of the peer releases the gate: " + probeFlags(peer));
        }
    }

    @Test
    void withoutThePeersOpenersTheRoundFailsAtTheGateHavingSentNoFullTtlProbe() throws Exception {
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness.Raw peer = new CheckHarness.Raw("127.0.0.1", null)) {
            ConnectivityCheck check = a.check(31, 32, secret(), false,
                    List.of(Candidate.of(peer.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535)), QUICK);
            a.loop.execute(() -> check.startAfterPeerOpened(Duration.ofMillis(400)));
            ExecutionException failed = assertThrows(ExecutionException.class,
                    () -> check.result().get(10, TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof NoPathException, String.valueOf(failed.getCause()));
            assertTrue(failed.getCause().getMessage().contains("the peer never confirmed its openers"), failed.getCause().getMessage());
            Thread.sleep(200);
            assertEquals(0, fullTtlProbes(peer), "probes: " + probeFlags(peer));
            assertFalse(ConnectivityCheckAttackTest.CompletableFutureOnLoop.call(a, check::probedPublic));
        }
    }

    /** A check superseded by a re-punch towards fresh candidates (LinkRace) fails at once and sends nothing more. */
    @Test
    void anAbandonedCheckFailsAtOnceWithItsReasonAndSendsNothingMore() throws Exception {
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness.Raw peer = new CheckHarness.Raw("127.0.0.1", null)) {
            ConnectivityCheck check = a.check(41, 42, secret(), true,
                    List.of(Candidate.of(peer.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535)), QUICK);
            a.loop.execute(() -> check.start(Duration.ZERO));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
            while (fullTtlProbes(peer) == 0 && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            assertTrue(fullTtlProbes(peer) > 0, "the check probes the peer: " + probeFlags(peer));

            a.loop.execute(() -> check.abandon("the peer announced fresh candidates"));
            ExecutionException failed = assertThrows(ExecutionException.class, () -> check.result().get(5, TimeUnit.SECONDS));
            assertTrue(failed.getCause() instanceof NoPathException, String.valueOf(failed.getCause()));
            assertEquals("the peer announced fresh candidates", failed.getCause().getMessage());
            Thread.sleep(100); // what was already on its way
            int sent = probeFlags(peer).size();
            Thread.sleep(QUICK.attemptDuration().toMillis() + 300); // longer than the probe schedule's intervals
            assertEquals(sent, probeFlags(peer).size(), "probes after the check was abandoned: " + probeFlags(peer));
        }
    }
}
