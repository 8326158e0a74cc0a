package io.peerlink.bridge.internal;

import io.peerlink.LookupQuery;
import io.peerlink.Registration;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceLink;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;

import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The OCF shapes over the same directory: {@code POST /oic/rd} with an rdpub payload
 * ({@code di}, {@code links}, {@code ttl}), {@code DELETE /oic/rd?di=...[&ins=...]} and
 * {@code GET /oic/res} with {@code rt} / {@code if} filters. Payloads are CBOR
 * ({@code application/vnd.ocf+cbor}, 10000, or {@code application/cbor}, 60) or JSON (50).
 */
final class OcfResources {
    static final int OCF_CBOR = 10000;
    static final int CBOR = MediaTypeRegistry.APPLICATION_CBOR;
    static final int JSON = MediaTypeRegistry.APPLICATION_JSON;
    /** OCF's default rdpub ttl when none is given. */
    static final Duration DEFAULT_TTL = RegistrationRequest.DEFAULT_LIFETIME;

    private static final ObjectMapper JSON_MAPPER = new ObjectMapper();
    private static final ObjectMapper CBOR_MAPPER = new CBORMapper();

    private OcfResources() {
    }

    static ObjectMapper mapper(int contentFormat) {
        return contentFormat == JSON ? JSON_MAPPER : CBOR_MAPPER;
    }

    static JsonNode read(CoapExchange exchange) {
        int ct = exchange.getRequestOptions().hasContentFormat() ? exchange.getRequestOptions().getContentFormat()
                : OCF_CBOR;
        try {
            JsonNode node = mapper(ct).readTree(exchange.getRequestPayload());
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException("rdpub payload must be an object with di and links");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("rdpub payload is not valid " + (ct == JSON ? "JSON" : "CBOR") + ": "
                    + e.getOriginalMessage());
        } catch (IOException e) {
            throw new IllegalArgumentException("rdpub payload cannot be read: " + e.getMessage());
        }
    }

    static List<String> strings(JsonNode node, String field) {
        JsonNode v = node.get(field);
        List<String> out = new ArrayList<>();
        if (v == null || v.isNull()) {
            return out;
        }
        if (v.isTextual()) {
            out.add(v.asText());
            return out;
        }
        if (!v.isArray()) {
            throw new IllegalArgumentException("'" + field + "' must be a string or an array of strings");
        }
        for (JsonNode e : v) {
            if (!e.isTextual()) {
                throw new IllegalArgumentException("'" + field + "' must hold strings only");
            }
            out.add(e.asText());
        }
        return out;
    }

    /** Translates an rdpub payload to a registration request; returns the links' base, if they name one. */
    static RegistrationRequest toRequest(JsonNode payload, List<Optional<URI>> baseOut) {
        JsonNode di = payload.get("di");
        if (di == null || !di.isTextual()) {
            throw new IllegalArgumentException("rdpub payload needs a string 'di' (device ID)");
        }
        JsonNode links = payload.get("links");
        if (links == null || !links.isArray()) {
            throw new IllegalArgumentException("rdpub payload needs an array 'links'");
        }
        if (links.size() > LinkFormat.MAX_LINKS) {
            throw new IllegalArgumentException("more than " + LinkFormat.MAX_LINKS + " links");
        }
        Duration ttl = DEFAULT_TTL;
        JsonNode ttlNode = payload.get("ttl");
        if (ttlNode != null) {
            if (!ttlNode.canConvertToLong() || !ttlNode.isIntegralNumber()) {
                throw new IllegalArgumentException("'ttl' must be an integer number of seconds");
            }
            ttl = Duration.ofSeconds(Query.parseBounded("ttl", String.valueOf(ttlNode.asLong()),
                    RegistrationRequest.MAX_LIFETIME.getSeconds()));
        }
        List<ResourceLink> parsed = new ArrayList<>();
        Optional<URI> base = Optional.empty();
        int ins = 0;
        for (JsonNode link : links) {
            if (!link.isObject()) {
                throw new IllegalArgumentException("each link must be an object");
            }
            JsonNode href = link.get("href");
            if (href == null || !href.isTextual()) {
                throw new IllegalArgumentException("link " + ins + " needs a string 'href'");
            }
            ResourceLink.Builder b;
            try {
                b = ResourceLink.builder(href.asText());
                strings(link, "rt").forEach(b::resourceType);
                strings(link, "if").forEach(b::interfaceDescription);
                JsonNode anchor = link.get("anchor");
                b.anchor(anchor != null && anchor.isTextual() ? anchor.asText() : "ocf://" + di.asText());
                JsonNode p = link.get("p");
                if (p != null && p.has("bm") && (p.get("bm").asInt() & 2) != 0) {
                    b.observable(true);
                }
                b.attribute("ins", String.valueOf(ins));
                parsed.add(b.build());
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("link " + ins + ": " + e.getMessage());
            }
            JsonNode eps = link.get("eps");
            if (base.isEmpty() && eps != null && eps.isArray() && eps.size() > 0 && eps.get(0).has("ep")) {
                JsonNode epNode = eps.get(0).get("ep");
                URI ep = RdResources.parseBase(epNode.isTextual() ? epNode.asText() : "");
                if (!("coap".equals(ep.getScheme()) || "coaps".equals(ep.getScheme())) || ep.getHost() == null) {
                    throw new IllegalArgumentException("link " + ins + ": eps ep must be a coap:// or coaps:// URI "
                            + "with a host");
                }
                base = Optional.of(URI.create(ep.getScheme() + "://" + ep.getRawAuthority()));
            }
            ins++;
        }
        baseOut.add(base);
        return new RegistrationRequest(di.asText(), Optional.empty(), base, Optional.empty(), ttl, Map.of(), parsed);
    }

