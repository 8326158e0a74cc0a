package io.peerlink.core.internal.crypto;

/**
 * Sliding anti-replay window over packet numbers (RFC 6479-style bitmap in a ring of 64-bit
 * words): remembers which of the last {@link #SIZE} packet numbers up to the largest accepted one
 * were seen. A number above the largest is new; one at or below {@code largest - SIZE} is too old
 * to judge and refused. Fixed size, no allocation after construction. Not thread-safe.
 */
public final class ReplayWindow {
    /** Packet numbers the window covers: {@code (largest - SIZE, largest]}. */
    public static final int SIZE = 4096;
    private static final int WORDS = SIZE / Long.SIZE;
    private static final int MASK = SIZE - 1;

    /** Verdict of {@link #check(long)}. */
    public enum Verdict {
        /** Not seen yet and inside or ahead of the window. */
        FRESH,
        /** Seen before. */
        DUPLICATE,
        /** At or below {@code largest - SIZE}: cannot be told apart from a replay. */
        TOO_OLD
    }

    private final long[] bits = new long[WORDS];
    private long largest = -1;

    /** @return the largest packet number marked, -1 if none */
    public long largest() {
        return largest;
    }

    /**
     * @param packetNumber a packet number, 0 or more
     * @return whether it would be accepted; does not record it
     */
    public Verdict check(long packetNumber) {
        if (packetNumber > largest) {
            return Verdict.FRESH;
        }
        if (largest - packetNumber >= SIZE) {
            return Verdict.TOO_OLD;
        }
        int bit = (int) (packetNumber & MASK);
        return (bits[bit >>> 6] & (1L << bit)) != 0 ? Verdict.DUPLICATE : Verdict.FRESH;
    }

    /**
     * Records a packet number that {@link #check(long)} found {@link Verdict#FRESH} and that then
     * authenticated. Marking before authentication would let a forged packet block the genuine one.
     *
     * @param packetNumber the packet number
     */
    public void mark(long packetNumber) {
        if (packetNumber > largest) {
            long advance = packetNumber - largest;
            if (advance >= SIZE) {
                java.util.Arrays.fill(bits, 0L);
            } else {
                // Slots between the old and new largest now stand for numbers never seen.
                for (long n = largest + 1; n < packetNumber; n++) {
                    int slot = (int) (n & MASK);
                    bits[slot >>> 6] &= ~(1L << slot);
                }
            }
            largest = packetNumber;
        } else if (largest - packetNumber >= SIZE) {
            return;
        }
        int bit = (int) (packetNumber & MASK);
        bits[bit >>> 6] |= 1L << bit;
    }
}
