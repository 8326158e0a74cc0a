package io.peerlink.core.internal.channel;

/**
 * The sent packets between {@code base} (the lowest packet neither acknowledged nor declared lost)
 * and the next packet number, in a power-of-two ring indexed by packet number: O(1) lookup, no
 * allocation once the ring has grown to the largest window. Slots are reused; a slot belongs to
 * packet {@code pn} only while {@code slot.packetNumber == pn}. Loop-confined.
 */
final class SentPacketRing {
    private static final int INITIAL_SIZE = 64;

    private SentPacket[] ring = new SentPacket[INITIAL_SIZE];
    private long base;
    private long next;

    /** @return the next packet number */
    long next() {
        return next;
    }

    /** @return the lowest packet number still outstanding */
    long base() {
        return base;
    }

    /**
     * @param pn a packet number
     * @return the slot it maps to, possibly holding another packet or none (check {@code packetNumber})
     */
    SentPacket slot(long pn) {
        return ring[(int) (pn & (ring.length - 1))];
    }

    /** @return a cleared slot for packet number {@link #next()}, not yet counted as sent */
    SentPacket open() {
        long pn = next;
        if (pn - base >= ring.length) {
            grow();
        }
        int idx = (int) (pn & (ring.length - 1));
        SentPacket p = ring[idx];
        if (p == null) {
            p = new SentPacket();
            ring[idx] = p;
        }
        p.reset();
        p.packetNumber = pn;
        return p;
    }

    /** Counts the slot from {@link #open()} as sent: the next packet number moves on. */
    void commit(SentPacket p) {
        next = p.packetNumber + 1;
    }

    private void grow() {
        SentPacket[] bigger = new SentPacket[ring.length * 2];
        for (long pn = base; pn < next; pn++) {
            bigger[(int) (pn & (bigger.length - 1))] = ring[(int) (pn & (ring.length - 1))];
        }
        ring = bigger;
    }

    /**
     * Moves base past every retired packet. Acknowledged and skipped slots are cleared at once
     * (they hold references to message fragments); lost slots keep theirs until the slot is
     * reused, so that a late acknowledgement of a packet declared lost can still name its content.
     */
    void advanceBase() {
        while (base < next) {
            SentPacket p = ring[(int) (base & (ring.length - 1))];
            if (p.state == SentPacket.PENDING) {
                break;
            }
            if (p.state != SentPacket.LOST) {
                p.reset();
            }
            base++;
        }
    }

    /** @return the number of slots (grows with the window) */
    int capacity() {
        return ring.length;
    }
}
