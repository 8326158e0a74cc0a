package io.peerlink.server;

import io.peerlink.server.thirdparty.HelloEndpoint;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URL;
import java.net.URLClassLoader;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The server is composed by CDI from contributed beans: its own endpoints and services, and those
 * that any jar on the class path registers.
 */
class ServerCompositionTest {

    private static ServerConfig.Builder base() {
        return ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(0).open(true);
    }

    @Test
    void builtInEndpointsAndServicesAreBeansMountedByTheServer() throws Exception {
        try (ReferenceServer server = ReferenceServer.start(base().build())) {
            assertEquals(List.of("resource-directory", "operations", "rendezvous"), server.endpoints());
            assertEquals(List.of("resource-directory", "stun"), server.services());
            HttpResponse<String> health = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                    server.httpUri().resolve("/readyz")).build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, health.statusCode());
            assertEquals("ready\n", health.body());
        }
        try (ReferenceServer server = ReferenceServer.start(base().stunPort(-1).coapPort(-1).build())) {
            assertEquals(List.of("operations", "rendezvous"), server.endpoints());
            assertEquals(List.of(), server.services());
        }
    }

    /**
     * A third-party jar (its class plus {@code META-INF/services/io.peerlink.server.HttpEndpoint}) on
     * the class path contributes an endpoint: it is mounted, configured from the server's settings, injected with
     * server components and told when the server started.
     */
    @Test
    void aBeanArchiveOnTheClassPathContributesAnEndpoint(@TempDir Path dir) throws Exception {
        Path archive = beanArchive(dir, HelloEndpoint.class);
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {archive.toUri().toURL()}, previous)) {
            Thread.currentThread().setContextClassLoader(loader);
            try (ReferenceServer server = ReferenceServer.start(base().coapPort(-1)
                    .settings(Map.of("endpoint.hello.greeting", "bonjour")).build())) {
                assertEquals(List.of("operations", "hello", "rendezvous"), server.endpoints());
                HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                        server.httpUri().resolve("/hello/world")).build(), HttpResponse.BodyHandlers.ofString());
                assertEquals(200, r.statusCode());
                assertEquals("bonjour /world devices=0 started=" + server.controlUri(), r.body());
                // The server's own endpoints still answer next to it.
                assertEquals(200, HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.httpUri().resolve("/healthz"))
                        .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
            }
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
        // Without the jar on the class path the endpoint is not there.
        try (ReferenceServer server = ReferenceServer.start(base().coapPort(-1).build())) {
            assertEquals(404, HttpClient.newHttpClient().send(HttpRequest.newBuilder(server.httpUri().resolve("/hello/world"))
                    .build(), HttpResponse.BodyHandlers.ofString()).statusCode());
        }
    }

    /**
     * An application's own bean archive ({@code META-INF/beans.xml}) on the class path stays out of
     * the server's container: the server does not scan, it only adds registered bean classes.
     */
    @Test
    void anApplicationsBeanArchiveDoesNotLeakIntoTheServer(@TempDir Path dir) throws Exception {
        Path archive = beanArchive(dir, HelloEndpoint.class);
        Files.delete(archive.resolve("META-INF/services/" + HttpEndpoint.class.getName()));
        Files.writeString(archive.resolve("META-INF/beans.xml"), """
                <beans xmlns="https://jakarta.ee/xml/ns/jakartaee" version="4.0" bean-discovery-mode="all"/>
                """);
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {archive.toUri().toURL()}, previous)) {
            Thread.currentThread().setContextClassLoader(loader);
            try (ReferenceServer server = ReferenceServer.start(base().coapPort(-1).build())) {
                assertEquals(List.of("operations", "rendezvous"), server.endpoints());
            }
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    @Test
    void twoEndpointsClaimingOneContextPathStopTheStartWithBothNames(@TempDir Path dir) throws Exception {
        Path archive = beanArchive(dir, HelloEndpoint.class);
        ClassLoader previous = Thread.currentThread().getContextClassLoader();
        try (URLClassLoader loader = new URLClassLoader(new URL[] {archive.toUri().toURL()}, previous)) {
            Thread.currentThread().setContextClassLoader(loader);
            Path keys = Files.writeString(dir.resolve("gateway-keys"), "gw-1 hmac-sha256 "
                    + java.util.Base64.getEncoder().encodeToString(new byte[32]) + "\n");
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> ReferenceServer.start(base().coapPort(-1)
                    .gateway(new ServerConfig.Gateway(true, "/hello", keys, false, java.time.Duration.ofSeconds(30))).build()));
            assertTrue(e.getMessage().contains("both claim context path /hello"), e.getMessage());
            assertTrue(e.getMessage().contains("'gateway'") && e.getMessage().contains("'hello'"), e.getMessage());
        } finally {
            Thread.currentThread().setContextClassLoader(previous);
        }
    }

    /** Lays out a directory holding the given class and its registration, as a third party's jar would. */
    static Path beanArchive(Path dir, Class<?> bean) throws Exception {
        Path root = dir.resolve("archive");
        String resource = bean.getName().replace('.', '/') + ".class";
        Path target = root.resolve(resource);
        Files.createDirectories(target.getParent());
        try (var in = bean.getClassLoader().getResourceAsStream(resource)) {
            Files.copy(in, target);
        }
        Files.createDirectories(root.resolve("META-INF/services"));
        Files.writeString(root.resolve("META-INF/services/" + HttpEndpoint.class.getName()), "# contributed endpoints\n" + bean.getName() + "\n");
        return root;
    }
}
