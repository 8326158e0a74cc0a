package io.peerlink.core.internal.channel;

/**
 * Which message numbers of one delivery mode have been completely received: everything below
 * {@link #watermark()}, plus a bitmap of the next {@link #SPAN} numbers. Message numbers at or
 * beyond watermark + SPAN are refused; the sender never starts a message that far ahead of its
 * oldest unacknowledged one, so an honest peer never hits the limit and the bitmap stays 512 bytes.
 */
final class MessageWindow {
    /** How far past the oldest incomplete message a message number may be. */
    static final int SPAN = 4096;

    private long watermark;
    private long[] bits;

    long watermark() {
        return watermark;
    }

    boolean isComplete(long m) {
        if (m < watermark) {
            return true;
        }
        if (m >= watermark + SPAN || bits == null) {
            return false;
        }
        int i = (int) (m & (SPAN - 1));
        return (bits[i >>> 6] & (1L << i)) != 0;
    }

    boolean inRange(long m) {
        return m < watermark + SPAN;
    }

    void markComplete(long m) {
        if (bits == null) {
            bits = new long[SPAN / 64];
        }
        int i = (int) (m & (SPAN - 1));
        bits[i >>> 6] |= 1L << i;
        while (true) {
            int w = (int) (watermark & (SPAN - 1));
            if ((bits[w >>> 6] & (1L << w)) == 0) {
                break;
            }
            bits[w >>> 6] &= ~(1L << w);
            watermark++;
        }
    }
}
