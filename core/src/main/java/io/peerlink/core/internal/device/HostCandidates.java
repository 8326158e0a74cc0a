package io.peerlink.core.internal.device;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.Endpoint;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InterfaceAddress;
import java.net.NetworkInterface;
import java.net.SocketException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/** Host candidates: the addresses of the device's own interfaces at the bound port. */
final class HostCandidates {
    private HostCandidates() {
    }

    /**
     * @param bound the transport's bound endpoint
     * @return one candidate per usable interface address (just the bound address if it is not a
     *         wildcard); loopback only when the socket is bound to loopback
     */
    static List<Candidate> gather(Endpoint bound) {
        InetAddress bindAddress = bound.toSocketAddress().getAddress();
        List<Candidate> out = new ArrayList<>();
        if (!bindAddress.isAnyLocalAddress()) {
            out.add(Candidate.of(bound, CandidateType.HOST, 65535));
            return out;
        }
        int preference = 65535;
        try {
            for (NetworkInterface nif : Collections.list(NetworkInterface.getNetworkInterfaces())) {
                if (!nif.isUp() || nif.isLoopback()) {
                    continue;
                }
                for (InterfaceAddress ia : nif.getInterfaceAddresses()) {
                    InetAddress a = ia.getAddress();
                    // IPv4 only while the lab and the relay are IPv4; link-local addresses never route.
                    if (a instanceof Inet4Address && !a.isLinkLocalAddress()) {
                        Endpoint e = new Endpoint(bound.scheme(), a.getHostAddress(), bound.port(), "");
                        out.add(Candidate.of(e, CandidateType.HOST, Math.max(0, preference--)));
                    }
                }
            }
        } catch (SocketException e) {
            System.getLogger(HostCandidates.class.getName()).log(System.Logger.Level.WARNING,
                    "cannot list network interfaces: " + e.getMessage());
        }
        return out;
    }
}
