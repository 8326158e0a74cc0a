package io.peerlink.bridge;

import io.peerlink.DirectoryEvent;
import io.peerlink.LookupQuery;
import io.peerlink.PeerLinks;
import io.peerlink.Registration;
import io.peerlink.RegistrationNotFoundException;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceBridge;
import io.peerlink.ResourceLink;

import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Java API over a running bridge: found by ServiceLoader, non-blocking, observable. */
class BridgeApiTest {

    @Test
    void registerUpdateRemoveAndObserveFromJava() throws Exception {
        // Bound to the wildcard address: registrations from Java still get a usable base.
        try (ResourceBridge bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress(0)).start()
                .toCompletableFuture().join()) {
            BlockingQueue<DirectoryEvent> events = new LinkedBlockingQueue<>();
            ResourceBridge.Subscription subscription = bridge.subscribe(events::add);
            Registration r = bridge.register(RegistrationRequest.of("java-node",
                    List.of(ResourceLink.builder("/temp").resourceType("temperature-c").build()), Duration.ofMinutes(5)))
                    .toCompletableFuture().join();
            assertTrue(r.base().toString().startsWith("coap://127.0.0.1:"), r.base().toString());
            assertInstanceOf(DirectoryEvent.Registered.class, events.poll(5, TimeUnit.SECONDS));
            List<ResourceLink> found = bridge.lookupResources(LookupQuery.all().where("rt", "temp*"))
                    .toCompletableFuture().join();
            assertEquals(r.base() + "/temp", found.get(0).target());
            bridge.update(r.location()).toCompletableFuture().join();
            assertInstanceOf(DirectoryEvent.Updated.class, events.poll(5, TimeUnit.SECONDS));
            bridge.remove(r.location()).toCompletableFuture().join();
            assertInstanceOf(DirectoryEvent.Removed.class, events.poll(5, TimeUnit.SECONDS));
            CompletionException gone = assertThrows(CompletionException.class,
                    () -> bridge.remove(r.location()).toCompletableFuture().join());
            assertInstanceOf(RegistrationNotFoundException.class, gone.getCause());
            subscription.close();
            bridge.register(RegistrationRequest.of("quiet", List.of(), Duration.ofSeconds(1))).toCompletableFuture().join();
            assertEquals(null, events.poll(300, TimeUnit.MILLISECONDS), "no events after the subscription is closed");
        }
    }

    @Test
    void expiryIsAnEvent() throws Exception {
        try (ResourceBridge bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).start()
                .toCompletableFuture().join()) {
            BlockingQueue<DirectoryEvent> events = new LinkedBlockingQueue<>();
            bridge.subscribe(events::add);
            bridge.register(RegistrationRequest.of("short", List.of(), Duration.ofSeconds(1))).toCompletableFuture().join();
            assertInstanceOf(DirectoryEvent.Registered.class, events.poll(5, TimeUnit.SECONDS));
            DirectoryEvent expired = events.poll(10, TimeUnit.SECONDS);
            assertInstanceOf(DirectoryEvent.Expired.class, expired);
            assertEquals("short", expired.registration().endpointName());
        }
    }

    @Test
    void aTakenPortFailsTheStageNotTheCaller() throws Exception {
        try (java.net.DatagramSocket taken = new java.net.DatagramSocket(0, java.net.InetAddress.getLoopbackAddress())) {
            CompletionException e = assertThrows(CompletionException.class, () -> PeerLinks.resourceBridge()
                    .coap(new InetSocketAddress("127.0.0.1", taken.getLocalPort())).start().toCompletableFuture().join());
            assertInstanceOf(io.peerlink.PeerLinkException.class, e.getCause());
        }
    }
}
