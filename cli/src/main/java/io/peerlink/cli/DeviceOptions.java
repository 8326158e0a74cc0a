package io.peerlink.cli;

import io.peerlink.Device;
import io.peerlink.PeerLinks;
import picocli.CommandLine.Option;

import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;

/** Options every device command shares. */
final class DeviceOptions {
    @Option(names = {"-k", "--key"}, description = "Ed25519 key file; created (mode 600) if missing. Default: ${DEFAULT-VALUE}",
            defaultValue = "device.key")
    Path key;

    @Option(names = {"-s", "--server"}, description = "Rendezvous control URI, e.g. ws://192.0.2.1:8080/peerlink/v1")
    URI server;

    @Option(names = "--pin", description = "wss:// only: the server key pin (sha256/...) that 'peerlink server' prints")
    String pin;

    @Option(names = "--proxy", description = "Proxy the rendezvous WebSocket (and the WebSocket relay) tunnels through, for "
            + "ws:// and wss://: HTTP CONNECT with host:port or http://[user:password@]host:port (Basic credentials), or SOCKS5 "
            + "with socks5://[user:password@]host:port; 'none' for no proxy. Default: $HTTPS_PROXY for wss://, $HTTP_PROXY for "
            + "ws://, then $ALL_PROXY (or lower case), unless $NO_PROXY names the server host")
    String proxy;

    @Option(names = "--rendezvous-ca", paramLabel = "<ca.pem>", description = "wss:// only: also trust the CA certificates "
            + "in this PEM file for the rendezvous, e.g. a TLS-inspecting proxy's (link payloads stay sealed end to end)")
    Path rendezvousCa;

    @Option(names = "--stun", description = "STUN server host:port (default: the rendezvous host, port 3478)")
    String stun;

    @Option(names = {"-b", "--bind"}, description = "UDP bind address host:port. Default: ${DEFAULT-VALUE}", defaultValue = "0.0.0.0:0")
    String bind;

    @Option(names = "--opener-ttl", description = "TTL of hole-punch openers; 0 = derive from hops to STUN (default)", defaultValue = "0")
    int openerTtl;

    @Option(names = "--no-host-candidates", description = "Do not publish private (LAN) addresses; public paths only")
    boolean noHostCandidates;

    @Option(names = "--linger", description = "Keep the link open this many ms after the command's work, so better paths "
            + "racing in the background can take over (printed as path-changed). Default: ${DEFAULT-VALUE}", defaultValue = "0")
    long lingerMillis;

    @Option(names = "--until-direct", description = "End --linger early, 1 s after the link runs on a direct path "
            + "(nothing better can take over; the second lets the peer follow the move)")
    boolean untilDirect;

    @Option(names = "--timeout", description = "Connect timeout in seconds. Default: ${DEFAULT-VALUE}", defaultValue = "10")
    int timeoutSeconds;

    Device build() {
        Device.Builder b = PeerLinks.device().identity(key).udp(parse(bind, 0))
                .connectTimeout(Duration.ofSeconds(timeoutSeconds)).openerTtl(openerTtl).hostCandidates(!noHostCandidates);
        if (server != null) {
            b.rendezvous(server);
        }
        if (pin != null) {
            b.rendezvousPin(pin);
        }
        if (rendezvousCa != null) {
            b.rendezvousCa(rendezvousCa);
        }
        if (server != null) {
            ProxyChoice p = proxyFor(server, proxy, System.getenv());
            if (p != null && (p.user() != null || p.socks())) {
                b.rendezvousProxy(new java.net.Proxy(p.socks() ? java.net.Proxy.Type.SOCKS : java.net.Proxy.Type.HTTP, p.address()),
                        p.user(), p.password());
            } else {
                b.rendezvousProxy(p == null ? null : p.address());
            }
        }
        if (stun != null) {
            b.stunServer(parse(stun, 3478));
        }
        return b.build();
    }

