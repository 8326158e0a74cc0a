package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.core.internal.link.SetupPacket;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.udp.UdpOptions;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The attacks on connectivity checks that the security review reproduced, performed against real
 * sockets on loopback, each next to a legitimate check that must still succeed: a host at a
 * colliding address answering probes, an authentic ACK from the wrong address, an introduction
 * whose candidates point at a victim, spoofed (replayed) probe sources, and a replayed nomination.
 * Victims sit on 127.0.0.2 so that their per-address budget is their own.
 */
class ConnectivityCheckAttackTest {

    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Duration WAIT = Duration.ofSeconds(15);

    private static String secret() {
        byte[] b = new byte[16];
        RANDOM.nextBytes(b);
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
    }

    private static Candidate host(Endpoint e, int preference) {
        return Candidate.of(e, CandidateType.HOST, preference);
    }

    private static ConnectivityCheck.Selected await(ConnectivityCheck check) throws Exception {
        return check.result().get(WAIT.toMillis(), TimeUnit.MILLISECONDS);
    }

    private static boolean contains(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }

    /**
     * "Link hijack at a colliding private address": the initiator's best candidate for the peer is
     * an address where another host listens. That host answers every probe the ways a hijacker
     * could without the session secret: echoing the probe's MAC, an all-zero MAC, and the probe
     * reflected back. The initiator must select the real peer, and nothing the host received may
     * contain the secret or its digest.
     */
    @Test
    void aHostAtACollidingAddressCannotHijackTheLink() throws Exception {
        String secret = secret();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness b = CheckHarness.loopback();
             CheckHarness.Raw hijacker = new CheckHarness.Raw("127.0.0.1", (self, d, to) -> {
                 try {
                     SetupPacket.Probe p = SetupPacket.readProbe(d.duplicate());
                     if (p.type() != SetupPacket.PROBE) {
                         return;
                     }
                     ByteBuffer echo = ByteBuffer.allocate(64);
                     echo.put((byte) SetupPacket.PROBE_ACK).putLong(p.sourceCid()).putLong(p.txid()).put((byte) p.flags())
                             .put((byte) 4).putShort((short) 1).put(new byte[] {127, 0, 0, 1}).put(p.mac()).flip();
                     self.send(echo, to);
                     ByteBuffer zeros = ByteBuffer.allocate(64);
                     zeros.put((byte) SetupPacket.PROBE_ACK).putLong(p.sourceCid()).putLong(p.txid()).put((byte) p.flags())
                             .put((byte) 4).putShort((short) 1).put(new byte[] {127, 0, 0, 1}).put(new byte[16]).flip();
                     self.send(zeros, to);
                     self.send(d.duplicate(), to);
                 } catch (io.peerlink.core.internal.link.SetupFormatException e) {
                     // not a probe
                 }
             })) {
            long aCid = 11;
            long bCid = 22;
            // The hijacker's address ranks above the peer's, as a colliding LAN address would.
            ConnectivityCheck atA = a.check(aCid, bCid, secret, true,
                    List.of(host(hijacker.endpoint(), 65535), host(b.endpoint(), 100)), PunchOptions.defaults());
            a.start(atA);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (hijacker.received.get() < 3 && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            assertTrue(hijacker.received.get() >= 3, "the hijacker must have been probed for this test to mean anything");
            Thread.sleep(100); // its answers arrive
            assertFalse(atA.result().isDone(), "the hijacker's answers must not select a path");
            // Only now does the real peer take part.
            ConnectivityCheck atB = b.check(bCid, aCid, secret, false, List.of(host(a.endpoint(), 65535)), PunchOptions.defaults());
            b.start(atB);
            assertEquals(b.endpoint(), await(atA).remote(), "the initiator must select the real peer");
            assertEquals(a.endpoint(), await(atB).remote());
            byte[] secretBytes = secret.getBytes(StandardCharsets.UTF_8);
            byte[] digest = java.util.Arrays.copyOf(MessageDigest.getInstance("SHA-256").digest(secretBytes), 16);
            for (byte[] d : hijacker.datagrams) {
                assertFalse(contains(d, secretBytes), "a probe carried the session secret");
                assertFalse(contains(d, digest), "a probe carried the secret's digest");
            }
        }
    }

