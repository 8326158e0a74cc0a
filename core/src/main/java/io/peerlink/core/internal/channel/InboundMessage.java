package io.peerlink.core.internal.channel;

/**
 * A message being reassembled: its buffer and the byte ranges received so far, as sorted,
 * disjoint [start, end) pairs. The number of ranges is capped so a peer sending scattered tiny
 * fragments cannot make the bookkeeping outgrow the credit the message was charged.
 */
final class InboundMessage {
    final long number;
    final int length;
    final long credit;
    final byte[] bytes;
    private int[] ranges;
    private int rangeCount;
    private final int maxRanges;
    boolean complete;

    InboundMessage(long number, int length, long credit) {
        this.number = number;
        this.length = length;
        this.credit = credit;
        this.bytes = new byte[length];
        this.maxRanges = 16 + length / 64;
        this.complete = length == 0;
    }

    /**
     * Marks [offset, offset + n) received.
     *
     * @return true if this added bytes not received before (the caller then copies them)
     * @throws FrameFormatException if the ranges would exceed the cap
     */
    boolean add(int offset, int n) throws FrameFormatException {
        if (n == 0 || complete) {
            return false;
        }
        int end = offset + n;
        if (ranges == null) {
            ranges = new int[8];
        }
        // Fast path: in-order arrival extends the last range.
        if (rangeCount > 0 && ranges[2 * rangeCount - 1] == offset) {
            ranges[2 * rangeCount - 1] = end;
            checkComplete();
            return true;
        }
        // Find the first range whose end >= offset.
        int i = 0;
        while (i < rangeCount && ranges[2 * i + 1] < offset) {
            i++;
        }
        if (i < rangeCount && ranges[2 * i] <= offset && ranges[2 * i + 1] >= end) {
            return false;
        }
        int newStart = offset;
        int newEnd = end;
        int j = i;
        while (j < rangeCount && ranges[2 * j] <= end) {
            newStart = Math.min(newStart, ranges[2 * j]);
            newEnd = Math.max(newEnd, ranges[2 * j + 1]);
            j++;
        }
        int removed = j - i;
        int newCount = rangeCount - removed + 1;
        if (newCount > maxRanges) {
            throw new FrameFormatException("message " + number + " scattered into more than " + maxRanges + " fragment ranges");
        }
        if (2 * newCount > ranges.length) {
            ranges = java.util.Arrays.copyOf(ranges, Math.max(2 * newCount, ranges.length * 2));
        }
        System.arraycopy(ranges, 2 * j, ranges, 2 * (i + 1), 2 * (rangeCount - j));
        ranges[2 * i] = newStart;
        ranges[2 * i + 1] = newEnd;
        rangeCount = newCount;
        checkComplete();
        return true;
    }

    private void checkComplete() {
        if (rangeCount == 1 && ranges[0] == 0 && ranges[1] == length) {
            complete = true;
            ranges = null;
        }
    }
}
