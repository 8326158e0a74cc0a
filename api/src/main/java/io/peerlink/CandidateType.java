package io.peerlink;

/** Where a candidate endpoint comes from (ICE, RFC 8445 section 5.1.1). */
public enum CandidateType {
    /** An address of one of the device's own interfaces: reachable on the same LAN. */
    HOST(126),
    /** A device's address as seen from outside its NAT(s), learned from STUN. */
    SERVER_REFLEXIVE(100),
    /** An address learned from a connectivity check arriving from an unexpected source. */
    PEER_REFLEXIVE(110),
    /** An address on a relay hosted by the reference server. */
    RELAY(0);

    private final int typePreference;

    CandidateType(int typePreference) {
        this.typePreference = typePreference;
    }

    /** @return the ICE type preference, 0..126; higher is tried first */
    public int typePreference() {
        return typePreference;
    }
}
