package io.peerlink.bridge;

import io.peerlink.PeerLinks;
import io.peerlink.ResourceBridge;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** OCF's /oic/rd and /oic/res, and hostile requests, from libcoap's client. */
class OcfAndBadInputInteropTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private ResourceBridge bridge;
    private String base;

    @BeforeEach
    void start() {
        LibcoapClient.requireInstalled();
        bridge = PeerLinks.resourceBridge().coap(new InetSocketAddress("127.0.0.1", 0)).start()
                .toCompletableFuture().join();
        base = "coap://127.0.0.1:" + bridge.endpoint().port();
    }

    @AfterEach
    void stop() {
        if (bridge != null) {
            bridge.close();
        }
    }

    static final String RDPUB = "{\"di\":\"e61c3e6b-9c54-4b81-8ce5-f9039c1d04d9\",\"links\":["
            + "{\"href\":\"/temp\",\"rt\":[\"oic.r.temperature\"],\"if\":[\"oic.if.s\",\"oic.if.baseline\"],"
            + "\"p\":{\"bm\":3},\"eps\":[{\"ep\":\"coap://127.0.0.1:5699\"}]},"
            + "{\"href\":\"/led\",\"rt\":[\"oic.r.switch.binary\"],\"if\":[\"oic.if.a\"],\"p\":{\"bm\":1}}],\"ttl\":600}";

    @Test
    void ocfPublishDiscoverAndDelete() throws Exception {
        LibcoapClient.Response pub = LibcoapClient.run("-m", "post", "-t", "50", "-A", "50", "-e", RDPUB,
                base + "/oic/rd");
        assertEquals("2.04", pub.code(), pub.diagnostic());
        JsonNode echo = JSON.readTree(pub.body());
        assertEquals(1, echo.get("links").get(1).get("ins").asInt());

        LibcoapClient.Response res = LibcoapClient.run("-A", "50", base + "/oic/res?rt=oic.r.temperature");
        assertEquals("2.05", res.code());
        JsonNode links = JSON.readTree(res.body());
        assertEquals(1, links.size(), links.toString());
        JsonNode temp = links.get(0);
        assertEquals("/temp", temp.get("href").asText());
        assertEquals("ocf://e61c3e6b-9c54-4b81-8ce5-f9039c1d04d9", temp.get("anchor").asText());
        assertEquals("coap://127.0.0.1:5699", temp.get("eps").get(0).get("ep").asText());
        assertEquals(3, temp.get("p").get("bm").asInt());

        // The same store answers RFC 9176 lookups.
        String rd = LibcoapClient.run(base + "/rd-lookup/res?rt=oic.r.switch.binary").text();
        assertEquals("<coap://127.0.0.1:5699/led>;anchor=\"ocf://e61c3e6b-9c54-4b81-8ce5-f9039c1d04d9\";"
                + "rt=\"oic.r.switch.binary\";if=\"oic.if.a\";ins=\"1\"", rd);

        // CBOR is the default representation.
        LibcoapClient.Response cbor = LibcoapClient.run(base + "/oic/res?if=oic.if.a");
        assertTrue(cbor.options().contains("Content-Format:10000") || cbor.options().contains("vnd.ocf+cbor"),
                cbor.options());
        JsonNode decoded = new com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper().readTree(cbor.body());
        assertEquals("/led", decoded.get(0).get("href").asText());

        assertEquals("2.02", LibcoapClient.run("-m", "delete",
                base + "/oic/rd?di=e61c3e6b-9c54-4b81-8ce5-f9039c1d04d9&ins=0").code());
        assertEquals("[]", LibcoapClient.run("-A", "50", base + "/oic/res?rt=oic.r.temperature").text());
        assertEquals("2.02", LibcoapClient.run("-m", "delete",
                base + "/oic/rd?di=e61c3e6b-9c54-4b81-8ce5-f9039c1d04d9").code());
        assertEquals("[]", LibcoapClient.run("-A", "50", base + "/oic/res").text());
    }

    @Test
    void badInputGetsPreciseErrorsAndTheDirectoryKeepsServing() throws Exception {
        LibcoapClient.Response ok = LibcoapClient.run("-m", "post", "-t", "40", "-e", "</a>", base + "/rd?ep=good");
        assertEquals("2.01", ok.code());

        assertError("4.00", "expected '<'", "-m", "post", "-t", "40", "-e", "/a>;rt=x", base + "/rd?ep=n1");
        assertError("4.00", "unterminated quoted string", "-m", "post", "-t", "40", "-e", "</a>;rt=\"x",
                base + "/rd?ep=n1");
        assertError("4.00", "ep (endpoint name) is required", "-m", "post", "-t", "40", "-e", "</a>", base + "/rd");
        assertError("4.00", "RFC 9176 allows 63", "-m", "post", "-t", "40", "-e", "</a>",
                base + "/rd?ep=" + "x".repeat(64));
        assertError("4.00", "control character U+0001", "-m", "post", "-t", "40", "-e", "</a>",
                base + "/rd?ep=a%01b");
        assertError("4.00", "lt must be", "-m", "post", "-t", "40", "-e", "</a>", base + "/rd?ep=n1&lt=0");
        assertError("4.00", "lt must be at most 4294967295", "-m", "post", "-t", "40", "-e", "</a>",
                base + "/rd?ep=n1&lt=4294967296");
        assertError("4.00", "base must not have a query", "-m", "post", "-t", "40", "-e", "</a>",
                base + "/rd?ep=n1&base=coap://h/x?q");
        assertError("4.15", "content format 50", "-m", "post", "-t", "50", "-e", "{}", base + "/rd?ep=n1");
        assertError("4.04", "", "-m", "delete", base + "/rd/zzzz");
        assertError("4.04", "", "-m", "post", base + "/rd/zzzz?lt=5");
        assertError("4.00", "rdpub payload is not valid JSON", "-m", "post", "-t", "50", "-e", "{\"di\":",
                base + "/oic/rd");
        assertError("4.00", "needs an array 'links'", "-m", "post", "-t", "50", "-e", "{\"di\":\"x\"}",
                base + "/oic/rd");
        assertError("4.06", "cannot answer in content format 50", "-A", "50", base + "/rd-lookup/res");
        assertError("4.00", "page must be a decimal number", base + "/rd-lookup/res?page=x&count=2");

        // Oversized: a link-format body larger than the directory accepts, sent in Block1 blocks.
        Path big = Files.createTempFile("big", ".lf");
        try {
            StringBuilder links = new StringBuilder();
            for (int i = 0; links.length() < 70_000; i++) {
                links.append(i == 0 ? "" : ",").append("</r").append(i).append(">;rt=\"x\"");
            }
            Files.writeString(big, links);
            LibcoapClient.Response tooBig = LibcoapClient.run("-m", "post", "-t", "40", "-b", "1024",
                    "-f", big.toString(), base + "/rd?ep=big");
            assertEquals("4.13", tooBig.code(), tooBig.diagnostic());
        } finally {
            Files.deleteIfExists(big);
        }

        // Everyone else is still served.
        String good = LibcoapClient.run(base + "/rd-lookup/ep").text();
        assertTrue(good.contains("ep=\"good\"") && !good.contains("n1"), good);
    }

    private static void assertError(String code, String diagnostic, String... args) throws Exception {
        LibcoapClient.Response r = LibcoapClient.run(args);
        assertEquals(code, r.code(), String.join(" ", args) + " -> " + r.diagnostic());
        assertTrue(r.diagnostic().contains(diagnostic), "diagnostic '" + r.diagnostic() + "' should name: " + diagnostic);
    }
}
