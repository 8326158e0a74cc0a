package io.peerlink.natlab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.peerlink.natlab.tools.UdpReflector;

/**
 * Proves that each {@link NatKind} behaves as docs/natlab.md claims, in RFC 4787 terms, with a
 * reflector in the core namespace and probes in the device namespaces. One lab serves all tests;
 * each test uses its own local ports so conntrack state of one test cannot leak into another.
 */
@NatLabTest
class NatBehaviourTest {
    /** How long to wait for a datagram that must not arrive; the lab has no loss and sub-ms RTT. */
    private static final Duration SILENCE = Duration.ofMillis(1500);

    private static NatLab lab;
    private static LabProbe pr1;
    private static LabProbe pr2;
    private static LabProbe sym1;
    private static LabProbe fc1;
    private static LabProbe dbl1;
    private static LabProbe hp1;
    private static LabProbe hp2;

    private static InetSocketAddress main;
    private static InetSocketAddress altPort;
    private static InetSocketAddress altAddress;

    @BeforeAll
    static void buildLab() {
        lab = NatLab.builder().name("NatBehaviourTest")
                .site("pr", NatKind.PORT_RESTRICTED).device("pr1", "pr").device("pr2", "pr")
                .site("sym", NatKind.SYMMETRIC).device("sym1", "sym")
                .site("fc", NatKind.FULL_CONE).device("fc1", "fc")
                .site("dbl", NatKind.DOUBLE_NAT).device("dbl1", "dbl")
                .site("hp", NatKind.HAIRPIN).device("hp1", "hp").device("hp2", "hp")
                .build();
        main = new InetSocketAddress(lab.serverAddress(), 3478);
        altPort = new InetSocketAddress(lab.serverAddress(), 3479);
        altAddress = new InetSocketAddress(lab.coreAddress(2), 3478);
        InetSocketAddress third = new InetSocketAddress(lab.coreAddress(3), 3478);
        LabProcess reflector = lab.startJava(NatLab.CORE, UdpReflector.class.getName(), List.of(
                "main=" + text(main), "altport=" + text(altPort), "altaddr=" + text(altAddress), "third=" + text(third)));
        reflector.awaitLine(l -> l.startsWith("READY"), LabProbe.STARTUP);
        pr1 = LabProbe.start(lab, "pr1");
        pr2 = LabProbe.start(lab, "pr2");
        sym1 = LabProbe.start(lab, "sym1");
        fc1 = LabProbe.start(lab, "fc1");
        dbl1 = LabProbe.start(lab, "dbl1");
        hp1 = LabProbe.start(lab, "hp1");
        hp2 = LabProbe.start(lab, "hp2");
    }

    @AfterAll
    static void closeLab() {
        if (lab != null) {
            lab.close();
        }
    }

    private static String text(InetSocketAddress a) {
        return a.getAddress().getHostAddress() + ":" + a.getPort();
    }

    @Test
    void portRestrictedKeepsOneMappingForTwoDestinations() {
        pr1.open(40001);
        InetSocketAddress first = pr1.mapping(40001, main);
        InetSocketAddress second = pr1.mapping(40001, altAddress);
        assertEquals(lab.publicAddress("pr"), first.getAddress());
        assertEquals(first, second, "endpoint-independent mapping");
    }

    @Test
    void portRestrictedDropsUnsolicitedFromOtherPortAndThirdParty() {
        pr1.open(40002);
        assertTrue(pr1.ask(40002, main, "main", LabProbe.ANSWER).isPresent(), "the contacted endpoint answers");
        assertEquals(Optional.empty(), pr1.ask(40002, main, "altport", SILENCE), "same address, other port: filtered");
        assertEquals(Optional.empty(), pr1.ask(40002, main, "third", SILENCE), "third party: filtered");
    }

    @Test
    void symmetricUsesADifferentMappingPerDestination() {
        sym1.open(40003);
        InetSocketAddress first = sym1.mapping(40003, main);
        InetSocketAddress second = sym1.mapping(40003, altAddress);
        InetSocketAddress third = sym1.mapping(40003, altPort);
        assertEquals(lab.publicAddress("sym"), first.getAddress());
        assertEquals(first.getAddress(), second.getAddress());
        assertNotEquals(first.getPort(), second.getPort(), "other address, other mapping");
        assertNotEquals(first.getPort(), third.getPort(), "other port, other mapping");
    }

