package io.peerlink.bridge.internal.ws;

import io.peerlink.bridge.internal.Query;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.cbor.databind.CBORMapper;
import org.eclipse.californium.core.CoapResource;
import org.eclipse.californium.core.coap.CoAP.ResponseCode;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.coap.Response;
import org.eclipse.californium.core.server.resources.CoapExchange;
import org.eclipse.californium.core.server.resources.Resource;
import org.eclipse.jetty.client.BufferingResponseListener;
import org.eclipse.jetty.client.BytesRequestContent;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.Request;
import org.eclipse.jetty.client.Result;
import org.eclipse.jetty.http.HttpHeader;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.logging.Level;
import java.util.logging.Logger;

/**
 * {@code /ws/<service>/<operation>}: one web service's operations as CoAP resources, each call
 * translated to HTTP and sent with Jetty's client without blocking a CoAP thread. The resource
 * answers for every path below {@code /ws/<service>} and dispatches on the last segment.
 */
final class VirtualServiceResource extends CoapResource {
    private static final Logger LOG = Logger.getLogger(VirtualServiceResource.class.getName());
    /** Largest web-service response relayed (Block2 carries it to the client). */
    static final int MAX_RESPONSE = 1 << 20;
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final ObjectMapper CBOR = new CBORMapper();

    private final HttpClient http;
    private final Duration timeout;
    private final Function<String, String> secrets;
    private volatile Mounted mounted;

    /**
     * What is served now; replaced as a whole when the description changes.
     *
     * @param model the description
     * @param base the HTTP base URL
     * @param byId operations by CoAP resource name
     */
    record Mounted(ServiceModel model, URI base, Map<String, ServiceModel.Operation> byId) {
        static Mounted of(ServiceModel model, URI base) {
            Map<String, ServiceModel.Operation> byId = new LinkedHashMap<>();
            model.operations().forEach(op -> byId.put(op.id(), op));
            return new Mounted(model, base, byId);
        }
    }

    VirtualServiceResource(String name, Mounted mounted, HttpClient http, Duration timeout,
                           Function<String, String> secrets) {
        super(name);
        this.mounted = mounted;
        this.http = http;
        this.timeout = timeout;
        this.secrets = secrets;
        getAttributes().addResourceType("ws.service");
    }

    void remount(Mounted next) {
        this.mounted = next;
    }

    @Override
    public Resource getChild(String name) {
        return this;
    }

    @Override
    public void handleGET(CoapExchange exchange) {
        call(exchange);
    }

    @Override
    public void handlePOST(CoapExchange exchange) {
        call(exchange);
    }

    @Override
    public void handlePUT(CoapExchange exchange) {
        call(exchange);
    }

    @Override
    public void handleDELETE(CoapExchange exchange) {
        call(exchange);
    }

    @Override
    public void handlePATCH(CoapExchange exchange) {
        call(exchange);
    }

    private static void fail(CoapExchange exchange, ResponseCode code, String diagnostic) {
        exchange.respond(code, diagnostic, MediaTypeRegistry.TEXT_PLAIN);
    }

