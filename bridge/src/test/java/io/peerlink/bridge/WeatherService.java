package io.peerlink.bridge;

import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.Fields;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A real HTTP web service on loopback (Jetty), serving weather-like JSON from fixtures: what the
 * virtual resources call. Not a mock: requests travel over TCP and HTTP/1.1.
 */
final class WeatherService implements AutoCloseable {
    static final String API_KEY = "test-key-" + Long.toHexString(System.nanoTime());
    static final String RAML_KEY = "raml-key-" + Long.toHexString(System.nanoTime());

    final byte[] current = fixture("current-berlin.json");
    final byte[] forecast = fixture("forecast-berlin.json");
    final AtomicReference<String> lastContentType = new AtomicReference<>();
    final AtomicReference<String> lastQuery = new AtomicReference<>();
    private final Server server;
    private final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

    WeatherService() throws Exception {
        server = new Server();
        ServerConnector connector = new ServerConnector(server);
        connector.setHost("127.0.0.1");
        connector.setPort(0);
        server.addConnector(connector);
        server.setHandler(new Handler.Abstract() {
            @Override
            public boolean handle(Request request, Response response, Callback callback) throws Exception {
                return serve(request, response, callback);
            }
        });
        server.start();
    }

    static byte[] fixture(String name) {
        try (InputStream in = WeatherService.class.getResourceAsStream("/ws/" + name)) {
            return in.readAllBytes();
        } catch (IOException | NullPointerException e) {
            throw new IllegalStateException("missing fixture " + name, e);
        }
    }

    int port() {
        return ((ServerConnector) server.getConnectors()[0]).getLocalPort();
    }

    String base() {
        return "http://127.0.0.1:" + port() + "/api";
    }

    private boolean serve(Request request, Response response, Callback callback) throws Exception {
        String path = Request.getPathInContext(request);
        Fields query = Request.extractQueryParameters(request);
        lastQuery.set(request.getHttpURI().getQuery());
        lastContentType.set(request.getHeaders().get(HttpHeader.CONTENT_TYPE));
        boolean authorised = API_KEY.equals(query.getValue("appid"))
                || RAML_KEY.equals(request.getHeaders().get("X-Api-Key"));
        if (path.equals("/api/slow")) {
            // Answers only when the test is over: long past any bridge timeout.
            release.await(30, java.util.concurrent.TimeUnit.SECONDS);
            return json(response, callback, 200, "{}".getBytes(StandardCharsets.UTF_8));
        }
        if (!authorised) {
            return json(response, callback, 401, "{\"cod\":401,\"message\":\"Invalid API key\"}".getBytes(
                    StandardCharsets.UTF_8));
        }
        if (path.equals("/api/weather") && "GET".equals(request.getMethod())) {
            return "Berlin".equals(query.getValue("city")) ? json(response, callback, 200, current)
                    : json(response, callback, 404, "{\"cod\":\"404\",\"message\":\"city not found\"}".getBytes(
                    StandardCharsets.UTF_8));
        }
        if (path.equals("/api/forecast/Berlin")) {
            return json(response, callback, 200, forecast);
        }
        if (path.equals("/api/alerts") && "POST".equals(request.getMethod())) {
            byte[] body = Content.Source.asByteBuffer(request).array();
            return json(response, callback, 201, body);
        }
        return json(response, callback, 404, "{\"message\":\"no such path\"}".getBytes(StandardCharsets.UTF_8));
    }

    private static boolean json(Response response, Callback callback, int status, byte[] body) {
        response.setStatus(status);
        response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
        response.write(true, java.nio.ByteBuffer.wrap(body), callback);
        return true;
    }

    @Override
    public void close() {
        release.countDown();
        try {
            server.stop();
        } catch (Exception e) {
            throw new IllegalStateException("stopping the weather service", e);
        }
    }
}
