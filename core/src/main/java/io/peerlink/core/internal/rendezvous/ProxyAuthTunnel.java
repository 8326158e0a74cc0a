package io.peerlink.core.internal.rendezvous;

import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * Basic proxy authentication for the JDK's HTTP client, which will not send it on a
 * {@code CONNECT} tunnel ({@code jdk.http.auth.tunneling.disabledSchemes=Basic} is the JDK's
 * process-wide default, and a library must not change it): a loopback listener the client uses
 * as its proxy. For each connection it reads the client's {@code CONNECT}, checks the per-instance
 * token the client sends in {@link #TOKEN_HEADER} (so no other local process can borrow the
 * credentials), sends the same {@code CONNECT} to the real proxy with
 * {@code Proxy-Authorization: Basic ...}, passes the proxy's answer back and then copies bytes
 * both ways. Only tunnels to the one target it was made for are forwarded. TLS stays end to end
 * between the client and the server: this class only ever sees the tunnel's bytes.
 *
 * <p>Threads: one daemon acceptor, two daemon copiers per open tunnel (the rendezvous keeps one
 * tunnel open). The password is kept only as the encoded header and never logged.
 */
final class ProxyAuthTunnel implements Closeable {
    /** The request header carrying the token; a {@code Proxy-} header goes to the proxy only. */
    static final String TOKEN_HEADER = "Proxy-PeerLink-Token";
    private static final int MAX_HEAD = 16 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 10_000;

    private final InetSocketAddress upstream;
    private final String user;
    private final String authorization;
    private final String target;
    private final String token;
    private final ServerSocket listener;
    private final String proxyName;
    /** Why the last tunnel failed at the proxy, one line, or null. */
    private volatile String lastFailure;

    /**
     * @param upstream the real proxy
     * @param user the user name
     * @param password the password (not kept)
     * @param target the only {@code host:port} tunnels may go to
     * @throws IOException if no loopback port can be bound
     */
    ProxyAuthTunnel(InetSocketAddress upstream, String user, char[] password, String target) throws IOException {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.user = Objects.requireNonNull(user, "user");
        this.target = Objects.requireNonNull(target, "target");
        byte[] raw = (user + ":" + new String(password)).getBytes(StandardCharsets.UTF_8);
        this.authorization = "Basic " + Base64.getEncoder().encodeToString(raw);
        Arrays.fill(raw, (byte) 0);
        byte[] t = new byte[16];
        new SecureRandom().nextBytes(t);
        this.token = HexFormat.of().formatHex(t);
        this.proxyName = "the HTTP proxy " + upstream.getHostString() + ":" + upstream.getPort();
        this.listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "peerlink-proxy-auth-" + listener.getLocalPort());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    /** The address the HTTP client uses as its proxy. */
    InetSocketAddress address() {
        return new InetSocketAddress(listener.getInetAddress(), listener.getLocalPort());
    }

    /** The value the client must send in {@link #TOKEN_HEADER}. */
    String token() {
        return token;
    }

    /** One line naming why the last tunnel failed at the proxy, or null; cleared by {@link #clearFailure()}. */
    String lastFailure() {
        return lastFailure;
    }

    void clearFailure() {
        lastFailure = null;
    }

