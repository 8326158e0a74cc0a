package io.peerlink;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The bridge's API values and entry point, without an implementation on the path. */
class ResourceBridgeApiTest {

    @Test
    void withoutTheBridgeModuleTheEntryPointNamesTheArtifact() {
        PeerLinkException e = assertThrows(PeerLinkException.class, PeerLinks::resourceBridge);
        assertTrue(e.getMessage().contains("io.peerlink:peerlink-bridge"), e.getMessage());
    }

    @Test
    void endpointNamesFollowRfc9176() {
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.checkName("ep", ""));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.checkName("ep", "a".repeat(64)));
        RegistrationRequest.checkName("ep", "a".repeat(63));
        // 21 three-byte characters are 63 bytes; 22 are 66.
        RegistrationRequest.checkName("ep", "\u20ac".repeat(21));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.checkName("ep", "\u20ac".repeat(22)));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.checkName("ep", "a\u0085b"));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.checkName("ep", "a\u007fb"));
    }

    @Test
    void requestsRejectBadLifetimesAndBases() {
        List<ResourceLink> none = List.of();
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.of("n", none, Duration.ZERO));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.of("n", none, Duration.ofMillis(1500)));
        assertThrows(IllegalArgumentException.class, () -> RegistrationRequest.of("n", none,
                RegistrationRequest.MAX_LIFETIME.plusSeconds(1)));
        RegistrationRequest ok = RegistrationRequest.of("n", none, RegistrationRequest.MAX_LIFETIME);
        assertThrows(IllegalArgumentException.class, () -> ok.withBase(URI.create("coap://h/x?q=1")));
        assertThrows(IllegalArgumentException.class, () -> ok.withBase(URI.create("/relative")));
        assertThrows(IllegalArgumentException.class, () -> new RegistrationRequest("n", Optional.empty(),
                Optional.empty(), Optional.empty(), Duration.ofSeconds(1), Map.of("lt", "5"), none));
    }

    @Test
    void typedLinkAttributes() {
        ResourceLink link = ResourceLink.builder("/temp").attribute("rt", "a b").attribute("ct", "50 60")
                .attribute("obs", "").attribute("x", "1").build();
        assertEquals(List.of("a", "b"), link.attribute("rt"));
        assertEquals(List.of("50", "60"), link.attribute("ct"));
        assertEquals(List.of(""), link.attribute("obs"));
        assertEquals(List.of("1"), link.attribute("x"));
        assertEquals(link, link.toBuilder().build());
        assertThrows(IllegalArgumentException.class, () -> ResourceLink.builder("/t").attribute("ct", "x"));
        assertThrows(IllegalArgumentException.class, () -> ResourceLink.of("<bad>"));
        assertThrows(IllegalArgumentException.class, () -> ResourceLink.builder("/t").contentFormat(70000).build());
    }

    @Test
    void lookupFilters() {
        LookupQuery.Filter prefix = new LookupQuery.Filter("rt", "temp*");
        assertTrue(prefix.matches("temperature"));
        assertTrue(!prefix.matches("humidity"));
        assertThrows(IllegalArgumentException.class, () -> new LookupQuery(List.of(), java.util.OptionalInt.of(1),
                java.util.OptionalInt.empty()));
    }
}