    /**
     * The HTTP proxy for the rendezvous: the {@code --proxy} value, else the environment's
     * {@code HTTPS_PROXY} (wss://) or {@code HTTP_PROXY} (ws://), upper or lower case, unless
     * {@code NO_PROXY} lists the server's host (exact, or a domain suffix with or without the
     * leading dot; {@code *} for all). Only ws/wss URIs go through a proxy.
     *
     * @return the proxy, or null for a direct connection
     * @throws IllegalArgumentException with a one-line message if a value is not host:port or
     *         http://[user:password@]host:port; the message never holds the password
     */
    static ProxyChoice proxyFor(URI server, String flag, java.util.Map<String, String> env) {
        String scheme = server.getScheme() == null ? "" : server.getScheme().toLowerCase(java.util.Locale.ROOT);
        if (!scheme.equals("ws") && !scheme.equals("wss")) {
            if (flag != null && !flag.equalsIgnoreCase("none")) {
                throw new IllegalArgumentException("--proxy applies to ws:// and wss:// rendezvous URIs only, not " + server);
            }
            return null;
        }
        String source = "--proxy";
        String value = flag;
        if (value == null) {
            String name = scheme.equals("wss") ? "HTTPS_PROXY" : "HTTP_PROXY";
            for (String n : new String[] {name, name.toLowerCase(java.util.Locale.ROOT), "ALL_PROXY", "all_proxy"}) {
                String v = env.get(n);
                if (v != null && !v.isBlank()) {
                    source = "$" + n;
                    value = v.trim();
                    break;
                }
            }
            if (value == null || noProxy(server.getHost(), env)) {
                return null;
            }
        }
        if (value.equalsIgnoreCase("none")) {
            return null;
        }
        String hostPort = value;
        value = redacted(value);
        boolean socks = false;
        if (hostPort.regionMatches(true, 0, "http://", 0, 7)) {
            hostPort = hostPort.substring(7);
        } else if (hostPort.regionMatches(true, 0, "socks5://", 0, 9) || hostPort.regionMatches(true, 0, "socks5h://", 0, 10)) {
            // socks5h (names resolved by the proxy) is what PeerLink does for either: it sends the server's host as given.
            hostPort = hostPort.substring(hostPort.indexOf("://") + 3);
            socks = true;
        } else if (hostPort.contains("://")) {
            throw new IllegalArgumentException(source + "=" + value + ": only an HTTP proxy (http://host:port or host:port) or a "
                    + "SOCKS5 proxy (socks5://host:port) is supported");
        }
        if (hostPort.endsWith("/")) {
            hostPort = hostPort.substring(0, hostPort.length() - 1);
        }
        String shown = value;
        String user = null;
        char[] password = null;
        int at = hostPort.lastIndexOf('@');
        if (at >= 0) {
            String userInfo = hostPort.substring(0, at);
            hostPort = hostPort.substring(at + 1);
            int colon = userInfo.indexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException(source + "=" + shown + ": proxy credentials must be user:password@ (both given)");
            }
            try {
                user = java.net.URLDecoder.decode(userInfo.substring(0, colon).replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
                password = java.net.URLDecoder.decode(userInfo.substring(colon + 1).replace("+", "%2B"),
                        java.nio.charset.StandardCharsets.UTF_8).toCharArray();
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException(source + "=" + shown + ": bad %-escape in the proxy credentials");
            }
            if (user.indexOf(':') >= 0) {
                throw new IllegalArgumentException(source + "=" + shown + ": the proxy user name cannot contain ':'");
            }
        }
        value = shown;
        int colon = hostPort.lastIndexOf(':');
        if (colon <= 0 || hostPort.endsWith("]")) {
            throw new IllegalArgumentException(source + "=" + value + ": expected host:port");
        }
        int port;
        try {
            port = Integer.parseInt(hostPort.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(source + "=" + value + ": the port is not a number");
        }
        if (port < 1 || port > 65535) {
            throw new IllegalArgumentException(source + "=" + value + ": the port must be 1..65535");
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        InetSocketAddress address = new InetSocketAddress(host, port);
        if (address.isUnresolved()) {
            throw new IllegalArgumentException(source + "=" + value + ": cannot resolve the proxy host " + host);
        }
        return new ProxyChoice(address, socks, user, password);
    }

    /**
     * A proxy and its optional credentials.
     *
     * @param address the proxy
     * @param socks true for a SOCKS5 proxy, false for an HTTP proxy
     * @param user the user name, or null
     * @param password the password, or null; not in {@link #toString()}
     */
    record ProxyChoice(InetSocketAddress address, boolean socks, String user, char[] password) {
        @Override
        public String toString() {
            return "ProxyChoice[" + (socks ? "socks5://" : "http://") + (user == null ? "" : user + ":***@") + address + "]";
        }
    }

    /** The proxy value with a password replaced by {@code ***}, for messages. */
    static String redacted(String value) {
        return value.replaceFirst("^([A-Za-z][A-Za-z0-9+.-]*://)?([^/@:]*):[^@/]*@", "$1$2:***@");
    }

    private static boolean noProxy(String host, java.util.Map<String, String> env) {
        String list = env.get("NO_PROXY") != null ? env.get("NO_PROXY") : env.get("no_proxy");
        if (list == null || host == null) {
            return false;
        }
        String h = host.toLowerCase(java.util.Locale.ROOT);
        for (String entry : list.split(",")) {
            String e = entry.trim().toLowerCase(java.util.Locale.ROOT);
            if (e.isEmpty()) {
                continue;
            }
            if (e.equals("*")) {
                return true;
            }
            String domain = e.startsWith(".") ? e.substring(1) : e;
            if (h.equals(domain) || h.endsWith("." + domain)) {
                return true;
            }
        }
        return false;
    }

    static InetSocketAddress parse(String hostPort, int defaultPort) {
        int colon = hostPort.lastIndexOf(':');
        if (colon < 0) {
            return new InetSocketAddress(hostPort, defaultPort);
        }
        String host = hostPort.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new InetSocketAddress(host.isEmpty() ? "0.0.0.0" : host, Integer.parseInt(hostPort.substring(colon + 1)));
    }
}
