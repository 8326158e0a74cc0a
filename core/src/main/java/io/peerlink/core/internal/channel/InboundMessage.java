package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;
import java.util.Arrays;

/**
 * A message being reassembled. Memory grows as data arrives, never on a claim: a message of up
 * to {@link #CHUNK} bytes gets its buffer on its first fragment; a longer one is stored in
 * {@code CHUNK}-sized pieces allocated when a fragment's bytes fall into them, and copied into
 * one array when complete. So a DATA frame announcing 16 MiB pins only the chunks its own bytes
 * touch. Every allocation (chunks, the assembled array, the range list) is charged to a
 * {@link ReceiveBudget} and released by {@link #release}.
 *
 * <p>Received bytes are kept as sorted, disjoint [start, end) ranges. Insertion finds its place by
 * binary search; the number of ranges is capped at {@code min(MAX_RANGES, 16 + length / 64)}, so
 * a peer scattering tiny fragments gets a protocol violation after a bounded, small amount of
 * work instead of making each insertion cost a scan of everything before it.
 */
final class InboundMessage {
    /** Reassembly unit of long messages: 16 KiB. */
    static final int CHUNK = 16 << 10;
    /** Most disjoint ranges one message may be received in. */
    static final int MAX_RANGES = 8192;

    final long number;
    final int length;
    final long credit;
    private final int maxRanges;
    private final ReceiveBudget budget;
    private byte[] whole;
    private byte[][] chunks;
    private int[] ranges;
    private int rangeCount;
    private long charged;
    boolean complete;

    InboundMessage(long number, int length, long credit, ReceiveBudget budget) {
        this.number = number;
        this.length = length;
        this.credit = credit;
        this.budget = budget;
        this.maxRanges = (int) Math.min(MAX_RANGES, 16 + length / 64L);
        this.complete = length == 0;
        if (length == 0) {
            whole = new byte[0];
        }
    }

    /**
     * Stores [offset, offset + n) from {@code src} at absolute index {@code srcIndex}.
     *
     * @return true if this added bytes not received before
     * @throws FrameFormatException if the ranges would exceed the cap or the budget is exhausted
     */
    boolean add(ByteBuffer src, int srcIndex, int offset, int n) throws FrameFormatException {
        if (n == 0 || complete) {
            return false;
        }
        if (!mark(offset, offset + n)) {
            return false;
        }
        copy(src, srcIndex, offset, n);
        if (rangeCount == 1 && ranges[0] == 0 && ranges[1] == length) {
            complete = true;
            releaseRanges();
        }
        return true;
    }

    private void copy(ByteBuffer src, int srcIndex, int offset, int n) throws FrameFormatException {
        if (length <= CHUNK) {
            if (whole == null) {
                charge(length);
                whole = new byte[length];
            }
            src.get(srcIndex, whole, offset, n);
            return;
        }
        if (chunks == null) {
            chunks = new byte[(length + CHUNK - 1) / CHUNK][];
            charge(8L * chunks.length);
        }
        int end = offset + n;
        while (offset < end) {
            int c = offset / CHUNK;
            int within = offset - c * CHUNK;
            int take = Math.min(end - offset, CHUNK - within);
            byte[] chunk = chunks[c];
            if (chunk == null) {
                int size = Math.min(CHUNK, length - c * CHUNK);
                charge(size);
                chunk = new byte[size];
                chunks[c] = chunk;
            }
            src.get(srcIndex, chunk, within, take);
            srcIndex += take;
            offset += take;
        }
    }

    /**
     * The message bytes; call once, when complete. A chunked message is copied into one array
     * here (charged) and its chunks released.
     */
    byte[] bytes() throws FrameFormatException {
        if (whole != null) {
            return whole;
        }
        charge(length);
        byte[] out = new byte[length];
        for (int c = 0; c < chunks.length; c++) {
            System.arraycopy(chunks[c], 0, out, c * CHUNK, chunks[c].length);
        }
        long chunkBytes = 8L * chunks.length + length;
        chunks = null;
        budget.release(chunkBytes);
        charged -= chunkBytes;
        whole = out;
        return out;
    }

    /** Returns everything this message holds to the budget; the message is dead afterwards. */
    void release() {
        budget.release(charged);
        charged = 0;
        whole = null;
        chunks = null;
        ranges = null;
    }

    /** @return bytes charged to the budget now */
    long charged() {
        return charged;
    }

    private void charge(long bytes) throws FrameFormatException {
        if (!budget.tryReserve(bytes)) {
            throw new FrameFormatException("receive budget exhausted: message " + number + " needs " + bytes
                    + " more bytes, " + budget.used() + " of " + budget.limit() + " in use");
        }
        charged += bytes;
    }

    private void releaseRanges() {
        if (ranges != null) {
            long bytes = 4L * ranges.length;
            budget.release(bytes);
            charged -= bytes;
            ranges = null;
        }
    }

    /**
     * Adds [start, end) to the ranges.
     *
     * @return false if it was already covered
     */
    private boolean mark(int start, int end) throws FrameFormatException {
        if (ranges == null) {
            charge(4L * 8);
            ranges = new int[8];
        }
        // Fast path: in-order arrival extends the last range.
        if (rangeCount > 0 && ranges[2 * rangeCount - 1] == start) {
            ranges[2 * rangeCount - 1] = end;
            return true;
        }
        int i = firstEndingAtOrAfter(start);
        if (i < rangeCount && ranges[2 * i] <= start && ranges[2 * i + 1] >= end) {
            return false;
        }
        int newStart = start;
        int newEnd = end;
        int j = i;
        while (j < rangeCount && ranges[2 * j] <= end) {
            newStart = Math.min(newStart, ranges[2 * j]);
            newEnd = Math.max(newEnd, ranges[2 * j + 1]);
            j++;
        }
        int newCount = rangeCount - (j - i) + 1;
        if (newCount > maxRanges) {
            throw new FrameFormatException("message " + number + " scattered into more than " + maxRanges + " fragment ranges");
        }
        if (2 * newCount > ranges.length) {
            int bigger = Math.min(Math.max(2 * newCount, ranges.length * 2), 2 * maxRanges);
            charge(4L * (bigger - ranges.length));
            ranges = Arrays.copyOf(ranges, bigger);
        }
        System.arraycopy(ranges, 2 * j, ranges, 2 * (i + 1), 2 * (rangeCount - j));
        ranges[2 * i] = newStart;
        ranges[2 * i + 1] = newEnd;
        rangeCount = newCount;
        return true;
    }

    /** Binary search: index of the first range whose end is at or after {@code offset}. */
    private int firstEndingAtOrAfter(int offset) {
        int lo = 0;
        int hi = rangeCount;
        while (lo < hi) {
            int mid = (lo + hi) >>> 1;
            if (ranges[2 * mid + 1] < offset) {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        return lo;
    }

    /** @return number of disjoint ranges received (tests) */
    int rangeCount() {
        return rangeCount;
    }
}
