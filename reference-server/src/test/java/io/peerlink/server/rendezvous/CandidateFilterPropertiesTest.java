package io.peerlink.server.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

/** Whatever an admitted device advertises, what the server passes on obeys the candidate rules (docs/security.md). */
class CandidateFilterPropertiesTest {
    private static final InetSocketAddress REMOTE_DEVICE = new InetSocketAddress("203.0.113.9", 50000);
    private static final InetSocketAddress LOCAL_DEVICE = new InetSocketAddress("127.0.0.1", 50000);

    @Property(tries = 1000)
    void passedOnCandidatesAreFewUniqueUnicastAndHonest(@ForAll("lists") List<Candidate> advertised, @ForAll boolean local)
            throws Exception {
        InetSocketAddress source = local ? LOCAL_DEVICE : REMOTE_DEVICE;
        List<Candidate> kept = CandidateFilter.filter(advertised, source);
        assertTrue(kept.size() <= CandidateFilter.MAX_KEPT, kept.toString());
        assertTrue(advertised.containsAll(kept), "the filter only removes");
        Set<String> seen = new HashSet<>();
        for (Candidate c : kept) {
            InetAddress a = InetAddress.getByName(c.endpoint().host());
            assertTrue(seen.add(a.getHostAddress() + ":" + c.endpoint().port()), "duplicate " + c);
            assertNotEquals(0, c.endpoint().port());
            assertFalse(a.isAnyLocalAddress() || a.isMulticastAddress() || a.getHostAddress().equals("255.255.255.255"), c.toString());
            assertTrue(local || !a.isLoopbackAddress(), "loopback from a remote device: " + c);
            if (c.type() == CandidateType.SERVER_REFLEXIVE) {
                assertEquals(source.getAddress(), a, "a reflexive candidate must be where the control connection comes from");
            }
        }
    }

    @Property(tries = 200)
    void honestCandidatesSurvive(@ForAll("privateHosts") List<String> hosts) {
        List<Candidate> honest = new java.util.ArrayList<>();
        for (int i = 0; i < hosts.size(); i++) {
            honest.add(new Candidate(new Endpoint("udp", hosts.get(i), 40000 + i, ""), CandidateType.HOST, 100));
        }
        honest.add(new Candidate(new Endpoint("udp", "203.0.113.9", 61000, ""), CandidateType.SERVER_REFLEXIVE, 50));
        List<Candidate> kept = CandidateFilter.filter(honest, REMOTE_DEVICE);
        assertEquals(Math.min(honest.size(), CandidateFilter.MAX_KEPT), kept.size(), kept.toString());
    }

    @Provide
    Arbitrary<List<String>> privateHosts() {
        return Arbitraries.integers().between(1, 254).map(i -> "10.0.0." + i).list().uniqueElements().ofMaxSize(12);
    }

    @Provide
    Arbitrary<List<Candidate>> lists() {
        Arbitrary<String> host = Arbitraries.oneOf(
                Arbitraries.of("0.0.0.0", "127.0.0.1", "127.9.9.9", "224.0.0.1", "239.255.255.250", "255.255.255.255", "::", "::1",
                        "ff02::1", "203.0.113.9", "198.51.100.7", "192.0.2.1", "10.0.0.2", "2001:db8::1", "fe80::1", "example.org",
                        "not a host"),
                Arbitraries.integers().between(0, 255).map(i -> "192.0.2." + i));
        Arbitrary<Candidate> one = Combinators.combine(host, Arbitraries.of(0, 1, 3478, 40000, 65535), Arbitraries.of(CandidateType.class))
                .as((h, port, type) -> new Candidate(new Endpoint("udp", h, port, ""), type, 1));
        return one.list().ofMaxSize(32);
    }
}
