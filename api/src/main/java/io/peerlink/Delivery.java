package io.peerlink;

/** How a message is delivered. */
public enum Delivery {
    /** Reliable, exactly once, in the order sent relative to other ORDERED messages. */
    ORDERED,
    /** Reliable, exactly once, delivered as soon as complete, in any order. */
    UNORDERED,
    /** At most once, no retransmission; must fit in one datagram. */
    UNRELIABLE
}
