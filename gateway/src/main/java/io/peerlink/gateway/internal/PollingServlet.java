package io.peerlink.gateway.internal;

import io.socket.engineio.server.EngineIoServer;

import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

import java.io.IOException;

/** Engine.IO HTTP long-polling; must be registered with async support (polls park as async requests). */
public final class PollingServlet extends HttpServlet {

    private final transient EngineIoServer engineIo;

    public PollingServlet(EngineIoServer engineIo) {
        this.engineIo = engineIo;
    }

    @Override
    protected void service(HttpServletRequest request, HttpServletResponse response) throws IOException {
        try {
            engineIo.handleRequest(request, response);
        } catch (RuntimeException e) {
            // engine.io's payload decoder throws unchecked exceptions (index/number errors) on
            // garbage; that is the client's fault, so it gets a 400 with the reason, not a 500.
            if (!response.isCommitted()) {
                response.resetBuffer();
                response.sendError(HttpServletResponse.SC_BAD_REQUEST, "malformed Engine.IO payload: " + e);
            }
        }
    }
}
