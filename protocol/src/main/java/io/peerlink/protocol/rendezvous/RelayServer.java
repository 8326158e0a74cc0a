package io.peerlink.protocol.rendezvous;

import jakarta.json.bind.annotation.JsonbPropertyOrder;

import java.net.URI;
import java.util.Locale;

/**
 * A TURN server a device may allocate on for one link, with credentials minted for that link
 * (TURN REST API: {@code username = <expiry>:<id>}, {@code credential = base64(HMAC-SHA1(secret,
 * username))}), as carried in {@code introduce.relays} (docs/protocol-rendezvous.md).
 *
 * @param uri a TURN URI (RFC 7065): {@code turn:<ip>:<port>?transport=udp|tcp} or
 *        {@code turns:<ip>:<port>?transport=tcp}
 * @param username the REST username (at most {@link RendezvousCodec#MAX_TEXT} characters)
 * @param credential the password (at most {@link RendezvousCodec#MAX_TEXT} characters)
 */
@JsonbPropertyOrder({"uri", "username", "credential"})
public record RelayServer(String uri, String username, String credential) {

    /** How the client reaches the TURN server. */
    public enum Leg { UDP, TCP, TLS }

    /** @throws FieldException if a field is missing, too long, or the URI is not a TURN URI with an IP literal */
    public RelayServer {
        Check.text(uri, "relays.uri");
        Check.text(username, "relays.username");
        Check.text(credential, "relays.credential");
        if (username.isEmpty()) {
            throw new FieldException("relays.username", "must not be empty");
        }
        parse(uri);
    }

    /** @return the leg the URI names */
    public Leg leg() {
        return parse(uri).leg;
    }

    /** @return the server's host (an IP literal, IPv6 without brackets) */
    public String host() {
        return parse(uri).host;
    }

    /** @return the server's port */
    public int port() {
        return parse(uri).port;
    }

    private record Parsed(Leg leg, String host, int port) {
    }

    private static Parsed parse(String uri) {
        int colon = uri.indexOf(':');
        String scheme = colon < 0 ? "" : uri.substring(0, colon).toLowerCase(Locale.ROOT);
        if (!scheme.equals("turn") && !scheme.equals("turns")) {
            throw new FieldException("relays.uri", "must be turn: or turns:, got '" + RendezvousCodec.clip(uri) + "'");
        }
        URI u;
        try {
            // RFC 7065 URIs are opaque (no "//"); parse the rest as an authority.
            u = new URI("x://" + uri.substring(colon + 1));
        } catch (java.net.URISyntaxException e) {
            throw new FieldException("relays.uri", "is not a URI: " + RendezvousCodec.clip(uri));
        }
        String host = u.getHost();
        if (host == null || u.getPort() < 1 || u.getPort() > 65535 || !(u.getPath() == null || u.getPath().isEmpty())) {
            throw new FieldException("relays.uri", "needs <ip>:<port>: " + RendezvousCodec.clip(uri));
        }
        if (host.startsWith("[")) {
            host = host.substring(1, host.length() - 1);
        }
        boolean ipLiteral = host.indexOf(':') >= 0 || host.chars().allMatch(c -> c == '.' || (c >= '0' && c <= '9'));
        if (!ipLiteral) {
            throw new FieldException("relays.uri", "the host must be an IP literal: " + RendezvousCodec.clip(uri));
        }
        String query = u.getQuery() == null ? "" : u.getQuery();
        String transport = "udp";
        for (String kv : query.split("&")) {
            if (kv.startsWith("transport=")) {
                transport = kv.substring("transport=".length()).toLowerCase(Locale.ROOT);
            }
        }
        Leg leg;
        if (scheme.equals("turns")) {
            if (!transport.equals("tcp")) {
                throw new FieldException("relays.uri", "turns: needs transport=tcp: " + RendezvousCodec.clip(uri));
            }
            leg = Leg.TLS;
        } else if (transport.equals("udp")) {
            leg = Leg.UDP;
        } else if (transport.equals("tcp")) {
            leg = Leg.TCP;
        } else {
            throw new FieldException("relays.uri", "transport must be udp or tcp: " + RendezvousCodec.clip(uri));
        }
        return new Parsed(leg, host, u.getPort());
    }

    @Override
    public String toString() {
        return "RelayServer[" + uri + " user=" + username + " credential=***]";
    }
}
