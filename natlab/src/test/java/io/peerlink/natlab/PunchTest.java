package io.peerlink.natlab;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import io.peerlink.natlab.tools.UdpReflector;

/**
 * Reproduces the hole-punching facts of docs/protocol-punching.md on real Linux NATs and measures which opener
 * TTL works for which topology (the table in docs/natlab.md). Each case uses fresh local ports,
 * because a failed punch leaves conntrack entries that live for 30 s.
 *
 * <p>The sequence is deterministic: x sends its openers (if any), y sends its openers, then both
 * send full-TTL packets, x first, for a few rounds. With no openers this is the naive punch.
 */
@NatLabTest
class PunchTest {
    private static final Duration SILENCE = Duration.ofMillis(1500);
    private static final int ROUNDS = 3;
    private static final AtomicInteger PORTS = new AtomicInteger(41000);

    private static NatLab lab;
    private static Map<String, LabProbe> probes;
    private static InetSocketAddress reflector;

    @BeforeAll
    static void buildLab() {
        lab = NatLab.builder().name("PunchTest")
                .site("a", NatKind.PORT_RESTRICTED).device("a1", "a")
                .site("b", NatKind.PORT_RESTRICTED).device("b1", "b")
                .site("d", NatKind.DOUBLE_NAT).device("d1", "d")
                .site("s", NatKind.SYMMETRIC).device("s1", "s")
                .site("f", NatKind.FULL_CONE).device("f1", "f")
                .build();
        reflector = new InetSocketAddress(lab.serverAddress(), 3478);
        lab.startJava(NatLab.CORE, UdpReflector.class.getName(), List.of("main=198.51.100.1:3478"))
                .awaitLine(l -> l.startsWith("READY"), LabProbe.STARTUP);
        probes = Map.of("a1", LabProbe.start(lab, "a1"), "b1", LabProbe.start(lab, "b1"),
                "d1", LabProbe.start(lab, "d1"), "s1", LabProbe.start(lab, "s1"), "f1", LabProbe.start(lab, "f1"));
    }

    @AfterAll
    static void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    static Stream<Arguments> cases() {
        return Stream.of(
                Arguments.of("naive punch between two MASQUERADE NATs fails", "a1", "b1", 0, 0, false),
                Arguments.of("TTL-2 openers between two MASQUERADE NATs succeed", "a1", "b1", 2, 2, true),
                Arguments.of("TTL-3 openers reach the peer NAT and break the punch", "a1", "b1", 3, 3, false),
                Arguments.of("TTL-2 opener from behind a double NAT dies inside it", "a1", "d1", 2, 2, false),
                Arguments.of("TTL-3 opener from behind a double NAT clears both NATs", "a1", "d1", 2, 3, true),
                Arguments.of("symmetric NAT defeats openers", "a1", "s1", 2, 2, false),
                Arguments.of("full cone needs no openers when the restricted side sends first", "a1", "f1", 0, 0, true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void punch(String description, String x, String y, int ttlX, int ttlY, boolean expectLink) {
        int port = PORTS.getAndIncrement();
        LabProbe px = probes.get(x);
        LabProbe py = probes.get(y);
        px.open(port);
        py.open(port);
        InetSocketAddress mx = px.mapping(port, reflector);
        InetSocketAddress my = py.mapping(port, reflector);
        if (ttlX > 0) {
            px.send(port, my, ttlX, "opener-" + x);
        }
        if (ttlY > 0) {
            py.send(port, mx, ttlY, "opener-" + y);
        }
        for (int round = 0; round < ROUNDS; round++) {
            px.send(port, my, 0, "punch-" + x + "-" + port);
            py.send(port, mx, 0, "punch-" + y + "-" + port);
        }
        Duration wait = expectLink ? LabProbe.ANSWER : SILENCE;
        Optional<InetSocketAddress> yHeard = py.received(port, "punch-" + x + "-" + port, wait);
        Optional<InetSocketAddress> xHeard = px.received(port, "punch-" + y + "-" + port, wait);
        if (expectLink) {
            // The source each side sees is exactly the mapping the reflector reported: a usable link.
            assertEquals(Optional.of(mx), yHeard, description + ": " + y + " hears " + x);
            assertEquals(Optional.of(my), xHeard, description + ": " + x + " hears " + y);
        } else {
            // Observed: not a single punch packet gets through in either direction.
            assertEquals(Optional.empty(), yHeard, description + ": " + y + " must hear nothing from " + x);
            assertEquals(Optional.empty(), xHeard, description + ": " + x + " must hear nothing from " + y);
        }
    }
}
