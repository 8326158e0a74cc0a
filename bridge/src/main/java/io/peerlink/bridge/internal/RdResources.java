package io.peerlink.bridge.internal;

import io.peerlink.LookupQuery;
import io.peerlink.Registration;
import io.peerlink.RegistrationNotFoundException;
import io.peerlink.RegistrationRequest;
import io.peerlink.ResourceLink;

import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;

import java.net.InetAddress;
import java.net.Inet6Address;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The RFC 9176 interfaces over CoAP: {@code /rd} (registration), {@code /rd/<id>} (update,
 * removal, read), {@code /rd-lookup/ep} and {@code /rd-lookup/res} (lookup) and
 * {@code /.well-known/rd} (simple registration).
 */
final class RdResources {
    static final int LINK_FORMAT = MediaTypeRegistry.APPLICATION_LINK_FORMAT;
    private static final Set<String> REGISTRATION_PARAMS = Set.of("ep", "d", "lt", "base", "et");

    private RdResources() {
    }

    static String sourceBase(CoapExchange exchange) {
        String scheme = exchange.advanced().getEndpoint() != null
                ? exchange.advanced().getEndpoint().getUri().getScheme() : "coap";
        InetAddress address = exchange.getSourceAddress();
        String host = address.getHostAddress();
        if (address instanceof Inet6Address) {
            int zone = host.indexOf('%');
            host = "[" + (zone < 0 ? host : host.substring(0, zone)) + "]";
        }
        return scheme + "://" + host + ":" + exchange.getSourcePort();
    }

    /** Builds a registration request from an RFC 9176 query and link list. */
    static RegistrationRequest request(Query query, List<ResourceLink> links) {
        String ep = query.single("ep");
        if (ep == null) {
            throw new IllegalArgumentException("ep (endpoint name) is required: this directory has no other way to "
                    + "name the endpoint");
        }
        Optional<String> d = Optional.ofNullable(query.single("d"));
        Optional<String> et = Optional.ofNullable(query.single("et"));
        String lt = query.single("lt");
        Duration lifetime = lt == null ? RegistrationRequest.DEFAULT_LIFETIME
                : Duration.ofSeconds(Query.parseBounded("lt", lt, RegistrationRequest.MAX_LIFETIME.getSeconds()));
        Optional<URI> base = Optional.ofNullable(query.single("base")).map(RdResources::parseBase);
        return new RegistrationRequest(ep, d, base, et, lifetime, extensions(query), links);
    }

    static URI parseBase(String text) {
        try {
            return new URI(text);
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("base is not a URI: " + e.getMessage());
        }
    }

    static Map<String, String> extensions(Query query) {
        Map<String, String> extensions = new LinkedHashMap<>();
        for (Map.Entry<String, String> p : query.pairs()) {
            if (!REGISTRATION_PARAMS.contains(p.getKey())) {
                if (extensions.put(p.getKey(), p.getValue()) != null) {
                    throw new IllegalArgumentException("parameter '" + p.getKey() + "' appears more than once");
                }
            }
        }
        return extensions;
    }

    static void respondCreated(CoapExchange exchange, Registration r) {
        exchange.setLocationPath(r.location().substring(1));
        exchange.respond(ResponseCode.CREATED);
    }

    /** {@code /rd}: registration (RFC 9176 section 5.3). */
    static final class RdResource extends GuardedResource {
        private final Directory directory;
        private final RegistrationResource registration;

        RdResource(Directory directory) {
            super("rd");
            this.directory = directory;
            this.registration = new RegistrationResource(directory);
            this.registration.setParent(this);
            getAttributes().addResourceType("core.rd");
            getAttributes().addContentType(LINK_FORMAT);
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            guard(exchange, () -> {
                requireContentFormat(exchange, LINK_FORMAT);
                Query query = Query.parse(exchange.getRequestOptions().getUriQuery());
                List<ResourceLink> links = LinkFormat.parse(utf8Payload(exchange));
                RegistrationRequest request = request(query, links);
                respondCreated(exchange, directory.register(request, URI.create(sourceBase(exchange))));
            });
        }

        @Override
        public Resource getChild(String name) {
            Resource child = super.getChild(name);
            if (child != null) {
                return child;
            }
            return directory.get(Directory.RD_PATH + name).isPresent() ? registration : null;
        }
    }

    /** {@code /rd/<id>}: one registration resource, shared by every id (RFC 9176 section 5.3.1-5.3.3). */
    static final class RegistrationResource extends GuardedResource {
        private final Directory directory;

        RegistrationResource(Directory directory) {
            super("registration", false);
            this.directory = directory;
        }

        private static String location(CoapExchange exchange) {
            return "/" + String.join("/", exchange.getRequestOptions().getUriPath());
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            guard(exchange, () -> {
                if (exchange.getRequestPayloadSize() > 0) {
                    throw new IllegalArgumentException("a registration update carries no payload (RFC 9176 "
                            + "section 5.3.1)");
                }
                Query query = Query.parse(exchange.getRequestOptions().getUriQuery());
                for (String fixed : List.of("ep", "d", "et")) {
                    if (query.single(fixed) != null) {
                        throw new IllegalArgumentException(fixed + " cannot change in an update");
                    }
                }
                String lt = query.single("lt");
                Optional<Duration> lifetime = lt == null ? Optional.empty() : Optional.of(Duration.ofSeconds(
                        Query.parseBounded("lt", lt, RegistrationRequest.MAX_LIFETIME.getSeconds())));
                Optional<URI> base = Optional.ofNullable(query.single("base")).map(RdResources::parseBase);
                directory.update(location(exchange), lifetime, base, extensions(query));
                exchange.respond(ResponseCode.CHANGED);
            });
        }

