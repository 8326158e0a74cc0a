package io.peerlink.bridge;

import io.peerlink.DirectoryEvent;
import io.peerlink.LookupQuery;
import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;
import io.peerlink.ResourceLink;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** RFC 9176 over the wire, driven by libcoap's client, an independent CoAP implementation. */
class ResourceDirectoryInteropTest {
    private ResourceBridge bridge;
    private String base;
    private final BlockingQueue<DirectoryEvent> events = new LinkedBlockingQueue<>();

    @BeforeEach
    void start() {
        LibcoapClient.requireInstalled();
        bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).start()
                .toCompletableFuture().join();
        bridge.subscribe(events::add);
        base = "coap://127.0.0.1:" + bridge.endpoint().port();
    }

    @AfterEach
    void stop() {
        if (bridge != null) {
            bridge.close();
        }
    }

    private LibcoapClient.Response register(String query, String links) throws Exception {
        return LibcoapClient.run("-m", "post", "-t", "40", "-e", links, base + "/rd?" + query);
    }

    @Test
    void registersLooksUpUpdatesAndRemovesAnEndpoint() throws Exception {
        LibcoapClient.Response created = register("ep=node1&lt=60&et=sensor",
                "</temp>;rt=\"temperature-c\";if=\"sensor\";ct=50;obs,</led>;rt=\"light\";if=\"actuator\"");
        assertEquals("2.01", created.code(), created.diagnostic());
        List<String> location = created.locationPath();
        assertEquals("rd", location.get(0));
        String path = "/" + String.join("/", location);
        assertInstanceOf(DirectoryEvent.Registered.class, events.poll(5, TimeUnit.SECONDS));

        LibcoapClient.Response again = register("ep=node1&lt=60", "</temp>;rt=\"temperature-c\"");
        assertEquals("2.01", again.code());
        assertEquals(location, again.locationPath(), "re-registration keeps the location");

        LibcoapClient.Response res = LibcoapClient.run(base + "/rd-lookup/res?rt=temp*");
        assertEquals("2.05", res.code());
        assertTrue(res.text().startsWith("<coap://127.0.0.1:"), res.text());
        assertTrue(res.text().contains("/temp>;anchor=\"coap://127.0.0.1:"), res.text());
        assertTrue(res.text().contains("rt=\"temperature-c\""), res.text());

        LibcoapClient.Response ep = LibcoapClient.run(base + "/rd-lookup/ep?ep=node*");
        assertTrue(ep.text().startsWith("<" + path + ">;ep=\"node1\""), ep.text());

        LibcoapClient.Response update = LibcoapClient.run("-m", "post", base + path + "?lt=120");
        assertEquals("2.04", update.code(), update.diagnostic());
        assertTrue(LibcoapClient.run(base + "/rd-lookup/ep").text().contains(";lt=120"));

        LibcoapClient.Response deleted = LibcoapClient.run("-m", "delete", base + path);
        assertEquals("2.02", deleted.code());
        assertEquals("", LibcoapClient.run(base + "/rd-lookup/res").text());
        assertEquals("4.04", LibcoapClient.run("-m", "delete", base + path).code());
    }

    @Test
    void filtersWildcardsAndPages() throws Exception {
        for (int i = 0; i < 5; i++) {
            assertEquals("2.01", register("ep=dev" + i + "&d=floor" + (i % 2),
                    "</s" + i + ">;rt=\"temperature\",</a" + i + ">;rt=\"light\"").code());
        }
        String all = LibcoapClient.run(base + "/rd-lookup/res?rt=temperature").text();
        assertEquals(5, all.split(",").length, all);
        String floor1 = LibcoapClient.run(base + "/rd-lookup/res?rt=light&d=floor1").text();
        assertEquals(2, floor1.split(",").length, floor1);
        String page = LibcoapClient.run(base + "/rd-lookup/res?rt=temp*&page=1&count=2").text();
        assertEquals(2, page.split(",").length, page);
        assertTrue(page.contains("/s2>") && page.contains("/s3>"), page);
        String eps = LibcoapClient.run(base + "/rd-lookup/ep?d=floor0&count=10").text();
        assertEquals(3, eps.split(",").length, eps);
        List<ResourceLink> viaApi = bridge.lookupResources(LookupQuery.all().where("ep", "dev4"))
                .toCompletableFuture().join();
        assertEquals(2, viaApi.size());
    }

    @Test
    void wellKnownCoreAdvertisesTheDirectory() throws Exception {
        LibcoapClient.Response core = LibcoapClient.run(base + "/.well-known/core?rt=core.rd*");
        assertEquals("2.05", core.code());
        String text = core.text();
        assertTrue(text.contains("</rd>") && text.contains("rt=\"core.rd\""), text);
        assertTrue(text.contains("</rd-lookup/res>") && text.contains("core.rd-lookup-res"), text);
        assertTrue(text.contains("</rd-lookup/ep>"), text);
    }

    @Test
    void simpleRegistrationFetchesTheEndpointsWellKnownCore() throws Exception {
        // The device is a separate Californium server: it POSTs to /.well-known/rd from its own
        // socket, and the directory fetches /.well-known/core from that socket.
        org.eclipse.californium.core.CoapServer device = new org.eclipse.californium.core.CoapServer(
                io.peerlink.bridge.internal.CoapResourceBridge.configuration());
        org.eclipse.californium.core.network.CoapEndpoint deviceEndpoint =
                new org.eclipse.californium.core.network.CoapEndpoint.Builder()
                        .setConfiguration(io.peerlink.bridge.internal.CoapResourceBridge.configuration())
                        .setInetSocketAddress(new InetSocketAddress("127.0.0.1", 0)).build();
        device.addEndpoint(deviceEndpoint);
        org.eclipse.californium.core.CoapResource temp = new org.eclipse.californium.core.CoapResource("temp");
        temp.getAttributes().addResourceType("temperature-c");
        device.add(temp);
        device.start();
        try {
            org.eclipse.californium.core.CoapClient client =
                    new org.eclipse.californium.core.CoapClient(base + "/.well-known/rd?ep=simple1&lt=30");
            client.setEndpoint(deviceEndpoint);
            client.setTimeout(10_000L);
            org.eclipse.californium.core.CoapResponse response = client.post(new byte[0], -1);
            assertNotNull(response, "no answer to simple registration");
            assertEquals(org.eclipse.californium.core.coap.CoAP.ResponseCode.CHANGED, response.getCode(),
                    response.getResponseText());
            String found = LibcoapClient.run(base + "/rd-lookup/res?ep=simple1&rt=temperature-c").text();
            assertEquals("<coap://127.0.0.1:" + deviceEndpoint.getAddress().getPort()
                    + "/temp>;anchor=\"coap://127.0.0.1:" + deviceEndpoint.getAddress().getPort()
                    + "\";rt=\"temperature-c\"", found);
        } finally {
            device.destroy();
        }
    }
}
