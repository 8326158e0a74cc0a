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
 * What the JDK's HTTP client cannot do for the rendezvous WebSocket: Basic authentication on a
 * {@code CONNECT} tunnel (the JDK will not send it: {@code jdk.http.auth.tunneling.disabledSchemes=Basic}
 * is its process-wide default, and a library must not change it), and SOCKS5 proxies (it supports
 * none). A loopback listener the client uses as its HTTP proxy: for each connection it reads the
 * client's {@code CONNECT}, checks the per-instance token the client sends in
 * {@link #TOKEN_HEADER} (so no other local process can borrow the proxy or its credentials) and
 * the target (only the one it was made for), opens the tunnel at the real proxy — an HTTP
 * {@code CONNECT} with {@code Proxy-Authorization: Basic ...}, or a SOCKS5 {@code CONNECT} (RFC
 * 1928) with user name and password (RFC 1929) if given — answers the client, and then copies
 * bytes both ways. TLS stays end to end between the client and the server: this class only ever
 * sees the tunnel's bytes.
 *
 * <p>Threads: one daemon acceptor, two daemon copiers per open tunnel (the rendezvous keeps one
 * tunnel open). The password is never logged or put in a message.
 */
final class ProxyTunnel implements Closeable {
    /** The request header carrying the token; a {@code Proxy-} header goes to the proxy only. */
    static final String TOKEN_HEADER = "Proxy-PeerLink-Token";
    private static final int MAX_HEAD = 16 * 1024;
    private static final int CONNECT_TIMEOUT_MS = 10_000;

    private final InetSocketAddress upstream;
    private final boolean socks;
    private final String user;
    /** HTTP: the Proxy-Authorization value, or null; SOCKS5: unused. */
    private final String authorization;
    /** SOCKS5: the RFC 1929 request, or null. */
    private final byte[] socksAuth;
    private final String target;
    private final String token;
    private final ServerSocket listener;
    private final String proxyName;
    /** Why the last tunnel failed at the proxy, one line, or null. */
    private volatile String lastFailure;

    /**
     * @param upstream the real proxy
     * @param socks true for a SOCKS5 proxy, false for an HTTP proxy
     * @param user the user name, or null for none
     * @param password the password (not kept as given), or null for none
     * @param target the only {@code host:port} tunnels may go to
     * @throws IOException if no loopback port can be bound
     */
    ProxyTunnel(InetSocketAddress upstream, boolean socks, String user, char[] password, String target) throws IOException {
        this.upstream = Objects.requireNonNull(upstream, "upstream");
        this.socks = socks;
        this.user = user;
        this.target = Objects.requireNonNull(target, "target");
        if (user != null) {
            byte[] u = user.getBytes(StandardCharsets.UTF_8);
            byte[] pw = new String(Objects.requireNonNull(password, "password")).getBytes(StandardCharsets.UTF_8);
            if (socks) {
                if (u.length > 255 || pw.length > 255) {
                    throw new IllegalArgumentException("SOCKS5 user names and passwords are at most 255 bytes");
                }
                socksAuth = new byte[3 + u.length + pw.length];
                socksAuth[0] = 1;
                socksAuth[1] = (byte) u.length;
                System.arraycopy(u, 0, socksAuth, 2, u.length);
                socksAuth[2 + u.length] = (byte) pw.length;
                System.arraycopy(pw, 0, socksAuth, 3 + u.length, pw.length);
                authorization = null;
            } else {
                byte[] raw = (user + ":" + new String(password)).getBytes(StandardCharsets.UTF_8);
                authorization = "Basic " + Base64.getEncoder().encodeToString(raw);
                Arrays.fill(raw, (byte) 0);
                socksAuth = null;
            }
            Arrays.fill(pw, (byte) 0);
        } else {
            authorization = null;
            socksAuth = null;
        }
        byte[] t = new byte[16];
        new SecureRandom().nextBytes(t);
        this.token = HexFormat.of().formatHex(t);
        this.proxyName = (socks ? "the SOCKS5 proxy " : "the HTTP proxy ") + upstream.getHostString() + ":" + upstream.getPort();
        this.listener = new ServerSocket(0, 8, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::acceptLoop, "peerlink-proxy-tunnel-" + listener.getLocalPort());
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
            Thread t = new Thread(() -> serve(client), "peerlink-proxy-tunnel");
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
            String failure = socks ? socksConnect(fromProxy, toProxy) : httpConnect(fromProxy, toProxy, forward, toClient);
            if (failure != null) {
                fail(client, failure);
                proxy.close();
                return;
            }
            if (socks) {
                toClient.write("HTTP/1.1 200 Connection established\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
                toClient.flush();
            }
            client.setSoTimeout(0);
            proxy.setSoTimeout(0);
            Socket p = proxy;
            Thread up = new Thread(() -> copy(fromClient, toProxy, client, p), "peerlink-proxy-tunnel-up");
            up.setDaemon(true);
            up.start();
            copy(fromProxy, toClient, client, p);
        } catch (IOException e) {
            closeQuietly(client);
            closeQuietly(proxy);
        }
    }

    /**
     * Asks the HTTP proxy for the tunnel; on success hands its answer to the client.
     *
     * @return null on success, else the one-line failure
     */
    private String httpConnect(InputStream fromProxy, OutputStream toProxy, CharSequence forward, OutputStream toClient)
            throws IOException {
        toProxy.write(("CONNECT " + target + " HTTP/1.1\r\nHost: " + target + "\r\n"
                + (authorization == null ? "" : "Proxy-Authorization: " + authorization + "\r\n") + forward + "\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        toProxy.flush();
        String answer = readHead(fromProxy);
        if (answer == null) {
            return proxyName + " closed the connection while tunnelling to " + target;
        }
        String status = answer.split("\r\n", 2)[0];
        String[] parts = status.split(" ", 3);
        int code = parts.length >= 2 && parts[1].matches("\\d{3}") ? Integer.parseInt(parts[1]) : -1;
        if ((code == 407 || code == 401) && user != null) { // tinyproxy answers wrong credentials with 401
            return proxyName + " rejected the credentials of user '" + user + "' (HTTP " + code + " to CONNECT): check the user "
                    + "name and password given for the proxy (http://user:password@host:port)";
        }
        if (code == 407) {
            return proxyName + " wants credentials (HTTP 407): give them as http://user:password@host:port in --proxy or "
                    + "HTTPS_PROXY/HTTP_PROXY (Device.Builder.rendezvousProxy(proxy, user, password))";
        }
        if (code < 200 || code > 299) {
            return proxyName + " refused to tunnel to " + target + " (HTTP " + (code < 0 ? status : code) + " to CONNECT)";
        }
        toClient.write(answer.getBytes(StandardCharsets.ISO_8859_1));
        toClient.flush();
        return null;
    }

    /**
     * Opens the tunnel at the SOCKS5 proxy (RFC 1928; RFC 1929 user name and password if given).
     *
     * @return null on success, else the one-line failure
     */
    private String socksConnect(InputStream in, OutputStream out) throws IOException {
        out.write(socksAuth == null ? new byte[] {5, 1, 0} : new byte[] {5, 2, 0, 2});
        out.flush();
        byte[] choice = readFully(in, 2);
        if (choice == null || choice[0] != 5) {
            return proxyName + " is not a SOCKS5 proxy (bad answer to the greeting)";
        }
        if ((choice[1] & 0xff) == 0xff) {
            return socksAuth == null
                    ? proxyName + " wants credentials: give them as socks5://user:password@host:port in --proxy or ALL_PROXY "
                            + "(Device.Builder.rendezvousProxy(proxy, user, password))"
                    : proxyName + " accepts neither no authentication nor a user name and password";
        }
        if (choice[1] == 2) {
            if (socksAuth == null) {
                return proxyName + " wants credentials: give them as socks5://user:password@host:port in --proxy or ALL_PROXY";
            }
            out.write(socksAuth);
            out.flush();
            byte[] status = readFully(in, 2);
            if (status == null || status[1] != 0) {
                return proxyName + " rejected the credentials of user '" + user + "': check the user name and password given for "
                        + "the proxy (socks5://user:password@host:port)";
            }
        } else if (choice[1] != 0) {
            return proxyName + " chose an authentication method PeerLink does not speak (" + (choice[1] & 0xff) + ")";
        }
        int colon = target.lastIndexOf(':');
        String host = target.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        int port = Integer.parseInt(target.substring(colon + 1));
        ByteArrayOutputStream request = new ByteArrayOutputStream();
        request.write(new byte[] {5, 1, 0});
        byte[] literal = ipLiteral(host);
        if (literal != null) {
            request.write(literal.length == 4 ? 1 : 4);
            request.write(literal);
        } else {
            byte[] name = host.getBytes(StandardCharsets.US_ASCII);
            request.write(3);
            request.write(name.length);
            request.write(name);
        }
        request.write(port >> 8);
        request.write(port & 0xff);
        out.write(request.toByteArray());
        out.flush();
        byte[] reply = readFully(in, 4);
        if (reply == null || reply[0] != 5) {
            return proxyName + " closed the connection while connecting to " + target;
        }
        if (reply[1] != 0) {
            return proxyName + " refused to connect to " + target + " (SOCKS5 reply " + (reply[1] & 0xff) + ": " + socksReply(reply[1])
                    + ")";
        }
        int skip = switch (reply[3]) {
            case 1 -> 4 + 2;
            case 4 -> 16 + 2;
            case 3 -> {
                byte[] len = readFully(in, 1);
                yield len == null ? 0 : (len[0] & 0xff) + 2;
            }
            default -> -1;
        };
        if (skip < 0 || readFully(in, skip) == null) {
            return proxyName + " sent a malformed SOCKS5 reply";
        }
        return null;
    }

    private static byte[] ipLiteral(String host) {
        if (host.matches("\\d{1,3}(\\.\\d{1,3}){3}") || host.contains(":")) {
            try {
                return InetAddress.getByName(host).getAddress(); // a literal: no name lookup
            } catch (IOException e) {
                return null;
            }
        }
        return null;
    }

    private static String socksReply(byte code) {
        return switch (code) {
            case 1 -> "general failure";
            case 2 -> "not allowed by its rules";
            case 3 -> "network unreachable";
            case 4 -> "host unreachable";
            case 5 -> "connection refused";
            case 6 -> "TTL expired";
            case 7 -> "command not supported";
            case 8 -> "address type not supported";
            default -> "unknown";
        };
    }

    private static byte[] readFully(InputStream in, int n) throws IOException {
        byte[] b = in.readNBytes(n);
        return b.length == n ? b : null;
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