    @Test
    void fullConeKeepsOneMappingAndAcceptsUnsolicitedFromAnyone() {
        fc1.open(40004);
        InetSocketAddress mapped = fc1.mapping(40004, main);
        assertEquals(lab.publicAddress("fc"), mapped.getAddress());
        assertEquals(mapped, fc1.mapping(40004, altAddress), "endpoint-independent mapping");
        assertEquals(Optional.of(mapped), fc1.ask(40004, main, "third", LabProbe.ANSWER), "third party gets through");
        assertEquals(Optional.of(mapped), fc1.ask(40004, main, "altport", LabProbe.ANSWER), "other port gets through");
    }

    @Test
    void doubleNatShowsTheCarrierGradeNatAddress() {
        dbl1.open(40005);
        InetSocketAddress mapped = dbl1.mapping(40005, main);
        assertEquals(lab.publicAddress("dbl"), mapped.getAddress());
        assertTrue(lab.exec("dbl.cgn", "ip", "-4", "-o", "addr", "show", "dev", "wan")
                .contains(" " + mapped.getAddress().getHostAddress() + "/"), "the observed address is the CGN's WAN address");
        assertNotEquals(lab.homeNatWanAddress("dbl"), mapped.getAddress());
        assertTrue(lab.homeNatWanAddress("dbl").getHostAddress().startsWith("100.64."), "home NAT WAN is in the shared space");
        assertEquals(mapped, dbl1.mapping(40005, altAddress), "two stacked MASQUERADEs still map independently of the endpoint");
    }

    @Test
    void hairpinDeliversBetweenTwoDevicesThroughTheirPublicMappings() {
        hp1.open(40006);
        hp2.open(40006);
        InetSocketAddress m1 = hp1.mapping(40006, main);
        InetSocketAddress m2 = hp2.mapping(40006, main);
        assertEquals(lab.publicAddress("hp"), m1.getAddress());
        // hp2 opens its filter towards hp1's mapping; that looped packet itself is dropped by the NAT.
        hp2.send(40006, m1, 0, "opener-from-hp2");
        hp1.send(40006, m2, 0, "hello-from-hp1");
        assertEquals(Optional.of(m1), hp2.received(40006, "hello-from-hp1", LabProbe.ANSWER),
                "hp2 sees hp1's public mapping as the source, not its LAN address");
        hp2.send(40006, m1, 0, "reply-from-hp2");
        assertEquals(Optional.of(m2), hp1.received(40006, "reply-from-hp2", LabProbe.ANSWER));
    }

    @Test
    void plainMasqueradeDoesNotHairpin() {
        pr1.open(40007);
        pr2.open(40007);
        InetSocketAddress m1 = pr1.mapping(40007, main);
        InetSocketAddress m2 = pr2.mapping(40007, main);
        pr2.send(40007, m1, 0, "opener-from-pr2");
        pr1.send(40007, m2, 0, "hello-from-pr1");
        assertEquals(Optional.empty(), pr2.received(40007, "hello-from-pr1", SILENCE));
    }

    @Test
    void devicesOnOneLanReachEachOtherDirectly() {
        pr1.open(40008);
        pr2.open(40008);
        pr1.send(40008, new InetSocketAddress(lab.deviceAddress("pr2"), 40008), 0, "lan-hello");
        assertEquals(Optional.of(new InetSocketAddress(lab.deviceAddress("pr1"), 40008)),
                pr2.received(40008, "lan-hello", LabProbe.ANSWER));
    }

    @Test
    void totalLossOnTheWanCutsTheSiteOffUntilRemoved() {
        pr1.open(40009);
        lab.dropProbability("pr", 1.0);
        try {
            assertEquals(Optional.empty(), pr1.ask(40009, main, null, SILENCE));
        } finally {
            lab.dropProbability("pr", 0.0);
        }
        assertTrue(pr1.ask(40009, main, null, LabProbe.ANSWER).isPresent());
    }
}
