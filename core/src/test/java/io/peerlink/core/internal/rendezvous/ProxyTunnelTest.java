package io.peerlink.core.internal.rendezvous;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The loopback tunnel forwards only what the rendezvous client asks for: a {@code CONNECT} to its
 * one target carrying its token. Anything else is refused before the real proxy is contacted, so
 * another local process cannot borrow the credentials. The upstream here is a minimal HTTP proxy
 * on a real socket that answers {@code 200} and then echoes.
 */
class ProxyTunnelTest {
    private static final String TARGET = "198.51.100.1:8443";

    @Test
    void onlyTheTokenHoldersConnectToTheOneTargetIsForwardedWithBasicCredentials() throws Exception {
        try (ServerSocket upstream = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
            AtomicInteger accepted = new AtomicInteger();
            CompletableFuture<String> head = new CompletableFuture<>();
            Thread proxy = new Thread(() -> {
                try (Socket s = upstream.accept()) {
                    accepted.incrementAndGet();
                    head.complete(readHead(s.getInputStream()));
                    s.getOutputStream().write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                    s.getInputStream().transferTo(s.getOutputStream()); // echo
                } catch (IOException e) {
                    head.completeExceptionally(e);
                }
            });
            proxy.setDaemon(true);
            proxy.start();
            try (ProxyTunnel tunnel = new ProxyTunnel(new InetSocketAddress(InetAddress.getLoopbackAddress(), upstream.getLocalPort()),
                    false, "bob", "pa:ss".toCharArray(), TARGET)) {
                assertTrue(tunnel.address().getAddress().isLoopbackAddress(), "listens on loopback only");
                assertEquals("HTTP/1.1 403 Forbidden", exchange(tunnel, "CONNECT " + TARGET + " HTTP/1.1\r\n\r\n"), "no token");
                assertEquals("HTTP/1.1 403 Forbidden", exchange(tunnel, "CONNECT " + TARGET + " HTTP/1.1\r\n" + ProxyTunnel.TOKEN_HEADER
                        + ": " + "0".repeat(32) + "\r\n\r\n"), "wrong token");
                assertEquals("HTTP/1.1 403 Forbidden", exchange(tunnel, "CONNECT 203.0.113.9:22 HTTP/1.1\r\n" + ProxyTunnel.TOKEN_HEADER
                        + ": " + tunnel.token() + "\r\n\r\n"), "another target");
                assertEquals(0, accepted.get(), "the real proxy was contacted for a refused request");

                try (Socket s = new Socket(tunnel.address().getAddress(), tunnel.address().getPort())) {
                    s.setSoTimeout(5000);
                    s.getOutputStream().write(("CONNECT " + TARGET + " HTTP/1.1\r\nHost: " + TARGET + "\r\n" + ProxyTunnel.TOKEN_HEADER
                            + ": " + tunnel.token() + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                    assertTrue(readHead(s.getInputStream()).startsWith("HTTP/1.1 200"), "tunnel opened");
                    String sent = head.get(5, TimeUnit.SECONDS);
                    String basic = Base64.getEncoder().encodeToString("bob:pa:ss".getBytes(StandardCharsets.UTF_8));
                    assertTrue(sent.startsWith("CONNECT " + TARGET + " HTTP/1.1\r\n"), sent);
                    assertTrue(sent.contains("\r\nProxy-Authorization: Basic " + basic + "\r\n"), sent);
                    assertTrue(!sent.contains(tunnel.token()), "the token went to the real proxy: " + sent);
                    byte[] data = "bytes through the tunnel".getBytes(StandardCharsets.US_ASCII);
                    s.getOutputStream().write(data);
                    assertEquals(new String(data, StandardCharsets.US_ASCII),
                            new String(s.getInputStream().readNBytes(data.length), StandardCharsets.US_ASCII));
                }
                assertNull(tunnel.lastFailure());
            }
        }
    }

    private static String exchange(ProxyTunnel tunnel, String request) throws IOException {
        try (Socket s = new Socket(tunnel.address().getAddress(), tunnel.address().getPort())) {
            s.setSoTimeout(5000);
            s.getOutputStream().write(request.getBytes(StandardCharsets.US_ASCII));
            return readHead(s.getInputStream()).split("\r\n")[0];
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        while (!out.toString(StandardCharsets.ISO_8859_1).endsWith("\r\n\r\n")) {
            int b = in.read();
            if (b < 0) {
                break;
            }
            out.write(b);
        }
        return out.toString(StandardCharsets.ISO_8859_1);
    }
}
