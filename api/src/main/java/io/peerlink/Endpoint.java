package io.peerlink;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Objects;

/**
 * Where a transport can deliver a datagram: a scheme naming the transport ({@code udp},
 * {@code relay}, {@code mqtt}, {@code socketio}, {@code coap}, ...), a host, a port and an
 * optional transport-specific path (an MQTT topic, a Socket.IO namespace). Printed and parsed as
 * a URI: {@code udp://192.0.2.10:40000}, {@code mqtt://broker:1883/peerlink/abc}.
 *
 * @param scheme lowercase transport scheme
 * @param host literal IP address or host name (IPv6 without brackets)
 * @param port 0..65535
 * @param path transport-specific path, {@code ""} when unused
 */
public record Endpoint(String scheme, String host, int port, String path) {

    /**
     * @throws NullPointerException if scheme, host or path is null
     * @throws IllegalArgumentException if the scheme is blank or not lowercase, or the port is out of range
     * @param scheme lowercase transport scheme
     * @param host literal IP address or host name (IPv6 without brackets)
     * @param port 0..65535
     * @param path transport-specific path, {@code ""} when unused
     */
    public Endpoint {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(path, "path");
        if (scheme.isEmpty() || !scheme.equals(scheme.toLowerCase(java.util.Locale.ROOT))) {
            throw new IllegalArgumentException("scheme must be non-empty lowercase: '" + scheme + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range: " + port);
        }
    }

    /**
     * @param address a resolved socket address
     * @return the {@code udp} endpoint of that address
     * @throws NullPointerException if address is null
     * @throws IllegalArgumentException if the address is unresolved
     */
    public static Endpoint udp(InetSocketAddress address) {
        return of("udp", address);
    }

    /**
     * @param scheme transport scheme
     * @param address a resolved socket address
     * @return the endpoint
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the address is unresolved
     */
    public static Endpoint of(String scheme, InetSocketAddress address) {
        Objects.requireNonNull(address, "address");
        if (address.isUnresolved()) {
            throw new IllegalArgumentException("address is unresolved: " + address);
        }
        return new Endpoint(scheme, address.getAddress().getHostAddress(), address.getPort(), "");
    }

    /**
     * Parses the URI form printed by {@link #toString()}.
     *
     * @param text e.g. {@code udp://192.0.2.10:40000}
     * @return the endpoint
     * @throws NullPointerException if text is null
     * @throws IllegalArgumentException if it is not an endpoint URI with a scheme, host and port
     */
    public static Endpoint parse(String text) {
        Objects.requireNonNull(text, "text");
        URI uri;
        try {
            uri = new URI(text.trim());
        } catch (URISyntaxException e) {
            throw new IllegalArgumentException("not an endpoint URI: '" + text + "': " + e.getMessage(), e);
        }
        if (uri.getScheme() == null || uri.getHost() == null || uri.getPort() < 0) {
            throw new IllegalArgumentException("endpoint needs scheme://host:port, got '" + text + "'");
        }
        String host = uri.getHost();
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        return new Endpoint(uri.getScheme().toLowerCase(java.util.Locale.ROOT), host, uri.getPort(),
                uri.getRawPath() == null ? "" : uri.getRawPath());
    }

    /**
     * @return the socket address of host and port; the host is resolved if it is a name
     * @throws IllegalArgumentException if the host cannot be resolved
     */
    public InetSocketAddress toSocketAddress() {
        try {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        } catch (java.net.UnknownHostException e) {
            throw new IllegalArgumentException("cannot resolve host of " + this, e);
        }
    }

    @Override
    public String toString() {
        String h = host.indexOf(':') >= 0 ? "[" + host + "]" : host;
        return scheme + "://" + h + ":" + port + path;
    }
}
