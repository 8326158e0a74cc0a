package io.peerlink.bridge.http;

import io.peerlink.LookupQuery;
import io.peerlink.ResourceBridge;
import io.peerlink.bridge.internal.CoapResourceBridge;
import io.peerlink.bridge.internal.ws.HttpMapping;

import org.eclipse.californium.core.CoapClient;
import org.eclipse.californium.core.CoapHandler;
import org.eclipse.californium.core.CoapResponse;
import org.eclipse.californium.core.coap.CoAP.Code;
import org.eclipse.californium.core.coap.MediaTypeRegistry;
import org.eclipse.californium.core.network.CoapEndpoint;
import org.eclipse.jetty.http.HttpField;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.http.UriCompliance;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Promise;
import org.eclipse.jetty.util.thread.Invocable;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.OptionalInt;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * HTTP to CoAP (RFC 8075): a Jetty 12 handler that lets web clients reach devices' CoAP resources.
 * It answers under {@code /hc} in the two URI forms of RFC 8075 section 5:
 *
 * <ul>
 * <li>{@code /hc/coap://192.0.2.5:5683/temp?unit=c} (the target URI appended, {@code /hc/{+tu}})</li>
 * <li>{@code /hc?target_uri=coap%3A%2F%2F192.0.2.5%3A5683%2Ftemp} ({@code /hc{?target_uri}})</li>
 * </ul>
 *
 * <p>Only targets whose scheme, host and port are the base of an endpoint registered in the
 * resource directory are forwarded (403 otherwise), so the proxy is no way into arbitrary CoAP
 * hosts. Methods, Content-Type / Accept and status codes are translated with the tables in
 * {@link HttpMapping}; a device that does not answer within the timeout gives 504.
 */
public final class HttpCoapProxy extends Handler.Abstract.NonBlocking implements AutoCloseable {
    /** The path prefix the proxy answers under. */
    public static final String PREFIX = "/hc";
    /**
     * The URI compliance a connector needs for the appended form: its {@code coap://} makes an
     * empty path segment, which Jetty rejects by default as ambiguous.
     */
    public static final UriCompliance URI_COMPLIANCE = UriCompliance.DEFAULT.with("RFC8075",
            UriCompliance.Violation.AMBIGUOUS_EMPTY_SEGMENT);

    /** Largest request body forwarded. */
    public static final int MAX_BODY = 64 * 1024;

    private final ResourceBridge bridge;
    private final Duration timeout;
    private final CoapEndpoint endpoint;
    private final ScheduledExecutorService timer;

    /**
     * @param bridge the directory that says which targets may be reached
     * @param timeout how long to wait for a device
     * @throws IOException if the client socket cannot be bound
     */
    public HttpCoapProxy(ResourceBridge bridge, Duration timeout) throws IOException {
        this.bridge = Objects.requireNonNull(bridge, "bridge");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.endpoint = new CoapEndpoint.Builder().setConfiguration(CoapResourceBridge.configuration())
                .setInetSocketAddress(new InetSocketAddress(0)).build();
        endpoint.start();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "peerlink-hc-timeout");
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public boolean handle(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (!path.equals(PREFIX) && !path.startsWith(PREFIX + "/")) {
            return false;
        }
        URI target;
        try {
            target = target(request);
        } catch (IllegalArgumentException e) {
            return error(response, callback, HttpStatus.BAD_REQUEST_400, e.getMessage());
        }
        Code code = method(request.getMethod());
        if (code == null) {
            return error(response, callback, HttpStatus.NOT_IMPLEMENTED_501, "method " + request.getMethod()
                    + " has no CoAP equivalent");
        }
        String origin = target.getScheme() + "://" + target.getHost() + ":" + (target.getPort() < 0 ? 5683
                : target.getPort());
        String originNoPort = target.getPort() < 0 || target.getPort() == 5683
                ? target.getScheme() + "://" + target.getHost() : null;
        bridge.lookupEndpoints(LookupQuery.all().where("base", origin).page(0, 1))
                .thenCompose(found -> found.isEmpty() && originNoPort != null
                        ? bridge.lookupEndpoints(LookupQuery.all().where("base", originNoPort).page(0, 1))
                        : java.util.concurrent.CompletableFuture.completedFuture(found))
                .whenComplete((found, failure) -> {
                    if (failure != null || found.isEmpty()) {
                        error(response, callback, HttpStatus.FORBIDDEN_403, "the target " + origin
                                + " is not registered in the resource directory");
                        return;
                    }
                    // The continuation only starts a non-blocking CoAP exchange.
                    Content.Source.asByteArrayAsync(request, MAX_BODY, Promise.Invocable.from(
                            Invocable.InvocationType.NON_BLOCKING, (byte[] body, Throwable bodyFailure) -> {
                        if (bodyFailure != null) {
                            error(response, callback, HttpStatus.PAYLOAD_TOO_LARGE_413, "request body exceeds "
                                    + MAX_BODY + " bytes");
                            return;
                        }
                        forward(request, response, callback, target, code, body);
                    }));
                });
        return true;
    }

    private static URI target(Request request) {
        String raw = request.getHttpURI().getPath();
        String text;
        if (raw.length() > PREFIX.length() + 1) {
            text = raw.substring(PREFIX.length() + 1);
            String query = request.getHttpURI().getQuery();
            if (query != null) {
                text += "?" + query;
            }
        } else {
            String query = request.getHttpURI().getQuery();
            String value = null;
            if (query != null) {
                for (String pair : query.split("&")) {
                    if (pair.startsWith("target_uri=")) {
                        value = URLDecoder.decode(pair.substring("target_uri=".length()), StandardCharsets.UTF_8);
                    }
                }
            }
            if (value == null) {
                throw new IllegalArgumentException("no target: use " + PREFIX + "/coap://host:port/path or "
                        + PREFIX + "?target_uri=coap%3A%2F%2Fhost%2Fpath");
            }
            text = value;
        }
        try {
            URI uri = new URI(text);
            if (!"coap".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new IllegalArgumentException("the target must be a coap:// URI with a host: " + text);
            }
            if (uri.getRawFragment() != null) {
                throw new IllegalArgumentException("the target must not have a fragment");
            }
            return uri;
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("the target is not a URI: " + e.getMessage());
        }
    }

    private static Code method(String method) {
        switch (method.toUpperCase(Locale.ROOT)) {
            case "GET":
                return Code.GET;
            case "POST":
                return Code.POST;
            case "PUT":
                return Code.PUT;
            case "DELETE":
                return Code.DELETE;
            case "PATCH":
                return Code.PATCH;
            default:
                return null;
        }
    }

    private void forward(Request http, Response response, Callback callback, URI target, Code code, byte[] body) {
        org.eclipse.californium.core.coap.Request coap = new org.eclipse.californium.core.coap.Request(code);
        coap.setURI(target);
        String contentType = http.getHeaders().get(HttpHeader.CONTENT_TYPE);
        if (body.length > 0) {
            OptionalInt ct = HttpMapping.contentFormat(contentType);
            if (contentType != null && ct.isEmpty()) {
                error(response, callback, HttpStatus.UNSUPPORTED_MEDIA_TYPE_415, "media type " + contentType
                        + " has no CoAP content format");
                return;
            }
            coap.setPayload(body);
            coap.getOptions().setContentFormat(ct.orElse(MediaTypeRegistry.APPLICATION_OCTET_STREAM));
        }
        HttpField accept = http.getHeaders().getField(HttpHeader.ACCEPT);
        if (accept != null) {
            for (String value : accept.getValues()) {
                OptionalInt ct = HttpMapping.contentFormat(value);
                if (ct.isPresent()) {
                    coap.getOptions().setAccept(ct.getAsInt());
                    break;
                }
            }
        }
        AtomicBoolean done = new AtomicBoolean();
        ScheduledFuture<?> timeoutTask = timer.schedule(() -> {
            if (done.compareAndSet(false, true)) {
                coap.cancel();
                error(response, callback, HttpStatus.GATEWAY_TIMEOUT_504, "the CoAP server did not answer within "
                        + timeout.toMillis() + " ms");
            }
        }, timeout.toMillis(), TimeUnit.MILLISECONDS);
        CoapClient client = new CoapClient();
        client.setEndpoint(endpoint);
        client.advanced(new CoapHandler() {
            @Override
            public void onLoad(CoapResponse answer) {
                if (!done.compareAndSet(false, true)) {
                    return;
                }
                timeoutTask.cancel(false);
                response.setStatus(HttpMapping.toHttp(answer.getCode()));
                byte[] payload = answer.getPayload() == null ? new byte[0] : answer.getPayload();
                if (payload.length > 0) {
                    String media = answer.getOptions().hasContentFormat()
                            ? HttpMapping.mediaType(answer.getOptions().getContentFormat())
                            : answer.isSuccess() ? "application/octet-stream" : "text/plain;charset=utf-8";
                    response.getHeaders().put(HttpHeader.CONTENT_TYPE, media == null ? "application/octet-stream"
                            : media);
                }
                response.write(true, ByteBuffer.wrap(payload), callback);
            }

            @Override
            public void onError() {
                if (done.compareAndSet(false, true)) {
                    timeoutTask.cancel(false);
                    error(response, callback, HttpStatus.BAD_GATEWAY_502, "the CoAP request to " + target
                            + " failed");
                }
            }
        }, coap);
    }

    private static boolean error(Response response, Callback callback, int status, String message) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain;charset=utf-8");
        Content.Sink.write(response, true, message + "\n", callback);
        return true;
    }

    /** @return the proxy's client-side CoAP address */
    public InetSocketAddress coapAddress() {
        return endpoint.getAddress();
    }

    @Override
    public void close() {
        timer.shutdownNow();
        endpoint.destroy();
    }
}
