package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;

/**
 * The receiver's side of acknowledgement: which packet numbers arrived (as ranges, highest
 * first, at most {@link #MAX_RANGES}), and when the next ACK is due. ACKs are delayed until
 * {@code threshold} ack-eliciting packets arrived or the maximum ACK delay passed, and sent at
 * once when a packet opens a new gap or arrives below the largest one (RFC 9000 13.2.1).
 * The threshold is raised by the sender's ACK_FREQUENCY frames during bulk transfer.
 */
public final class AckTracker {
    /** Ranges remembered and reported; older ranges are forgotten. */
    public static final int MAX_RANGES = 32;
    /**
     * Ranges whose highest packet is this far below the largest received are no longer reported.
     * The sender learnt of them from the many ACKs that carried them while they were recent (an
     * ACK goes out at least every 10 ack-eliciting packets), and gaps never close (packet numbers
     * are never reused, and the sender skips a number now and then), so without this limit every
     * ACK would carry all {@link #MAX_RANGES} ranges for the rest of the channel's life.
     */
    public static final long REPORT_SPAN = 2048;
    /** Packets received after a new gap when an immediate ACK goes out (RFC 9002's kPacketThreshold). */
    static final int RECOVERY_PACKETS = 3;

    private final long[] low = new long[MAX_RANGES];
    private final long[] high = new long[MAX_RANGES];
    private int count;
    private long largestReceivedTime;
    private int unacknowledgedEliciting;
    private boolean ackPending;
    private boolean ackNow;
    private long ackDeadline = Long.MAX_VALUE;
    private final long maxAckDelayNanos;
    private int threshold;
    private long frequencySequence = -1;

    /**
     * @param threshold initial ack-eliciting packets per ACK
     * @param maxAckDelayNanos longest an ACK is delayed
     */
    public AckTracker(int threshold, long maxAckDelayNanos) {
        this.threshold = threshold;
        this.maxAckDelayNanos = maxAckDelayNanos;
    }

    /** @return largest packet number received, -1 if none */
    public long largest() {
        return count == 0 ? -1 : high[0];
    }

    /**
     * Records a received packet number.
     *
     * @param pn the packet number
     * @param now loop clock
     * @return false if it is a duplicate (or too old to tell): the packet must be ignored
     */
    public boolean record(long pn, long now) {
        if (count == 0) {
            low[0] = pn;
            high[0] = pn;
            count = 1;
            largestReceivedTime = now;
            return true;
        }
        if (pn > high[0]) {
            if (pn == high[0] + 1) {
                high[0] = pn;
            } else {
                insertAt(0, pn);
                ackNow = true;
            }
            largestReceivedTime = now;
            return true;
        }
        // Below the largest: a reordered packet or a duplicate; find its place (few ranges).
        for (int i = 0; i < count; i++) {
            if (pn >= low[i] && pn <= high[i]) {
                return false;
            }
            if (pn > high[i]) {
                insertAt(i, pn);
                ackNow = true;
                return true;
            }
        }
        if (count == MAX_RANGES) {
            return false;
        }
        insertAt(count, pn);
        ackNow = true;
        return true;
    }

    private void insertAt(int i, long pn) {
        // Extends a neighbour when adjacent, otherwise inserts [pn, pn] before range i.
        boolean joinsBelow = i < count && high[i] + 1 == pn;
        boolean joinsAbove = i > 0 && low[i - 1] - 1 == pn;
        if (joinsBelow && joinsAbove) {
            low[i - 1] = low[i];
            System.arraycopy(low, i + 1, low, i, count - i - 1);
            System.arraycopy(high, i + 1, high, i, count - i - 1);
            count--;
            return;
        }
        if (joinsBelow) {
            high[i] = pn;
            return;
        }
        if (joinsAbove) {
            low[i - 1] = pn;
            return;
        }
        int n = Math.min(count, MAX_RANGES - 1);
        if (i >= MAX_RANGES) {
            return;
        }
        System.arraycopy(low, i, low, i + 1, n - i);
        System.arraycopy(high, i, high, i + 1, n - i);
        low[i] = pn;
        high[i] = pn;
        count = n + 1;
    }

    /**
     * Notes that a recorded packet was ack-eliciting.
     *
     * @param now loop clock
     */
    public void onAckEliciting(long now) {
        ackPending = true;
        if (++unacknowledgedEliciting >= threshold) {
            ackNow = true;
        }
        if (count > 1 && high[0] - low[0] == RECOVERY_PACKETS - 1) {
            // A gap opened just before this run of packets: acknowledge once the run is as long as
            // the sender's packet threshold, so it declares the loss without waiting for a timer.
            // One ACK per gap, not one per packet after it: at 5 % loss, per-packet recovery ACKs
            // cost more CPU (system calls) than they save. Packet numbers are never reused, so old
            // gaps stay forever; only a recent one counts.
            ackNow = true;
        }
        if (ackDeadline == Long.MAX_VALUE) {
            ackDeadline = now + maxAckDelayNanos;
        }
    }

    /** The sender asked for an acknowledgement without delay (IMMEDIATE_ACK). */
    public void ackImmediately() {
        ackNow = true;
    }

    /**
     * Applies an ACK_FREQUENCY request if it is newer than the last.
     *
     * @param sequence its sequence number
     * @param packets the requested threshold
     */
    public void onAckFrequency(long sequence, long packets) {
        if (sequence > frequencySequence) {
            frequencySequence = sequence;
            threshold = (int) packets;
        }
    }

    /** @return the current threshold */
    public int threshold() {
        return threshold;
    }

    /**
     * @param now loop clock
     * @return true if an ACK must go out now
     */
    public boolean ackDue(long now) {
        return ackPending && (ackNow || now >= ackDeadline);
    }

    /** @return true if some received packet has not been acknowledged yet (ACK worth piggybacking) */
    public boolean hasUnacknowledged() {
        return ackPending || ackNow;
    }

    /** @return when the delayed ACK is due, Long.MAX_VALUE if none */
    public long ackDeadline() {
        return ackPending ? (ackNow ? 0 : ackDeadline) : Long.MAX_VALUE;
    }

    /**
     * @param now loop clock
     * @return encoded size of the ACK frame {@link #writeAck} would write
     */
    public int ackSize(long now) {
        return FrameCodec.ackSize(low, high, reportedRanges(), delayMicros(now));
    }

    private int reportedRanges() {
        int n = 1;
        long oldest = high[0] - REPORT_SPAN;
        while (n < count && high[n] >= oldest) {
            n++;
        }
        return n;
    }

    private long delayMicros(long now) {
        return Math.max(0, (now - largestReceivedTime) / 1000);
    }

    /**
     * Writes an ACK frame for everything remembered and resets the delay state.
     *
     * @param dst destination
     * @param now loop clock
     */
    public void writeAck(ByteBuffer dst, long now) {
        FrameCodec.encodeAck(dst, low, high, reportedRanges(), delayMicros(now));
        ackPending = false;
        ackNow = false;
        unacknowledgedEliciting = 0;
        ackDeadline = Long.MAX_VALUE;
    }

    /**
     * Writes the same ACK frame as {@link #writeAck} without counting it as sent: an extra copy on
     * another path (a path challenge's), which leaves the regular acknowledgement schedule alone.
     *
     * @param dst where to write; {@link #ackSize} bytes must fit
     * @param now loop clock
     */
    public void writeAckCopy(ByteBuffer dst, long now) {
        FrameCodec.encodeAck(dst, low, high, reportedRanges(), delayMicros(now));
    }

    /** @return true if anything was received */
    public boolean hasRanges() {
        return count > 0;
    }
}
