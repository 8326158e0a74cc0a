package io.peerlink.bridge.internal;

import io.peerlink.DirectoryEvent;
import io.peerlink.LookupQuery;
import io.peerlink.Registration;
import io.peerlink.RegistrationNotFoundException;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceLink;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DirectoryTest {
    private static final URI SOURCE = URI.create("coap://192.0.2.1:5683");

    private static final class MutableClock extends Clock {
        Instant now = Instant.parse("2026-01-01T00:00:00Z");

        @Override
        public ZoneOffset getZone() {
            return ZoneOffset.UTC;
        }

        @Override
        public Clock withZone(java.time.ZoneId zone) {
            return this;
        }

        @Override
        public Instant instant() {
            return now;
        }
    }

    private final MutableClock clock = new MutableClock();
    private final List<DirectoryEvent> events = new ArrayList<>();
    private final Directory directory;

    DirectoryTest() {
        EventDispatcher dispatcher = new EventDispatcher(Runnable::run);
        dispatcher.subscribe(events::add);
        directory = new Directory(clock, new RegistrationStore.InMemory(), dispatcher);
    }

    private Registration register(String ep, int lifetimeSeconds, String... rts) {
        List<ResourceLink> links = new ArrayList<>();
        for (String rt : rts) {
            links.add(ResourceLink.builder("/" + rt).resourceType(rt).build());
        }
        return directory.register(RegistrationRequest.of(ep, links, Duration.ofSeconds(lifetimeSeconds)), SOURCE);
    }

    @Test
    void expiresAfterTheLifetimeUnlessUpdated() {
        Registration a = register("a", 10, "t");
        Registration b = register("b", 10, "t");
        clock.now = clock.now.plusSeconds(8);
        directory.update(b.location(), Optional.empty(), Optional.empty(), Map.of());
        clock.now = clock.now.plusSeconds(3);
        directory.expire();
        assertEquals(List.of(b.location()), directory.lookupEndpoints(LookupQuery.all()).stream()
                .map(Registration::location).toList());
        assertInstanceOf(DirectoryEvent.Expired.class, events.get(events.size() - 1));
        assertEquals(a.location(), events.get(events.size() - 1).registration().location());
        assertThrows(RegistrationNotFoundException.class, () -> directory.remove(a.location()));
    }

    @Test
    void expiredButNotYetSweptRegistrationsAreInvisible() {
        register("a", 1, "t");
        clock.now = clock.now.plusSeconds(1);
        assertEquals(List.of(), directory.lookupResources(LookupQuery.all()));
    }

    @Test
    void resourceLookupFallsBackToRegistrationParameters() {
        directory.register(new RegistrationRequest("n1", Optional.of("floor1"), Optional.empty(),
                Optional.of("sensor-node"), Duration.ofSeconds(60), Map.of("zone", "north"),
                List.of(ResourceLink.builder("temp").resourceType("t").build())), SOURCE);
        List<ResourceLink> found = directory.lookupResources(LookupQuery.all().where("et", "sensor*").where("zone",
                "north"));
        assertEquals(1, found.size());
        assertEquals("coap://192.0.2.1:5683/temp", found.get(0).target());
        assertEquals("coap://192.0.2.1:5683", found.get(0).anchor().orElseThrow());
        assertTrue(directory.lookupResources(LookupQuery.all().where("zone", "south")).isEmpty());
    }

    @Test
    void endpointLookupMatchesByLinkAttributes() {
        register("a", 60, "temperature");
        register("b", 60, "light");
        assertEquals(List.of("b"), directory.lookupEndpoints(LookupQuery.all().where("rt", "li*")).stream()
                .map(Registration::endpointName).toList());
    }

    @Test
    void pagesAreStable() {
        for (int i = 0; i < 7; i++) {
            register("e" + i, 60, "t");
        }
        assertEquals(List.of("e6"), directory.lookupEndpoints(LookupQuery.all().page(2, 3)).stream()
                .map(Registration::endpointName).toList());
        assertEquals(List.of(), directory.lookupResources(LookupQuery.all().page(3, 3)));
    }

    @Test
    void sectorsSeparateEqualNames() {
        Registration a = directory.register(new RegistrationRequest("n", Optional.of("s1"), Optional.empty(),
                Optional.empty(), Duration.ofSeconds(60), Map.of(), List.of()), SOURCE);
        Registration b = directory.register(new RegistrationRequest("n", Optional.of("s2"), Optional.empty(),
                Optional.empty(), Duration.ofSeconds(60), Map.of(), List.of()), SOURCE);
        assertTrue(!a.location().equals(b.location()));
    }

    @Test
    void indexesFollowReRegistrationRemovalAndExpiry() {
        Registration a = register("a", 60, "temperature", "light");
        register("b", 60, "temperature");
        assertEquals(2, directory.lookupResources(LookupQuery.all().where("rt", "temperature")).size());
        register("a", 60, "humidity"); // replaces a's links
        assertEquals(1, directory.lookupResources(LookupQuery.all().where("rt", "temperature")).size());
        assertEquals(List.of(), directory.lookupResources(LookupQuery.all().where("rt", "light")));
        assertEquals(1, directory.lookupResources(LookupQuery.all().where("rt", "humidity").where("ep", "a")).size());
        directory.remove(a.location());
        assertEquals(List.of(), directory.lookupEndpoints(LookupQuery.all().where("ep", "a")));
        clock.now = clock.now.plusSeconds(61);
        directory.expire();
        assertEquals(List.of(), directory.lookupResources(LookupQuery.all().where("rt", "temperature")));
        // Indexed and unindexed filters agree, in directory order.
        for (int i = 0; i < 30; i++) {
            register("n" + i, 60, i % 3 == 0 ? "t" : "u");
        }
        List<String> indexed = directory.lookupResources(LookupQuery.all().where("rt", "t")).stream()
                .map(ResourceLink::anchor).map(Optional::orElseThrow).toList();
        List<String> scanned = directory.lookupResources(LookupQuery.all().where("rt", "t*")).stream()
                .map(ResourceLink::anchor).map(Optional::orElseThrow).toList();
        assertEquals(scanned, indexed);
        assertEquals(List.of("n6", "n9"), directory.lookupEndpoints(LookupQuery.all().where("rt", "t").page(1, 2))
                .stream().map(Registration::endpointName).toList());
    }
}
