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
        engineIo.handleRequest(request, response);
    }
}
