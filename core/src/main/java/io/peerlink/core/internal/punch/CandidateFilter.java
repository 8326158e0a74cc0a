package io.peerlink.core.internal.punch;

import io.peerlink.Candidate;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Decides which of a peer's candidates this device may send probes to (docs/protocol-punching.md,
 * "Candidate filtering"). A candidate list comes from another device through the server, so it
 * is untrusted: without this filter an admitted device could point this one's probes at any
 * address, its own loopback services included. Dropped: endpoints the transport cannot reach,
 * port 0, unspecified ({@code 0.0.0.0}, {@code ::}) and "this network" ({@code 0/8}) addresses,
 * multicast, the limited broadcast address and the broadcast addresses of this host's subnets,
 * loopback (unless this device's own socket is bound to loopback, which can reach nothing else,
 * or {@link PunchOptions#loopbackCandidates()} allows it for tests), and duplicates. At most
 * {@link #MAX_CANDIDATES} remain, highest priority first.
 */
public final class CandidateFilter {

    /** Most candidates probed per peer. */
    public static final int MAX_CANDIDATES = 8;

    private static final long BROADCAST_CACHE_NANOS = 60_000_000_000L;
    private static volatile Set<InetAddress> localBroadcasts;
    private static volatile long localBroadcastsAt;

    private final Transport transport;
    private final boolean allowLoopback;

    /**
     * @param transport the transport probes leave on
     * @param allowLoopback whether loopback destinations are allowed
     */
    public CandidateFilter(Transport transport, boolean allowLoopback) {
        this.transport = transport;
        this.allowLoopback = allowLoopback;
    }

    /**
     * @param transport the transport probes leave on
     * @param options punch options ({@link PunchOptions#loopbackCandidates()})
     * @return a filter that allows loopback if the options do or the transport is bound to loopback
     */
    public static CandidateFilter forTransport(Transport transport, PunchOptions options) {
        boolean boundToLoopback;
        try {
            boundToLoopback = transport.localEndpoint().toSocketAddress().getAddress().isLoopbackAddress();
        } catch (IllegalStateException e) {
            boundToLoopback = false;
        }
        return new CandidateFilter(transport, options.loopbackCandidates() || boundToLoopback);
    }

    /**
     * @param candidates the peer's candidates as received
     * @return the ones to probe, highest priority first, without duplicates, at most {@value #MAX_CANDIDATES}
     */
    public List<Candidate> filter(List<Candidate> candidates) {
        List<Candidate> sorted = new ArrayList<>(candidates);
        sorted.sort(Comparator.comparingLong(Candidate::priority).reversed());
        Set<Endpoint> seen = new LinkedHashSet<>();
        List<Candidate> out = new ArrayList<>();
        for (Candidate c : sorted) {
            if (out.size() == MAX_CANDIDATES) {
                break;
            }
            if (rejection(c.endpoint()) == null && seen.add(c.endpoint())) {
                out.add(c);
            }
        }
        return out;
    }

    /**
     * @param endpoint a destination
     * @return why it must not be probed, or null if it may
     */
    public String rejection(Endpoint endpoint) {
        if (endpoint.port() <= 0 || endpoint.port() > 65535) {
            return "port " + endpoint.port();
        }
        if (!transport.supports(endpoint)) {
            return "not reachable by " + transport;
        }
        InetAddress a;
        try {
            a = endpoint.toSocketAddress().getAddress();
        } catch (RuntimeException e) {
            return "not an IP endpoint";
        }
        if (a == null) {
            return "unresolved";
        }
        if (a.isAnyLocalAddress()) {
            return "unspecified address";
        }
        if (a.isMulticastAddress()) {
            return "multicast address";
        }
        if (a.isLoopbackAddress() && !allowLoopback) {
            return "loopback address";
        }
        if (a instanceof Inet4Address) {
            byte[] b = a.getAddress();
            if (b[0] == 0) {
                return "\"this network\" address";
            }
            if ((b[0] & b[1] & b[2] & b[3]) == (byte) 0xff) {
                return "limited broadcast address";
            }
            if (broadcasts().contains(a)) {
                return "broadcast address of a local subnet";
            }
        }
        return null;
    }

    /** This host's subnet broadcast addresses, re-read at most once a minute. */
    private static Set<InetAddress> broadcasts() {
        long now = System.nanoTime();
        Set<InetAddress> cached = localBroadcasts;
        if (cached != null && now - localBroadcastsAt < BROADCAST_CACHE_NANOS) {
            return cached;
        }
        Set<InetAddress> found = new HashSet<>();
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
                    if (ia.getBroadcast() != null) {
                        found.add(ia.getBroadcast());
                    }
                }
            }
        } catch (SocketException e) {
            // Keep what we had: the other rules still apply.
            return cached != null ? cached : Set.of();
        }
        localBroadcasts = Set.copyOf(found);
        localBroadcastsAt = now;
        return localBroadcasts;
    }
}
