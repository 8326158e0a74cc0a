package io.peerlink.server.relay;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.PathKind;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;
import io.peerlink.server.ReferenceServer;
import io.peerlink.server.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The rendezvous through a real HTTP proxy (tinyproxy on loopback) over {@code wss://}: the
 * WebSocket goes through a {@code CONNECT} tunnel, TLS stays end to end (the pinned server key is
 * what the device sees), and two devices with no UDP between them link over the WebSocket relay
 * and move data byte-exact. A proxy that wants credentials fails the connection with one line
 * naming it. (The NAT lab's WsRelayProxyLabTest does the same over {@code ws://} with networks
 * whose only way out is the proxy.)
 */
class WsRelayProxyTest {
    @TempDir
    Path dir;
    private final List<AutoCloseable> toClose = new ArrayList<>();
    private final List<Process> proxies = new ArrayList<>();

    @BeforeEach
    void needTinyproxy() {
        if (!Files.isExecutable(Path.of("/usr/bin/tinyproxy"))) {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("tinyproxy is missing (Debian package tinyproxy; .ci/run installs it)");
            }
            Assumptions.abort("tinyproxy is missing (apt-get install tinyproxy)");
        }
    }

    @AfterEach
    void closeAll() throws Exception {
        GatedUdpProvider.BLOCKED.clear();
        for (int i = toClose.size() - 1; i >= 0; i--) {
            toClose.get(i).close();
        }
        for (Process p : proxies) {
            p.destroy();
            p.waitFor(5, TimeUnit.SECONDS);
        }
    }

    private ReferenceServer tlsServer() throws Exception {
        Path ks = dir.resolve("server.p12");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(),
                "-genkeypair", "-keyalg", "EC", "-groupname", "secp256r1", "-alias", "server", "-dname", "CN=rv",
                "-validity", "2", "-storetype", "PKCS12", "-keystore", ks.toString(), "-storepass", "test-password",
                "-keypass", "test-password", "-ext", "SAN=ip:127.0.0.1").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "keytool failed: " + out);
        ReferenceServer s = ReferenceServer.start(ServerConfig.builder().tls(new ServerConfig.Tls(ks, "test-password"))
                .turnPort(-1).bindHost("127.0.0.1").httpPort(0).stunPort(0).coapPort(-1).open(true).build());
        toClose.add(s);
        return s;
    }

    /** Starts tinyproxy on a free loopback port, tunnelling only to {@code connectPort}; returns its port and log. */
    private record Proxy(int port, Path log) {
        List<String> lines() throws java.io.IOException {
            return Files.readAllLines(log, StandardCharsets.UTF_8);
        }
    }

    private Proxy tinyproxy(int connectPort, String... extra) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        Path conf = dir.resolve("tinyproxy-" + port + ".conf");
        List<String> lines = new ArrayList<>(List.of("Port " + port, "Listen 127.0.0.1", "Timeout 600", "MaxClients 20",
                "ConnectPort " + connectPort, "LogLevel Connect"));
        lines.addAll(List.of(extra));
        Files.writeString(conf, String.join("\n", lines) + "\n");
        Path log = dir.resolve("tinyproxy-" + port + ".log");
        Process p = new ProcessBuilder("tinyproxy", "-d", "-c", conf.toString()).redirectErrorStream(true)
                .redirectOutput(log.toFile()).start();
        proxies.add(p);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                new java.net.Socket("127.0.0.1", port).close();
                return new Proxy(port, log);
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline || !p.isAlive()) {
                    throw new AssertionError("tinyproxy did not start: " + Files.readString(log));
                }
                Thread.sleep(50);
            }
        }
    }

    private Device device(ReferenceServer server, int proxyPort) throws Exception {
        return device(server, b -> b.rendezvousPin(server.serverPin().toString())
                .rendezvousProxy(new InetSocketAddress("127.0.0.1", proxyPort)));
    }

    private Device device(ReferenceServer server, java.util.function.Consumer<Device.Builder> rendezvous) throws Exception {
        Device.Builder b = PeerLinks.device().ephemeralIdentity().rendezvous(server.controlUri()).stunServer(server.stunAddress())
                .transport(Endpoint.parse("gated-udp://127.0.0.1:0"), GatedUdpProvider.class.getName())
                .connectTimeout(Duration.ofSeconds(5));
        rendezvous.accept(b);
        Device d = b.build();
        toClose.add(d);
        return d;
    }

    /** The TLS server's self-signed certificate as PEM: the CA a device may be told to trust. */
    private Path serverCertificatePem() throws Exception {
        Path pem = dir.resolve("server.pem");
        Process p = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-exportcert", "-rfc",
                "-alias", "server", "-keystore", dir.resolve("server.p12").toString(), "-storepass", "test-password",
                "-file", pem.toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), "keytool failed: " + out);
        return pem;
    }

    @Test
    void twoDevicesBehindAProxyLinkOverTheWebSocketRelayOnWss() throws Exception {
        ReferenceServer server = tlsServer();
        assertEquals("wss", server.controlUri().getScheme());
        Proxy proxy = tinyproxy(server.controlUri().getPort());
        Device a = device(server, proxy.port());
        Device b = device(server, proxy.port());
        for (Device d : List.of(a, b)) {
            d.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
            GatedUdpProvider.BLOCKED.add(d.localEndpoints().get(0).port()); // no UDP between the devices
        }
        long tunnels = proxy.lines().stream().filter(l -> l.contains("CONNECT 127.0.0.1:" + server.controlUri().getPort())).count();
        assertEquals(2, tunnels, "both control connections went through the proxy: " + proxy.lines());

        linkOverTheRelayAndMove(server, a, b);
    }

    /** a and b link over the WebSocket relay and move 300 messages of 1,000 bytes, once, in order, byte-exact. */
    private static void linkOverTheRelayAndMove(ReferenceServer server, Device a, Device b) throws Exception {
        CompletableFuture<PeerLink> incoming = new CompletableFuture<>();
        List<ByteBuffer> received = Collections.synchronizedList(new ArrayList<>());
        b.onIncoming(req -> req.accept().whenComplete((l, e) -> {
            if (l != null) {
                l.channel().onMessage((m, how) -> {
                    ByteBuffer c = ByteBuffer.allocate(m.remaining());
                    c.put(m.duplicate()).flip();
                    received.add(c);
                });
                incoming.complete(l);
            } else {
                incoming.completeExceptionally(e);
            }
        }));
        PeerLink la = a.connect(b.id()).toCompletableFuture().get(20, TimeUnit.SECONDS);
        PeerLink lb = incoming.get(15, TimeUnit.SECONDS);
        for (PeerLink l : List.of(la, lb)) {
            assertEquals(PathKind.RELAY, l.path().kind(), l.paths().toString());
            assertEquals("wsrelay", l.path().local().scheme(), l.paths().toString());
        }
        int count = 300;
        CompletableFuture<?> last = null;
        for (int i = 0; i < count; i++) {
            last = la.channel().send(message(i)).toCompletableFuture();
        }
        last.get(60, TimeUnit.SECONDS);
        long end = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (received.size() < count && System.nanoTime() < end) {
            Thread.sleep(20);
        }
        Thread.sleep(100);
        assertEquals(count, received.size(), "every message once");
        for (int i = 0; i < count; i++) {
            assertEquals(message(i), received.get(i), "message " + i + " byte-exact and in order");
        }
        assertTrue(server.wsRelay().relayedBytes() >= count * 1000L, "relayed by the server: " + server.wsRelay().relayedBytes());
    }

    @Test
    void aProxyThatWantsCredentialsFailsInOneLine() throws Exception {
        ReferenceServer server = tlsServer();
        Proxy proxy = tinyproxy(server.controlUri().getPort(), "BasicAuth someone secret-password");
        Device a = device(server, proxy.port());
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> a.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS));
        String message = e.getCause().getMessage();
        assertEquals("the HTTP proxy 127.0.0.1:" + proxy.port() + " wants credentials (HTTP 407): give them as "
                + "http://user:password@host:port in --proxy or HTTPS_PROXY/HTTP_PROXY (Device.Builder.rendezvousProxy(proxy, user, "
                + "password))", message);
    }

    @Test
    void basicCredentialsGetThroughAProxyThatWantsThem() throws Exception {
        ReferenceServer server = tlsServer();
        Proxy proxy = tinyproxy(server.controlUri().getPort(), "BasicAuth bob s3cret-pass");
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", proxy.port());
        java.net.Proxy http = new java.net.Proxy(java.net.Proxy.Type.HTTP, at);
        Device a = device(server, b -> b.rendezvousPin(server.serverPin().toString()).rendezvousProxy(http, "bob", "s3cret-pass".toCharArray()));
        a.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
        assertTrue(proxy.lines().stream().anyMatch(l -> l.contains("CONNECT 127.0.0.1:" + server.controlUri().getPort())),
                "the tunnel went through the proxy: " + proxy.lines());

        Device wrong = device(server, b -> b.rendezvousPin(server.serverPin().toString()).rendezvousProxy(http, "bob", "guess".toCharArray()));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> wrong.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS));
        String message = e.getCause().getMessage();
        // tinyproxy answers a wrong password with 401, a missing one with 407
        assertEquals("the HTTP proxy 127.0.0.1:" + proxy.port() + " rejected the credentials of user 'bob' (HTTP 401 to CONNECT): "
                + "check the user name and password given for the proxy (http://user:password@host:port)", message);
        assertFalse(message.contains("guess"), message);
    }

    @Test
    void anExtraCaIsTrustedInsteadOfAPinAndItsAbsenceNamesTheFlag() throws Exception {
        ReferenceServer server = tlsServer();
        Path ca = serverCertificatePem();
        Proxy proxy = tinyproxy(server.controlUri().getPort());
        InetSocketAddress at = new InetSocketAddress("127.0.0.1", proxy.port());
        Device trusting = device(server, b -> b.rendezvousCa(ca).rendezvousProxy(at));
        trusting.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);

        Device plain = device(server, b -> b.rendezvousProxy(at));
        ExecutionException e = assertThrows(ExecutionException.class,
                () -> plain.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS));
        assertEquals("the TLS certificate 127.0.0.1 presented is not trusted (no trusted certificate authority issued it; issuer "
                + "'CN=rv'): if a TLS-inspecting proxy re-signs the connection, trust its CA with --rendezvous-ca <ca.pem> "
                + "(Device.Builder.rendezvousCa)", e.getCause().getMessage());
        IllegalStateException both = assertThrows(IllegalStateException.class,
                () -> device(server, b -> b.rendezvousCa(ca).rendezvousPin(server.serverPin().toString())));
        assertTrue(both.getMessage().startsWith("rendezvousCa and rendezvousPin exclude each other"), both.getMessage());
    }

    /** Starts microsocks (a SOCKS5 server) on a free loopback port, with user name and password if given. */
    private int microsocks(String... auth) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            port = s.getLocalPort();
        }
        List<String> command = new ArrayList<>(List.of("microsocks", "-i", "127.0.0.1", "-p", String.valueOf(port)));
        command.addAll(List.of(auth));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(dir.resolve("microsocks.log").toFile()).start();
        proxies.add(p);
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (true) {
            try {
                new java.net.Socket("127.0.0.1", port).close();
                return port;
            } catch (java.io.IOException notYet) {
                if (System.nanoTime() > deadline || !p.isAlive()) {
                    throw new AssertionError("microsocks did not start: " + Files.readString(dir.resolve("microsocks.log")));
                }
                Thread.sleep(50);
            }
        }
    }

    @Test
    void twoDevicesBehindASocks5ProxyWithCredentialsLinkOverTheRelay() throws Exception {
        if (!Files.isExecutable(Path.of("/usr/bin/microsocks"))) {
            if ("true".equals(System.getenv("CI"))) {
                throw new IllegalStateException("microsocks is missing (Debian package microsocks; .ci/run installs it)");
            }
            Assumptions.abort("microsocks is missing (apt-get install microsocks)");
        }
        ReferenceServer server = tlsServer();
        java.net.Proxy socks = new java.net.Proxy(java.net.Proxy.Type.SOCKS, new InetSocketAddress("127.0.0.1",
                microsocks("-u", "carol", "-P", "s0cks-pass")));
        Device a = device(server, b -> b.rendezvousPin(server.serverPin().toString()).rendezvousProxy(socks, "carol", "s0cks-pass".toCharArray()));
        Device b = device(server, d -> d.rendezvousPin(server.serverPin().toString()).rendezvousProxy(socks, "carol", "s0cks-pass".toCharArray()));
        for (Device d : List.of(a, b)) {
            d.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS);
            GatedUdpProvider.BLOCKED.add(d.localEndpoints().get(0).port());
        }
        linkOverTheRelayAndMove(server, a, b);

        Device wrong = device(server, d -> d.rendezvousPin(server.serverPin().toString()).rendezvousProxy(socks, "carol", "nope".toCharArray()));
        String message = assertThrows(ExecutionException.class,
                () -> wrong.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS)).getCause().getMessage();
        assertEquals("the SOCKS5 proxy 127.0.0.1:" + ((InetSocketAddress) socks.address()).getPort() + " rejected the credentials of "
                + "user 'carol': check the user name and password given for the proxy (socks5://user:password@host:port)", message);
        Device none = device(server, d -> d.rendezvousPin(server.serverPin().toString()).rendezvousProxy(socks, null, null));
        String noCredentials = assertThrows(ExecutionException.class,
                () -> none.rendezvous().registered().toCompletableFuture().get(15, TimeUnit.SECONDS)).getCause().getMessage();
        assertTrue(noCredentials.endsWith(" wants credentials: give them as socks5://user:password@host:port in --proxy or ALL_PROXY "
                + "(Device.Builder.rendezvousProxy(proxy, user, password))"), noCredentials);
    }

    private static ByteBuffer message(int i) {
        ByteBuffer m = ByteBuffer.allocate(1000);
        m.putInt(0, i);
        for (int k = 4; k < 1000; k++) {
            m.put(k, (byte) (i * 17 + k));
        }
        return m;
    }
}