        @Override
        public void handleDELETE(CoapExchange exchange) {
            guard(exchange, () -> {
                directory.remove(location(exchange));
                exchange.respond(ResponseCode.DELETED);
            });
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            guard(exchange, () -> {
                int ct = negotiate(exchange, LINK_FORMAT, LINK_FORMAT);
                Registration r = directory.get(location(exchange))
                        .orElseThrow(() -> new RegistrationNotFoundException(location(exchange)));
                exchange.respond(ResponseCode.CONTENT, LinkFormat.format(r.links()), ct);
            });
        }
    }

    /** {@code /rd-lookup/ep} and {@code /rd-lookup/res} (RFC 9176 section 6). */
    static final class LookupResource extends GuardedResource {
        private final Directory directory;
        private final boolean endpoints;

        LookupResource(Directory directory, boolean endpoints) {
            super(endpoints ? "ep" : "res");
            this.directory = directory;
            this.endpoints = endpoints;
            getAttributes().addResourceType(endpoints ? "core.rd-lookup-ep" : "core.rd-lookup-res");
            getAttributes().addContentType(LINK_FORMAT);
        }

        @Override
        public void handleGET(CoapExchange exchange) {
            guard(exchange, () -> {
                int ct = negotiate(exchange, LINK_FORMAT, LINK_FORMAT);
                LookupQuery query = Query.parse(exchange.getRequestOptions().getUriQuery()).toLookup();
                String body = endpoints ? formatEndpoints(directory.lookupEndpoints(query))
                        : LinkFormat.format(directory.lookupResources(query));
                exchange.respond(ResponseCode.CONTENT, body, ct);
            });
        }

        static String formatEndpoints(List<Registration> registrations) {
            StringBuilder out = new StringBuilder();
            for (Registration r : registrations) {
                if (out.length() > 0) {
                    out.append(',');
                }
                out.append('<').append(r.location()).append('>');
                LinkFormat.quoted(out, "ep", r.endpointName());
                r.sector().ifPresent(d -> LinkFormat.quoted(out, "d", d));
                LinkFormat.quoted(out, "base", r.base().toString());
                r.endpointType().ifPresent(et -> LinkFormat.quoted(out, "et", et));
                out.append(";lt=").append(r.lifetime().getSeconds());
                r.attributes().forEach((k, v) -> LinkFormat.quoted(out, k, v));
            }
            return out.toString();
        }
    }

    /**
     * {@code /.well-known/rd}: simple registration (RFC 9176 section 5.1). The directory fetches
     * the endpoint's {@code /.well-known/core} from the request's source and answers 2.04 once it
     * has registered what it found, or 5.04 / 5.02 if the endpoint did not answer well.
     */
    static final class SimpleRegistrationResource extends GuardedResource {
        private final Directory directory;
        private final long fetchTimeoutMillis;

        SimpleRegistrationResource(Directory directory, long fetchTimeoutMillis) {
            super("rd");
            this.directory = directory;
            this.fetchTimeoutMillis = fetchTimeoutMillis;
        }

        @Override
        public void handlePOST(CoapExchange exchange) {
            guard(exchange, () -> {
                if (exchange.getRequestPayloadSize() > 0) {
                    throw new IllegalArgumentException("simple registration carries no payload (RFC 9176 section 5.1)");
                }
                Query query = Query.parse(exchange.getRequestOptions().getUriQuery());
                // Validate the parameters before fetching anything.
                request(query, List.of());
                String source = sourceBase(exchange);
                exchange.accept();
                CoapClient client = new CoapClient(source + "/.well-known/core");
                client.setEndpoint(exchange.advanced().getEndpoint());
                client.setTimeout(fetchTimeoutMillis);
                client.get(new CoapHandler() {
                    @Override
                    public void onLoad(CoapResponse response) {
                        guard(exchange, () -> {
                            if (response.getCode() != ResponseCode.CONTENT) {
                                exchange.respond(ResponseCode.BAD_GATEWAY, "the endpoint answered " + response.getCode()
                                        + " to GET /.well-known/core", MediaTypeRegistry.TEXT_PLAIN);
                                return;
                            }
                            List<ResourceLink> links;
                            try {
                                links = LinkFormat.parse(response.getResponseText());
                            } catch (LinkFormatException e) {
                                exchange.respond(ResponseCode.BAD_GATEWAY, "the endpoint's /.well-known/core is not "
                                        + "valid link-format: " + e.getMessage(), MediaTypeRegistry.TEXT_PLAIN);
                                return;
                            }
                            directory.register(request(query, links), URI.create(source));
                            exchange.respond(ResponseCode.CHANGED);
                        });
                    }

                    @Override
                    public void onError() {
                        exchange.respond(ResponseCode.GATEWAY_TIMEOUT, "the endpoint did not answer GET "
                                + "/.well-known/core", MediaTypeRegistry.TEXT_PLAIN);
                    }
                });
            });
        }
    }
}