    @Override
    public void close() {
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private void acceptLoop() {
        while (!listener.isClosed()) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return;
            }
            Thread t = new Thread(() -> serve(client), "peerlink-proxy-auth-tunnel");
            t.setDaemon(true);
            t.start();
        }
    }

    private void serve(Socket client) {
        Socket proxy = null;
        try {
            client.setSoTimeout(CONNECT_TIMEOUT_MS);
            InputStream fromClient = client.getInputStream();
            OutputStream toClient = client.getOutputStream();
            String head = readHead(fromClient);
            if (head == null) {
                client.close();
                return;
            }
            String[] lines = head.split("\r\n");
            String[] request = lines[0].split(" ");
            boolean tokenOk = false;
            StringBuilder forward = new StringBuilder();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon <= 0) {
                    continue;
                }
                String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
                String value = lines[i].substring(colon + 1).trim();
                if (name.equals(TOKEN_HEADER.toLowerCase(Locale.ROOT))) {
                    tokenOk = java.security.MessageDigest.isEqual(value.getBytes(StandardCharsets.US_ASCII),
                            token.getBytes(StandardCharsets.US_ASCII));
                } else if (!name.equals("proxy-authorization") && !name.equals("host")) {
                    forward.append(lines[i]).append("\r\n");
                }
            }
            if (request.length != 3 || !request[0].equals("CONNECT") || !request[1].equalsIgnoreCase(target) || !tokenOk) {
                toClient.write("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                client.close();
                return;
            }
            proxy = new Socket();
            try {
                proxy.connect(upstream, CONNECT_TIMEOUT_MS);
            } catch (SocketTimeoutException e) {
                fail(client, "no answer from " + proxyName + " within 10 s (proxy for " + target + ")");
                proxy.close();
                return;
            } catch (IOException e) {
                fail(client, "connection refused by " + proxyName + " (proxy for " + target + ")");
                proxy.close();
                return;
            }
            proxy.setSoTimeout(CONNECT_TIMEOUT_MS);
            OutputStream toProxy = proxy.getOutputStream();
            InputStream fromProxy = proxy.getInputStream();
            toProxy.write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\nProxy-Authorization: " + authorization + "\r\n"
                    + forward + "\r\n").getBytes(StandardCharsets.ISO_8859_1));
            toProxy.flush();
            String answer = readHead(fromProxy);
            if (answer == null) {
                fail(client, proxyName + " closed the connection while tunnelling to " + target);
                proxy.close();
                return;
            }
            String status = answer.split("\r\n", 2)[0];
            String[] parts = status.split(" ", 3);
            int code = parts.length >= 2 && parts[1].matches("\\d{3}") ? Integer.parseInt(parts[1]) : -1;
            if (code == 407 || code == 401) { // tinyproxy answers wrong credentials with 401
                lastFailure = proxyName + " rejected the credentials of user '" + user + "' (HTTP " + code + " to CONNECT): check the user "
                        + "name and password given for the proxy (http://user:password@host:port)";
            } else if (code < 200 || code > 299) {
                lastFailure = proxyName + " refused to tunnel to " + target + " (HTTP " + (code < 0 ? status : code) + " to CONNECT)";
            }
            toClient.write(answer.getBytes(StandardCharsets.ISO_8859_1));
            toClient.flush();
            if (code < 200 || code > 299) {
                proxy.close();
                client.close();
                return;
            }
            client.setSoTimeout(0);
            proxy.setSoTimeout(0);
            Socket p = proxy;
            Thread up = new Thread(() -> copy(fromClient, toProxy, client, p), "peerlink-proxy-auth-up");
            up.setDaemon(true);
            up.start();
            copy(fromProxy, toClient, client, p);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(proxy);
        }
    }

    private void fail(Socket client, String why) throws IOException {
        lastFailure = why;
        client.getOutputStream().write("HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                .getBytes(StandardCharsets.US_ASCII));
        client.close();
    }

    private static void copy(InputStream in, OutputStream out, Socket a, Socket b) {
        byte[] buffer = new byte[16 * 1024];
        try {
            int n;
            while ((n = in.read(buffer)) >= 0) {
                out.write(buffer, 0, n);
                out.flush();
            }
        } catch (IOException ignored) {
            // either side closed
        } finally {
            closeQuietly(a);
            closeQuietly(b);
        }
    }

    private static void closeQuietly(Socket s) {
        if (s != null) {
            try {
                s.close();
            } catch (IOException ignored) {
                // closing
            }
        }
    }

    /** Reads an HTTP head up to the blank line, byte by byte (nothing of the body is consumed); null at EOF first. */
    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int matched = 0;
        while (head.size() < MAX_HEAD) {
            int b = in.read();
            if (b < 0) {
                return null;
            }
            head.write(b);
            matched = (b == (matched % 2 == 0 ? '\r' : '\n')) ? matched + 1 : (b == '\r' ? 1 : 0);
            if (matched == 4) {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
        }
        throw new IOException("HTTP head longer than " + MAX_HEAD + " bytes");
    }
}