    static ObjectNode toOcfLink(ObjectMapper mapper, Registration r, ResourceLink link) {
        ObjectNode o = mapper.createObjectNode();
        o.put("href", link.target());
        o.put("anchor", link.anchor().orElse(r.base().toString()));
        ArrayNode rt = o.putArray("rt");
        link.resourceTypes().forEach(rt::add);
        ArrayNode ifs = o.putArray("if");
        link.interfaces().forEach(ifs::add);
        o.putObject("p").put("bm", link.observable() ? 3 : 1);
        o.putArray("eps").addObject().put("ep", r.base().toString());
        return o;
    }

    /** {@code /oic/rd}. */
    static final class OicRd extends GuardedResource {
        private final Directory directory;

        OicRd(Directory directory) {
            super("rd");
            this.directory = directory;
            getAttributes().addResourceType("oic.wk.rd");
            getAttributes().addInterfaceDescription("oic.if.baseline");
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            guard(exchange, () -> {
                requireContentFormat(exchange, OCF_CBOR, CBOR, JSON);
                int ct = exchange.getRequestOptions().hasContentFormat()
                        ? exchange.getRequestOptions().getContentFormat() : OCF_CBOR;
                JsonNode payload = read(exchange);
                RegistrationRequest request = toRequest(payload, new ArrayList<>());
                Registration r = directory.register(request, URI.create(RdResources.sourceBase(exchange)));
                ObjectMapper mapper = mapper(ct);
                ObjectNode echo = mapper.createObjectNode();
                echo.put("di", r.endpointName());
                ArrayNode links = echo.putArray("links");
                for (ResourceLink link : r.links()) {
                    ObjectNode o = toOcfLink(mapper, r, link);
                    o.put("ins", Integer.parseInt(link.extensions().get("ins").get(0)));
                    links.add(o);
                }
                echo.put("ttl", r.lifetime().getSeconds());
                exchange.respond(ResponseCode.CHANGED, mapper.writeValueAsBytes(echo), ct);
            });
        }

        @Override
        public void handleDELETE(CoapExchange exchange) {
            guard(exchange, () -> {
                Query query = Query.parse(exchange.getRequestOptions().getUriQuery());
                String di = query.single("di");
                if (di == null) {
                    throw new IllegalArgumentException("DELETE /oic/rd needs di (the device ID)");
                }
                Registration r = directory.byName(di, Optional.empty())
                        .orElseThrow(() -> new io.peerlink.RegistrationNotFoundException("/oic/rd?di=" + di));
                Set<String> ins = new HashSet<>();
                for (Map.Entry<String, String> p : query.pairs()) {
                    if (p.getKey().equals("ins")) {
                        Query.parseBounded("ins", p.getValue(), Integer.MAX_VALUE);
                        ins.add(p.getValue());
                    }
                }
                if (ins.isEmpty()) {
                    directory.remove(r.location());
                } else {
                    List<ResourceLink> kept = new ArrayList<>();
                    for (ResourceLink link : r.links()) {
                        if (!ins.contains(link.extensions().getOrDefault("ins", List.of("")).get(0))) {
                            kept.add(link);
                        }
                    }
                    directory.replaceLinks(r.location(), kept);
                }
                exchange.respond(ResponseCode.DELETED);
            });
        }
    }

    /** {@code /oic/res}: OCF discovery over every registered link. */
    static final class OicRes extends GuardedResource {
        private final Directory directory;

        OicRes(Directory directory) {
            super("res");
            this.directory = directory;
            getAttributes().addResourceType("oic.wk.res");
            getAttributes().addInterfaceDescription("oic.if.ll");
            getAttributes().addInterfaceDescription("oic.if.baseline");
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            guard(exchange, () -> {
                int ct = negotiate(exchange, OCF_CBOR, OCF_CBOR, CBOR, JSON);
                Query query = Query.parse(exchange.getRequestOptions().getUriQuery());
                boolean baseline = false;
                List<LookupQuery.Filter> filters = new ArrayList<>();
                for (Map.Entry<String, String> p : query.pairs()) {
                    if (p.getKey().equals("if") && p.getValue().equals("oic.if.baseline")) {
                        baseline = true;
                    } else if (p.getKey().equals("if") && p.getValue().equals("oic.if.ll")) {
                        continue;
                    } else if (p.getKey().equals("rt") || p.getKey().equals("if")) {
                        filters.add(new LookupQuery.Filter(p.getKey(), p.getValue()));
                    } else {
                        throw new IllegalArgumentException("/oic/res filters on rt and if only, not '" + p.getKey() + "'");
                    }
                }
                ObjectMapper mapper = mapper(ct);
                ArrayNode links = mapper.createArrayNode();
                for (Map.Entry<Registration, ResourceLink> e : directory.matchingLinks(
                        new LookupQuery(filters, java.util.OptionalInt.empty(), java.util.OptionalInt.empty()))) {
                    links.add(toOcfLink(mapper, e.getKey(), e.getValue()));
                }
                Object body = links;
                if (baseline) {
                    ArrayNode wrapper = mapper.createArrayNode();
                    ObjectNode res = wrapper.addObject();
                    res.putArray("rt").add("oic.wk.res");
                    res.putArray("if").add("oic.if.baseline").add("oic.if.ll");
                    res.set("links", links);
                    body = wrapper;
                }
                exchange.respond(ResponseCode.CONTENT, mapper.writeValueAsBytes(body), ct);
            });
        }
    }
}
