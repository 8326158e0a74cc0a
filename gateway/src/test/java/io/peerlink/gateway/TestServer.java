package io.peerlink.gateway;

import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.server.handler.ContextHandlerCollection;

/** A Jetty server on an ephemeral loopback port with one {@link GatewayServer} mounted. */
final class TestServer implements AutoCloseable {

    final GatewayServer gateway;
    final Server jetty;
    final int port;

    TestServer(GatewayServer gateway) throws Exception {
        this.gateway = gateway;
        this.jetty = new Server();
        ServerConnector connector = new ServerConnector(jetty);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        jetty.addConnector(connector);
        jetty.setHandler(new ContextHandlerCollection(gateway.contextHandler()));
        jetty.start();
        this.port = connector.getLocalPort();
    }

    String url() {
        return "http://127.0.0.1:" + port;
    }

    @Override
    public void close() {
        gateway.close();
        try {
            jetty.stop();
        } catch (Exception e) {
            throw new IllegalStateException("jetty did not stop", e);
        }
    }
}
