package io.peerlink.transport.udp;

import java.net.InetAddress;
import java.net.UnknownHostException;

/**
 * Parses IP literals without ever touching DNS: {@code send} must not block, and an endpoint
 * carrying a host name is simply not supported by this transport.
 */
final class IpLiteral {

    private IpLiteral() {
    }

    /**
     * @param host text from an {@link io.peerlink.Endpoint}
     * @return the address, or null if {@code host} is not an IPv4 or IPv6 literal
     */
    static InetAddress parse(String host) {
        if (host.indexOf(':') >= 0) {
            if (!looksLikeIpv6(host)) {
                return null;
            }
            // Text that starts with a hex digit or ':' and contains ':' is parsed by InetAddress
            // as an IPv6 literal and never resolved; anything else could reach DNS.
            try {
                return InetAddress.getByName(host);
            } catch (UnknownHostException | RuntimeException e) {
                return null;
            }
        }
        byte[] octets = parseIpv4(host);
        if (octets == null) {
            return null;
        }
        try {
            return InetAddress.getByAddress(octets);
        } catch (UnknownHostException e) {
            return null; // cannot happen for 4 bytes
        }
    }

    /** Hex digits, ':' and '.' (IPv4-mapped tail), then an optional %scope; no brackets. */
    private static boolean looksLikeIpv6(String host) {
        int scope = host.indexOf('%');
        int end = scope >= 0 ? scope : host.length();
        if (end == 0 || (scope >= 0 && scope == host.length() - 1)) {
            return false;
        }
        for (int i = 0; i < end; i++) {
            char c = host.charAt(i);
            if (c != ':' && c != '.' && Character.digit(c, 16) < 0) {
                return false;
            }
        }
        return true;
    }

    /** Strict dotted quad: four decimal parts 0..255, no leading '+', no empty parts. */
    private static byte[] parseIpv4(String host) {
        byte[] out = new byte[4];
        int part = 0;
        int value = 0;
        int digits = 0;
        for (int i = 0; i <= host.length(); i++) {
            char c = i < host.length() ? host.charAt(i) : '.';
            if (c == '.') {
                if (digits == 0 || part == 4) {
                    return null;
                }
                out[part++] = (byte) value;
                value = 0;
                digits = 0;
            } else if (c >= '0' && c <= '9') {
                value = value * 10 + (c - '0');
                if (++digits > 3 || value > 255) {
                    return null;
                }
            } else {
                return null;
            }
        }
        return part == 4 ? out : null;
    }
}
