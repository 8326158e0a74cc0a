package io.peerlink.bridge.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

import java.io.IOException;
import java.util.ArrayList;

/** Hostile rdpub payloads (OCF POST /oic/rd) end in a registration request or a precise IllegalArgumentException. */
class OcfPayloadPropertyTest {
    private static final ObjectMapper CBOR = new CBORMapper();
    private static final ObjectMapper JSON = new ObjectMapper();

    private static void translate(JsonNode node) {
        if (node == null || !node.isObject()) {
            return;
        }
        try {
            io.peerlink.RegistrationRequest request = OcfResources.toRequest(node, new ArrayList<>());
            request.base().ifPresent(b -> {
                if (!b.getScheme().startsWith("coap") || b.getHost() == null) {
                    throw new AssertionError("accepted a base that is not a CoAP address: " + b);
                }
            });
        } catch (IllegalArgumentException expected) {
            if (expected.getMessage() == null || expected.getMessage().isEmpty()) {
                throw new AssertionError("an rdpub rejection must say why", expected);
            }
        }
    }

    @Property(tries = 2000)
    void arbitraryCborNeverEscapesAsAnythingElse(@ForAll @Size(max = 200) byte[] bytes) {
        JsonNode node;
        try {
            node = CBOR.readTree(bytes);
        } catch (IOException notCbor) {
            return; // answered 4.00 by the resource
        }
        translate(node);
    }

    @Property(tries = 2000)
    void nearlyValidJsonNeverEscapesAsAnythingElse(@ForAll("rdpubs") String text) {
        JsonNode node;
        try {
            node = JSON.readTree(text);
        } catch (IOException notJson) {
            return;
        }
        translate(node);
    }

    @Provide
    Arbitrary<String> rdpubs() {
        Arbitrary<String> value = Arbitraries.of("\"x\"", "1", "-5", "1e99", "null", "[]", "{}", "[\"a\",1]",
                "\"\u0001\"", "\"" + "e".repeat(70) + "\"", "4294967296", "true", "\"</a>\"", "\"coap://h:1/p\"",
                "[{\"ep\":\"coap://[::1]:5\"}]", "[{\"ep\":7}]", "{\"bm\":\"3\"}", "\"a b\"");
        Arbitrary<String> link = Arbitraries.of("href", "rt", "if", "anchor", "p", "eps", "ins").flatMap(k ->
                value.map(v -> "\"" + k + "\":" + v)).list().ofMaxSize(5).map(kv -> "{" + String.join(",", kv) + "}");
        Arbitrary<String> links = link.list().ofMaxSize(4).map(l -> "[" + String.join(",", l) + "]");
        return Arbitraries.of("di", "links", "ttl", "x").flatMap(k -> (k.equals("links")
                ? Arbitraries.oneOf(links, value) : value).map(v -> "\"" + k + "\":" + v))
                .list().ofMaxSize(4).map(kv -> "{" + String.join(",", kv) + "}");
    }
}