    /**
     * "An ACK counts only from the address probed": an authentic ACK (made with the session
     * secret, as an on-path party that learnt it could) for a probe sent to one address, sent
     * from another address, validates neither. The real peer, started afterwards, is selected.
     */
    @Test
    void anAuthenticAckFromAnotherAddressValidatesNothing() throws Exception {
        String secret = secret();
        javax.crypto.Mac responderKey = ProbeKeys.derive(secret, false).outbound();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness b = CheckHarness.loopback();
             CheckHarness.Raw silent = new CheckHarness.Raw("127.0.0.1", null);
             CheckHarness.Raw elsewhere = new CheckHarness.Raw("127.0.0.1", null)) {
            long aCid = 31;
            long bCid = 32;
            ConnectivityCheck atA = a.check(aCid, bCid, secret, true,
                    List.of(host(silent.endpoint(), 65535), host(b.endpoint(), 100)), PunchOptions.defaults());
            a.start(atA);
            long deadline = System.nanoTime() + WAIT.toNanos();
            while (silent.datagrams.isEmpty() && System.nanoTime() < deadline) {
                Thread.sleep(5);
            }
            SetupPacket.Probe captured = SetupPacket.readProbe(ByteBuffer.wrap(silent.datagrams.get(0)));
            for (int i = 0; i < 3; i++) {
                elsewhere.send(CheckHarness.ack(aCid, captured.txid(), 0, silent.endpoint().toSocketAddress(), responderKey), a.endpoint());
            }
            Thread.sleep(300);
            assertFalse(atA.result().isDone(), "an ACK from the wrong address must not select a path");
            ConnectivityCheck atB = b.check(bCid, aCid, secret, false, List.of(host(a.endpoint(), 65535)), PunchOptions.defaults());
            b.start(atB);
            assertEquals(b.endpoint(), await(atA).remote());
            assertEquals(a.endpoint(), await(atB).remote());
        }
    }

    /**
     * "Reflection": one introduction lists 32 candidates aimed at a victim (16 ports on
     * 127.0.0.2, each twice) plus multicast, broadcast, unspecified and port-0 entries. The issue
     * measured 912 probes (64 KB) at the victim from one such introduction; now the filter keeps 8
     * and the check sends at most {@link ConnectivityCheck#MAX_DATAGRAMS_PER_ADDRESS} datagrams to
     * the victim's address over its whole run. A legitimate check on the same device, at the same
     * time, still links.
     */
    @Test
    void candidatesAimedAtAVictimGetABoundedNumberOfProbes() throws Exception {
        List<CheckHarness.Raw> victims = new ArrayList<>();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness b = CheckHarness.loopback()) {
            List<Candidate> evil = new ArrayList<>();
            for (int i = 0; i < 16; i++) {
                CheckHarness.Raw v = new CheckHarness.Raw("127.0.0.2", null);
                victims.add(v);
                evil.add(host(v.endpoint(), 65535 - i));
                evil.add(Candidate.of(v.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535 - i));
            }
            int port = victims.get(0).endpoint().port();
            for (String bad : new String[] {"224.0.0.1", "255.255.255.255", "0.0.0.0", "0.1.2.3"}) {
                evil.add(host(Endpoint.parse("udp://" + bad + ":" + port), 65535));
            }
            evil.add(host(Endpoint.parse("udp://127.0.0.2:0"), 65535));
            ConnectivityCheck attack = a.check(41, 42, secret(), true, evil, PunchOptions.defaults());
            assertEquals(CandidateFilter.MAX_CANDIDATES, attack.candidates().size());
            for (Candidate c : attack.candidates()) {
                assertEquals("127.0.0.2", c.endpoint().host());
            }
            String secret = secret();
            ConnectivityCheck legitA = a.check(51, 52, secret, true, List.of(host(b.endpoint(), 65535)), PunchOptions.defaults());
            ConnectivityCheck legitB = b.check(52, 51, secret, false, List.of(host(a.endpoint(), 65535)), PunchOptions.defaults());
            a.start(attack);
            a.start(legitA);
            b.start(legitB);
            assertEquals(b.endpoint(), await(legitA).remote(), "the device's other link must still form");
            ExecutionException failed = assertThrows(ExecutionException.class, () -> await(attack));
            assertInstanceOf(NoPathException.class, failed.getCause());
            Thread.sleep(200); // datagrams still in flight
            int total = victims.stream().mapToInt(v -> v.received.get()).sum();
            System.out.println("victim received " + total + " datagrams from one introduction of " + evil.size() + " candidates");
            assertTrue(total <= ConnectivityCheck.MAX_DATAGRAMS_PER_ADDRESS,
                    "victim received " + total + " datagrams, bound " + ConnectivityCheck.MAX_DATAGRAMS_PER_ADDRESS);
            assertTrue(total > 0, "the check must have probed the kept candidates");
        } finally {
            for (CheckHarness.Raw v : victims) {
                v.close();
            }
        }
    }

    /**
     * Many introductions at once, all aimed at one victim address: the device-wide budget, not the
     * number of introductions, bounds what the victim receives.
     */
    @Test
    void manyIntroductionsAtOneVictimShareTheDeviceBudget() throws Exception {
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness.Raw victim = new CheckHarness.Raw("127.0.0.2", null)) {
            List<ConnectivityCheck> checks = new ArrayList<>();
            for (int i = 0; i < 10; i++) {
                checks.add(a.check(100 + i, 200 + i, secret(), true, List.of(host(victim.endpoint(), 65535)), PunchOptions.defaults()));
            }
            long started = System.nanoTime();
            checks.forEach(a::start);
            for (ConnectivityCheck c : checks) {
                assertThrows(ExecutionException.class, () -> await(c));
            }
            double seconds = (System.nanoTime() - started) / 1e9;
            Thread.sleep(200);
            int received = victim.received.get();
            double bound = ProbeBudget.PER_ADDRESS_BURST + ProbeBudget.PER_ADDRESS_PER_SECOND * seconds;
            System.out.println("victim received " + received + " datagrams from 10 introductions in " + seconds + " s (bound " + bound + ")");
            assertTrue(received <= bound, received + " > " + bound);
            assertTrue(received < 10 * ConnectivityCheck.MAX_DATAGRAMS_PER_ADDRESS / 2, "the device budget must bind before the per-check limit");
        }
    }

    /**
     * "Spoofed PROBE sources are added as peer-reflexive candidates without limit": authentic
     * probes (replayed by an on-path party that can spoof sources) from 20 addresses add at most
     * {@link ConnectivityCheck#MAX_PEER_REFLEXIVE} candidates, and the other sources get nothing
     * back. The real initiator still links.
     */
    @Test
    void spoofedProbeSourcesAddABoundedNumberOfPeerReflexiveCandidates() throws Exception {
        String secret = secret();
        javax.crypto.Mac initiatorKey = ProbeKeys.derive(secret, true).outbound();
        List<CheckHarness.Raw> spoofed = new ArrayList<>();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness b = CheckHarness.loopback()) {
            long aCid = 61;
            long bCid = 62;
            ConnectivityCheck atB = b.check(bCid, aCid, secret, false, List.of(host(a.endpoint(), 65535)), PunchOptions.defaults());
            for (int i = 0; i < 20; i++) {
                CheckHarness.Raw s = new CheckHarness.Raw("127.0.0.2", null);
                spoofed.add(s);
                s.send(CheckHarness.probe(bCid, i, 0, aCid, initiatorKey), b.endpoint());
            }
            Thread.sleep(300);
            List<Candidate> candidates = CompletableFutureOnLoop.call(b, atB::candidates);
            long reflexive = candidates.stream().filter(c -> c.type() == CandidateType.PEER_REFLEXIVE).count();
            assertEquals(ConnectivityCheck.MAX_PEER_REFLEXIVE, reflexive, "peer-reflexive candidates: " + candidates);
            int answered = 0;
            for (CheckHarness.Raw s : spoofed) {
                if (s.received.get() > 0) {
                    answered++;
                }
            }
            assertEquals(ConnectivityCheck.MAX_PEER_REFLEXIVE, answered, "only kept sources may get anything back");
            ConnectivityCheck atA = a.check(aCid, bCid, secret, true, List.of(host(b.endpoint(), 65535)), PunchOptions.defaults());
            a.start(atA);
            b.start(atB);
            assertEquals(b.endpoint(), await(atA).remote());
            assertEquals(a.endpoint(), await(atB).remote());
        } finally {
            for (CheckHarness.Raw s : spoofed) {
                s.close();
            }
        }
    }

    /**
     * "A NOMINATE with a spoofed source points a link at a victim": an authentic nomination
     * replayed from a victim's address is not adopted, because the responder's own probe to that
     * address is never answered. The real initiator's nomination is.
     */
    @Test
    void aReplayedNominationFromAnotherSourceIsNotAdopted() throws Exception {
        String secret = secret();
        javax.crypto.Mac initiatorKey = ProbeKeys.derive(secret, true).outbound();
        try (CheckHarness a = CheckHarness.loopback(); CheckHarness b = CheckHarness.loopback();
             CheckHarness.Raw victim = new CheckHarness.Raw("127.0.0.2", null)) {
            long aCid = 71;
            long bCid = 72;
            ConnectivityCheck atB = b.check(bCid, aCid, secret, false, List.of(host(a.endpoint(), 65535)), PunchOptions.defaults());
            for (int i = 0; i < 5; i++) {
                victim.send(CheckHarness.probe(bCid, 1000 + i, SetupPacket.FLAG_NOMINATE, aCid, initiatorKey), b.endpoint());
            }
            Thread.sleep(300);
            assertFalse(atB.result().isDone(), "an unvalidated nomination must not select a path");
            ConnectivityCheck atA = a.check(aCid, bCid, secret, true, List.of(host(b.endpoint(), 65535)), PunchOptions.defaults());
            a.start(atA);
            b.start(atB);
            assertEquals(b.endpoint(), await(atA).remote());
            assertEquals(a.endpoint(), await(atB).remote(), "the responder must adopt the validated initiator, not the victim");
        }
    }

    /**
     * Where TTL control is impossible, a punch that needed openers fails with that reason instead
     * of silently sending none.
     */
    @Test
    void withoutTtlControlAFailedPunchSaysWhy() throws Exception {
        TransportConfig noTtl = TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).set(UdpOptions.TTL_CONTROL, false).build();
        try (CheckHarness a = new CheckHarness(noTtl); CheckHarness.Raw silent = new CheckHarness.Raw("127.0.0.1", null)) {
            PunchOptions quick = new PunchOptions(1, Duration.ofMillis(300), 3, 0, Duration.ofMillis(40),
                    Duration.ofMillis(20), Duration.ofMillis(30), false);
            ConnectivityCheck check = a.check(81, 82, secret(), true,
                    List.of(Candidate.of(silent.endpoint(), CandidateType.SERVER_REFLEXIVE, 65535)), quick);
            a.start(check);
            ExecutionException failed = assertThrows(ExecutionException.class, () -> await(check));
            String message = failed.getCause().getMessage();
            assertTrue(message.contains("low-TTL openers could not be sent") && message.contains("declares no TTL control"), message);
        }
    }

    /** Runs a supplier on the harness's loop (check state is loop-confined). */
    static final class CompletableFutureOnLoop {
        private CompletableFutureOnLoop() {
        }

        static <T> T call(CheckHarness h, java.util.function.Supplier<T> s) {
            return java.util.concurrent.CompletableFuture.supplyAsync(s, h.loop).join();
        }
    }
}
