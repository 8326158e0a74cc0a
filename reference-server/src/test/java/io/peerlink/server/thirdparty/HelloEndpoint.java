package io.peerlink.server.thirdparty;

import io.peerlink.server.HttpEndpoint;
import io.peerlink.server.ServerConfig;
import io.peerlink.server.ServerStarted;
import io.peerlink.server.rendezvous.RendezvousService;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.util.Callback;

import java.net.URI;

/**
 * A third party's endpoint: a plain CDI bean in its own jar, knowing the server only by
 * its public extension types. It reads its setting {@code endpoint.hello.greeting}, injects a
 * server component, and observes the start event. Not registered in this module's test classes:
 * {@code ServerCompositionTest} lays out a jar-like directory that registers it.
 */
@ApplicationScoped
public class HelloEndpoint implements HttpEndpoint {
    private ServerConfig config;
    private RendezvousService rendezvous;
    private volatile URI startedWith;

    /** CDI. */
    protected HelloEndpoint() {
    }

    @Inject
    HelloEndpoint(ServerConfig config, RendezvousService rendezvous) {
        this.config = config;
        this.rendezvous = rendezvous;
    }

    void started(@Observes ServerStarted event) {
        startedWith = event.controlUri();
    }

    @Override
    public String name() {
        return "hello";
    }

    @Override
    public String contextPath() {
        return "/hello";
    }

    @Override
    public Handler handler(Server jetty) {
        String greeting = config.plugin("endpoint.hello.").get("greeting").orElse("hello");
        return new Handler.Abstract.NonBlocking() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) {
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "text/plain; charset=utf-8");
                Content.Sink.write(response, true, greeting + " " + Request.getPathInContext(request) + " devices="
                        + rendezvous.devicesOnline() + " started=" + startedWith, callback);
                return true;
            }
        };
    }
}
