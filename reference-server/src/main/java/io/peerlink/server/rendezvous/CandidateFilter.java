package io.peerlink.server.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * What the server passes on of a device's candidates (docs/security.md, "Candidates"): only
 * literal IP addresses, never unspecified, multicast, broadcast or port 0; no duplicates; at
 * most {@link #MAX_KEPT}; a server-reflexive candidate only at the address the device's control
 * connection comes from. Loopback candidates are kept only from a device whose control
 * connection is itself on loopback (devices and server on one machine): anyone else's loopback
 * candidate would point a peer at its own host. Without these rules an admitted device could
 * make every peer it is introduced to probe a victim of its choice.
 */
final class CandidateFilter {
    /** Most candidates passed on per device. */
    static final int MAX_KEPT = 8;

    private CandidateFilter() {
    }

    /**
     * @param candidates what the device sent (already syntactically valid)
     * @param controlSource the source address of the device's control connection
     * @return the candidates a peer may be told, in the device's order
     */
    static List<Candidate> filter(List<Candidate> candidates, InetSocketAddress controlSource) {
        InetAddress source = controlSource == null ? null : controlSource.getAddress();
        boolean localDevice = source != null && source.isLoopbackAddress();
        List<Candidate> kept = new ArrayList<>(Math.min(candidates.size(), MAX_KEPT));
        Set<String> seen = new HashSet<>();
        for (Candidate c : candidates) {
            if (kept.size() == MAX_KEPT) {
                break;
            }
            InetAddress a = literal(c.endpoint().host());
            if (a == null || c.endpoint().port() == 0 || a.isAnyLocalAddress() || a.isMulticastAddress() || isBroadcast(a)
                    || (a.isLoopbackAddress() && !localDevice)) {
                continue;
            }
            if (c.type() == CandidateType.SERVER_REFLEXIVE && !a.equals(source)) {
                continue;
            }
            if (seen.add(c.endpoint().scheme() + "|" + a.getHostAddress() + "|" + c.endpoint().port())) {
                kept.add(c);
            }
        }
        return List.copyOf(kept);
    }

    private static boolean isBroadcast(InetAddress a) {
        byte[] b = a.getAddress();
        return b.length == 4 && (b[0] & b[1] & b[2] & b[3]) == (byte) 0xff;
    }

    /** Parses an IP literal without ever resolving a name (a host name gives null: the server does no DNS for devices). */
    static InetAddress literal(String host) {
        boolean ipv4 = !host.isEmpty() && host.chars().allMatch(ch -> (ch >= '0' && ch <= '9') || ch == '.');
        boolean ipv6 = host.indexOf(':') >= 0 && host.chars().allMatch(ch -> Character.digit(ch, 16) >= 0 || ch == ':' || ch == '.');
        if (!ipv4 && !ipv6) {
            return null;
        }
        try {
            return InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            return null;
        }
    }
}
