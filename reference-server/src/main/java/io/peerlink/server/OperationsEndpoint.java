package io.peerlink.server;

import io.peerlink.server.metrics.ServerMetrics;
import io.peerlink.server.rendezvous.RendezvousService;
import io.peerlink.server.stun.StunService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.http.HttpStatus;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;

/**
 * {@code GET /healthz}, {@code /readyz}, and, for holders of the operator token, {@code /status}
 * (JSON) and {@code /metrics} (Prometheus), at the root context (docs/operations.md).
 */
@ApplicationScoped
public class OperationsEndpoint implements HttpEndpoint {
    private static final Jsonb JSON = JsonbBuilder.create();

    private ServerConfig config;
    private RendezvousService rendezvous;
    private StunService stun;
    private ServerMetrics metrics;
    private Readiness readiness;

    /** CDI. */
    protected OperationsEndpoint() {
    }

    @Inject
    OperationsEndpoint(ServerConfig config, RendezvousService rendezvous, StunService stun, ServerMetrics metrics,
                       Readiness readiness) {
        this.config = config;
        this.rendezvous = rendezvous;
        this.stun = stun;
        this.metrics = metrics;
        this.readiness = readiness;
    }

    @Override
    public String name() {
        return "operations";
    }

    @Override
    public String contextPath() {
        return "/";
    }

    @Override
    public int order() {
        return 100;
    }

    @Override
    public Handler handler(Server jetty) {
        return new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                return serve(request, response, callback);
            }
        };
    }

    private boolean serve(Request request, Response response, Callback callback) {
        String path = Request.getPathInContext(request);
        if (!"GET".equals(request.getMethod())) {
            return false;
        }
        if ("/readyz".equals(path)) {
            Readiness.State state = readiness.state();
            // A node that lost its shared state (Redis) serves only its own devices: not ready for new ones.
            String outage = state == Readiness.State.READY ? rendezvous.registry().unavailable() : null;
            response.setStatus(state == Readiness.State.READY && outage == null ? HttpStatus.OK_200 : HttpStatus.SERVICE_UNAVAILABLE_503);
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            Content.Sink.write(response, true, outage != null ? "unavailable: " + outage + "\n"
                    : state.name().toLowerCase(Locale.ROOT) + "\n", callback);
            return true;
        }
        if ("/healthz".equals(path)) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
            Content.Sink.write(response, true, "ok\n", callback);
            return true;
        }
        boolean operatorPath = "/status".equals(path) || "/metrics".equals(path);
        if (!operatorPath || config.statusToken() == null) {
            return false;
        }
        if (!authorized(request.getHeaders().get(HttpHeader.AUTHORIZATION), config.statusToken())) {
            response.setStatus(HttpStatus.UNAUTHORIZED_401);
            response.getHeaders().put(HttpHeader.WWW_AUTHENTICATE, "Bearer realm=\"peerlink\"");
            Content.Sink.write(response, true, "operator token required\n", callback);
            return true;
        }
        if ("/metrics".equals(path)) {
            response.getHeaders().put(HttpHeader.CONTENT_TYPE, ServerMetrics.contentType());
            Content.Sink.write(response, true, metrics.scrape(), callback);
            return true;
        }
        ReferenceServer.Status status = new ReferenceServer.Status(rendezvous.devicesOnline(), rendezvous.introductions(),
                rendezvous.connectRequests(), rendezvous.protocolErrors(),
                stun.enabled() ? new ReferenceServer.StunStatus(stun.answered(), stun.dropped(), stun.rateLimited()) : null);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        Content.Sink.write(response, true, JSON.toJson(status), callback);
        return true;
    }

    private static boolean authorized(String header, String token) {
        String expected = "Bearer " + token;
        // Constant time: the comparison must not tell an attacker how much of a guess was right.
        return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8), expected.getBytes(StandardCharsets.UTF_8));
    }
}