    private void call(CoapExchange exchange) {
        Mounted m = mounted;
        List<String> path = exchange.getRequestOptions().getUriPath();
        if (path.size() != 3) {
            fail(exchange, ResponseCode.NOT_FOUND, "operations of " + m.model().name() + " are "
                    + String.join(", ", m.byId().keySet()) + " under /ws/" + m.model().name() + "/");
            return;
        }
        ServiceModel.Operation op = m.byId().get(path.get(2));
        if (op == null) {
            fail(exchange, ResponseCode.NOT_FOUND, "no operation '" + path.get(2) + "' in " + m.model().name());
            return;
        }
        String coapMethod = exchange.getRequestCode().name();
        if (!coapMethod.equals(op.method())) {
            fail(exchange, ResponseCode.METHOD_NOT_ALLOWED, op.id() + " takes " + op.method());
            return;
        }
        try {
            Request request = translate(exchange, m, op);
            send(exchange, op, request);
        } catch (TranslationException e) {
            fail(exchange, e.code, e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(Level.WARNING, "virtual resource " + m.model().name() + "/" + op.id() + " failed", e);
            fail(exchange, ResponseCode.INTERNAL_SERVER_ERROR, "internal error: " + e.getClass().getSimpleName());
        }
    }

    /** A CoAP request that cannot become an HTTP request, with the code to answer. */
    static final class TranslationException extends Exception {
        private static final long serialVersionUID = 1L;
        private final transient ResponseCode code;

        TranslationException(ResponseCode code, String message) {
            super(message);
            this.code = code;
        }
    }

    private Request translate(CoapExchange exchange, Mounted m, ServiceModel.Operation op) throws TranslationException {
        Query query;
        try {
            query = Query.parse(exchange.getRequestOptions().getUriQuery());
        } catch (IllegalArgumentException e) {
            throw new TranslationException(ResponseCode.BAD_REQUEST, e.getMessage());
        }
        Map<String, String> values = new LinkedHashMap<>();
        for (Map.Entry<String, String> p : query.pairs()) {
            boolean known = op.params().stream().anyMatch(d -> d.name().equals(p.getKey()));
            if (!known) {
                throw new TranslationException(ResponseCode.BAD_REQUEST, "unknown parameter '" + p.getKey() + "'; "
                        + op.id() + " takes " + op.params().stream().map(ServiceModel.Param::name).toList());
            }
            if (values.put(p.getKey(), p.getValue()) != null) {
                throw new TranslationException(ResponseCode.BAD_REQUEST, "parameter '" + p.getKey()
                        + "' appears more than once");
            }
        }
        String path = op.pathTemplate();
        StringBuilder queryString = new StringBuilder();
        Map<String, String> headers = new LinkedHashMap<>();
        for (ServiceModel.Param p : op.params()) {
            String v = values.get(p.name());
            if (v == null) {
                if (p.required()) {
                    throw new TranslationException(ResponseCode.BAD_REQUEST, "missing required "
                            + p.in().name().toLowerCase(java.util.Locale.ROOT) + " parameter '" + p.name() + "'");
                }
                continue;
            }
            switch (p.in()) {
                case PATH:
                    path = path.replace("{" + p.name() + "}", encode(v).replace("+", "%20"));
                    break;
                case QUERY:
                    appendQuery(queryString, p.name(), v);
                    break;
                default:
                    headers.put(p.name(), v);
            }
        }
        for (ServiceModel.SecretParam s : m.model().secrets()) {
            String key = m.model().name() + "." + s.scheme();
            String secret = secrets.apply(key);
            if (secret == null) {
                throw new TranslationException(ResponseCode.INTERNAL_SERVER_ERROR, "the bridge has no secret '" + key
                        + "' configured for this service");
            }
            if (s.in() == ServiceModel.In.QUERY) {
                appendQuery(queryString, s.name(), secret);
            } else {
                headers.put(s.name(), secret);
            }
        }
        String base = m.base().toString();
        if (base.endsWith("/")) {
            base = base.substring(0, base.length() - 1);
        }
        URI uri = URI.create(base + path + (queryString.length() == 0 ? "" : "?" + queryString));
        Request request = http.newRequest(uri).method(op.method()).timeout(timeout.toMillis(), TimeUnit.MILLISECONDS);
        headers.forEach((k, v) -> request.headers(h -> h.put(k, v)));

        if (exchange.getRequestOptions().hasAccept()) {
            int accept = exchange.getRequestOptions().getAccept();
            String media = accept == MediaTypeRegistry.APPLICATION_CBOR && !op.responseMediaTypes().contains(
                    "application/cbor") ? "application/json" : HttpMapping.mediaType(accept);
            if (media == null) {
                throw new TranslationException(ResponseCode.NOT_ACCEPTABLE, "content format " + accept
                        + " has no HTTP media type the bridge translates");
            }
            request.headers(h -> h.put(HttpHeader.ACCEPT, media));
        }
        byte[] payload = exchange.getRequestPayload();
        if (payload != null && payload.length > 0) {
            int ct = exchange.getRequestOptions().hasContentFormat() ? exchange.getRequestOptions().getContentFormat()
                    : MediaTypeRegistry.APPLICATION_OCTET_STREAM;
            String media = HttpMapping.mediaType(ct);
            if (media == null) {
                throw new TranslationException(ResponseCode.UNSUPPORTED_CONTENT_FORMAT, "content format " + ct
                        + " has no HTTP media type the bridge translates");
            }
            if (ct == MediaTypeRegistry.APPLICATION_CBOR && !op.requestMediaTypes().contains("application/cbor")
                    && op.requestMediaTypes().stream().anyMatch(HttpMapping::isJson)) {
                try {
                    payload = JSON.writeValueAsBytes(CBOR.readTree(payload));
                    media = "application/json";
                } catch (IOException e) {
                    throw new TranslationException(ResponseCode.BAD_REQUEST, "payload is not valid CBOR: "
                            + e.getMessage());
                }
            }
            request.body(new BytesRequestContent(media, payload));
        }
        return request;
    }

    private static String encode(String v) {
        return URLEncoder.encode(v, StandardCharsets.UTF_8);
    }

    private static void appendQuery(StringBuilder q, String name, String value) {
        if (q.length() > 0) {
            q.append('&');
        }
        q.append(encode(name)).append('=').append(encode(value));
    }

    private static void send(CoapExchange exchange, ServiceModel.Operation op, Request request) {
        boolean wantsCbor = exchange.getRequestOptions().hasAccept()
                && exchange.getRequestOptions().getAccept() == MediaTypeRegistry.APPLICATION_CBOR;
        request.send(new BufferingResponseListener(MAX_RESPONSE) {
            @Override
            public void onComplete(Result result) {
                if (result.isFailed()) {
                    Throwable failure = result.getFailure();
                    if (failure instanceof TimeoutException) {
                        fail(exchange, ResponseCode.GATEWAY_TIMEOUT, "the web service did not answer within "
                                + request.getTimeout() + " ms");
                    } else if (failure instanceof IllegalArgumentException && String.valueOf(failure.getMessage())
                            .contains("capacity")) {
                        fail(exchange, ResponseCode.BAD_GATEWAY, "the web service's response exceeds "
                                + MAX_RESPONSE + " bytes");
                    } else {
                        fail(exchange, ResponseCode.BAD_GATEWAY, "the web service is unreachable: "
                                + failure.getClass().getSimpleName());
                    }
                    return;
                }
                int status = result.getResponse().getStatus();
                ResponseCode code = HttpMapping.toCoap(status, op.method());
                byte[] body = getContent();
                String mediaType = getMediaType();
                OptionalInt ct = HttpMapping.contentFormat(mediaType);
                Response response = new Response(code);
                if (wantsCbor && HttpMapping.isJson(mediaType) && body.length > 0) {
                    try {
                        body = CBOR.writeValueAsBytes(JSON.readTree(body));
                        ct = OptionalInt.of(MediaTypeRegistry.APPLICATION_CBOR);
                    } catch (IOException e) {
                        fail(exchange, ResponseCode.BAD_GATEWAY, "the web service sent malformed JSON: "
                                + e.getClass().getSimpleName());
                        return;
                    }
                } else if (ct.isEmpty() && body.length > 0) {
                    ct = OptionalInt.of(MediaTypeRegistry.APPLICATION_OCTET_STREAM);
                }
                if (body.length > 0) {
                    response.setPayload(body);
                }
                ct.ifPresent(response.getOptions()::setContentFormat);
                exchange.respond(response);
            }
        });
    }

    /** @return the operations as links, relative to the bridge */
    List<io.peerlink.ResourceLink> links() {
        Mounted m = mounted;
        List<io.peerlink.ResourceLink> links = new ArrayList<>();
        for (ServiceModel.Operation op : m.model().operations()) {
            io.peerlink.ResourceLink.Builder b = io.peerlink.ResourceLink.builder("/ws/" + m.model().name() + "/"
                    + op.id()).resourceType(op.resourceType()).interfaceDescription("ws." + op.method().toLowerCase(
                    java.util.Locale.ROOT));
            java.util.Set<Integer> formats = new java.util.LinkedHashSet<>();
            for (String t : op.responseMediaTypes()) {
                HttpMapping.contentFormat(t).ifPresent(formats::add);
                if (HttpMapping.isJson(t)) {
                    formats.add(MediaTypeRegistry.APPLICATION_CBOR); // translated on request (Accept: 60)
                }
            }
            formats.forEach(b::contentFormat);
            op.title().map(t -> t.replaceAll("\\p{Cntrl}", " ").trim()).filter(t -> !t.isEmpty())
                    .ifPresent(t -> b.title(t.length() > 100 ? t.substring(0, 100) : t));
            links.add(b.build());
        }
        return links;
    }
}
