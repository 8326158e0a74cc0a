package io.peerlink.natlab;

/**
 * The kind of NAT a lab site puts between its LAN and the lab's "internet" (the core namespace).
 *
 * <p>The same-LAN case needs no kind of its own: declare two devices on one site. Every kind's
 * iptables rules and its RFC 4787 mapping/filtering behaviour are documented in
 * {@code docs/natlab.md}; {@code NatBehaviourTest} proves each claim against the real kernel.
 */
public enum NatKind {
    /**
     * A plain Linux home router: {@code MASQUERADE} on the WAN interface. Endpoint-independent
     * mapping (Linux keeps the source port when the reply tuple is free) and
     * address-and-port-dependent filtering (only conntrack replies come back in).
     */
    PORT_RESTRICTED,
    /**
     * {@code MASQUERADE --random-fully}: every new conntrack entry gets a random external port, so
     * the mapping is address-and-port-dependent (a "symmetric" NAT).
     */
    SYMMETRIC,
    /**
     * Static SNAT to the site's public address plus a DNAT of every unsolicited inbound packet to
     * the site's only device: endpoint-independent mapping and endpoint-independent filtering.
     * A site of this kind accepts at most one device.
     */
    FULL_CONE,
    /**
     * A {@code MASQUERADE} home NAT whose WAN sits on a 100.64.0.0/10 carrier-grade NAT segment;
     * the CGN (its own namespace) does {@code MASQUERADE} again towards the core. Devices need
     * one more hop of TTL for their openers to clear both NATs.
     */
    DOUBLE_NAT,
    /**
     * A {@code MASQUERADE} home NAT that also hairpins: a LAN packet to the NAT's public address
     * is SNATed to the sender's public mapping and looped back through an internal veth pair, so
     * it re-enters the NAT from "outside" and is matched against the target's mapping.
     */
    HAIRPIN
}
