package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;
import io.peerlink.transport.udp.UdpTransportProvider;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/** What a device refuses to probe, on a real UDP transport bound to the wildcard or to loopback. */
class CandidateFilterTest {

    private Transport wildcard;
    private Transport loopback;

    @BeforeEach
    void bind() throws Exception {
        wildcard = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://0.0.0.0:0")).build());
        wildcard.start((s, d) -> { });
        loopback = new UdpTransportProvider().create(TransportConfig.bind(Endpoint.parse("udp://127.0.0.1:0")).build());
        loopback.start((s, d) -> { });
    }

    @AfterEach
    void close() {
        wildcard.destroy();
        loopback.destroy();
    }

    private static Candidate host(String endpoint, int preference) {
        return Candidate.of(Endpoint.parse(endpoint), CandidateType.HOST, preference);
    }

    @Test
    void rejectsWhatMustNeverBeProbed() {
        CandidateFilter f = CandidateFilter.forTransport(wildcard, PunchOptions.defaults());
        assertNotNull(f.rejection(Endpoint.parse("udp://127.0.0.1:5000")), "loopback from a wildcard socket");
        assertNotNull(f.rejection(Endpoint.parse("udp://127.3.4.5:5000")), "all of 127/8 is loopback");
        assertNotNull(f.rejection(Endpoint.parse("udp://224.0.0.1:5000")), "multicast");
        assertNotNull(f.rejection(Endpoint.parse("udp://239.255.255.250:1900")), "multicast (SSDP)");
        assertNotNull(f.rejection(Endpoint.parse("udp://255.255.255.255:5000")), "limited broadcast");
        assertNotNull(f.rejection(Endpoint.parse("udp://0.0.0.0:5000")), "unspecified");
        assertNotNull(f.rejection(Endpoint.parse("udp://0.1.2.3:5000")), "this network");
        assertNotNull(f.rejection(Endpoint.parse("udp://192.0.2.1:0")), "port 0");
        assertNotNull(f.rejection(Endpoint.parse("tcp://192.0.2.1:5000")), "a scheme the transport cannot send to");
        assertNull(f.rejection(Endpoint.parse("udp://192.0.2.1:5000")));
        assertNull(f.rejection(Endpoint.parse("udp://10.1.2.3:5000")), "private addresses are the LAN-first case");
    }

    @Test
    void loopbackOnlyFromALoopbackSocketOrWhenExplicitlyAllowed() {
        Endpoint lo = Endpoint.parse("udp://127.0.0.1:5000");
        assertNull(CandidateFilter.forTransport(loopback, PunchOptions.defaults()).rejection(lo));
        assertNull(CandidateFilter.forTransport(wildcard, PunchOptions.defaults().withLoopbackCandidates(true)).rejection(lo));
        assertNotNull(CandidateFilter.forTransport(wildcard, PunchOptions.defaults()).rejection(lo));
    }

    @Test
    void dropsDuplicatesAndKeepsTheEightBest() {
        CandidateFilter f = CandidateFilter.forTransport(wildcard, PunchOptions.defaults());
        List<Candidate> in = new ArrayList<>();
        for (int i = 0; i < 32; i++) {
            in.add(host("udp://192.0.2." + (i % 10 + 1) + ":5000", i));
        }
        List<Candidate> out = f.filter(in);
        assertEquals(CandidateFilter.MAX_CANDIDATES, out.size());
        assertEquals(out.size(), out.stream().map(Candidate::endpoint).distinct().count(), "duplicates: " + out);
        assertEquals(Endpoint.parse("udp://192.0.2.2:5000"), out.get(0).endpoint(), "highest priority first (i = 31)");
    }
}
