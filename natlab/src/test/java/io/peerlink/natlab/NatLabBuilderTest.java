package io.peerlink.natlab;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

/** Builder validation and the privilege policy; no root needed, nothing is created. */
class NatLabBuilderTest {

    @Test
    void rejectsADeviceOnAnUnknownSite() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> NatLab.builder().site("a", NatKind.PORT_RESTRICTED).device("dev1", "b"));
        assertTrue(e.getMessage().contains("unknown site 'b'"), e.getMessage());
    }

    @Test
    void rejectsDuplicateReservedAndMalformedNames() {
        assertThrows(IllegalArgumentException.class, () -> NatLab.builder().site("core", NatKind.SYMMETRIC));
        assertThrows(IllegalArgumentException.class,
                () -> NatLab.builder().site("a", NatKind.SYMMETRIC).device("a", "a"));
        assertThrows(IllegalArgumentException.class, () -> NatLab.builder().site("A-1", NatKind.SYMMETRIC));
        assertThrows(IllegalArgumentException.class, () -> NatLab.builder().site("abcdefghijklm", NatKind.SYMMETRIC));
        assertThrows(NullPointerException.class, () -> NatLab.builder().site("a", null));
    }

    @Test
    void fullConeSiteTakesOneDevice() {
        NatLab.Builder builder = NatLab.builder().site("f", NatKind.FULL_CONE).device("dev1", "f");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> builder.device("dev2", "f"));
        assertTrue(e.getMessage().contains("FULL_CONE"), e.getMessage());
    }

    @Test
    void missingPrivilegesSkipLocallyWithHowToRun() {
        NatLabEnvironment.Verdict verdict =
                NatLabEnvironment.verdict(List.of("not running as root (effective uid is not 0)"), false).orElseThrow();
        assertEquals(false, verdict.fail());
        assertTrue(verdict.message().contains("not running as root"), verdict.message());
        assertTrue(verdict.message().contains("sudo ./mvnw verify -pl natlab"), verdict.message());
    }

    @Test
    void missingPrivilegesFailUnderCi() {
        NatLabEnvironment.Verdict verdict =
                NatLabEnvironment.verdict(List.of("'iptables' not found (install iptables)"), true).orElseThrow();
        assertEquals(true, verdict.fail());
        assertTrue(verdict.message().contains("'iptables' not found"), verdict.message());
        assertTrue(verdict.message().contains("CI=true"), verdict.message());
    }

    @Test
    void nothingMissingMeansRun() {
        assertEquals(java.util.Optional.empty(), NatLabEnvironment.verdict(List.of(), true));
    }
}
