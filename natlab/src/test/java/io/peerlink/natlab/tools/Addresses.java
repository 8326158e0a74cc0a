package io.peerlink.natlab.tools;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/** {@code ip:port} text for IPv4 socket addresses, as the lab tools print and parse them. */
public final class Addresses {
    private Addresses() {
    }

    /** Formats as {@code 203.0.113.2:4000}. */
    public static String format(InetSocketAddress address) {
        return address.getAddress().getHostAddress() + ":" + address.getPort();
    }

    /**
     * Parses {@code a.b.c.d:port} without any name lookup.
     *
     * @throws IllegalArgumentException if it is not an IPv4 literal with a port in 0..65535
     */
    public static InetSocketAddress parse(String text) {
        int colon = text.lastIndexOf(':');
        if (colon <= 0 || !text.substring(0, colon).matches("\\d{1,3}(\\.\\d{1,3}){3}")) {
            throw new IllegalArgumentException("expected ipv4:port, got '" + text + "'");
        }
        int port;
        try {
            port = Integer.parseInt(text.substring(colon + 1));
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("bad port in '" + text + "'");
        }
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port out of range in '" + text + "'");
        }
        try {
            // A literal never triggers DNS; getByName only validates the octets here.
            return new InetSocketAddress(InetAddress.getByName(text.substring(0, colon)), port);
        } catch (UnknownHostException e) {
            throw new IllegalArgumentException("bad address in '" + text + "'");
        }
    }
}
