package io.peerlink.core.internal.channel;

/**
 * One slot of {@link SentPacketTracker}'s ring: what a sent packet carried, so that its content
 * can be acknowledged or retransmitted. Slots are reused; a listener must not keep a reference
 * after its callback returns.
 */
public final class SentPacket {
    /** Flag: the packet carried a PING requested by {@code ping()}. */
    public static final int FLAG_PING = 1;
    /** Flag: the packet carried MAX_DATA. */
    public static final int FLAG_MAX_DATA = 2;
    /** Flag: the packet carried ACK_FREQUENCY. */
    public static final int FLAG_ACK_FREQUENCY = 4;

    static final int PENDING = 1;
    static final int ACKED = 2;
    static final int LOST = 3;
    /** A packet number deliberately never sent (optimistic-ACK detection). */
    static final int SKIPPED = 4;

    long packetNumber = -1;
    long timeSent;
    int size;
    boolean ackEliciting;
    boolean inFlight;
    int state;
    int flags;
    Object[] items = new Object[2];
    int itemCount;

    /** @return the packet number */
    public long packetNumber() { return packetNumber; }
    /** @return when it was sent, loop clock nanoseconds */
    public long timeSent() { return timeSent; }
    /** @return datagram bytes */
    public int size() { return size; }
    /** @return the FLAG_* bits */
    public int flags() { return flags; }
    /** @return number of retransmittable items (message fragments) it carried */
    public int itemCount() { return itemCount; }
    /** @param i index @return item i */
    public Object item(int i) { return items[i]; }

    /**
     * Records a retransmittable item the packet carries.
     *
     * @param item e.g. a message fragment
     */
    public void addItem(Object item) {
        if (itemCount == items.length) {
            items = java.util.Arrays.copyOf(items, itemCount * 2);
        }
        items[itemCount++] = item;
    }

    /** @param flag FLAG_* bit to set */
    public void addFlag(int flag) {
        flags |= flag;
    }

    void reset() {
        for (int i = 0; i < itemCount; i++) {
            items[i] = null;
        }
        itemCount = 0;
        flags = 0;
        state = 0;
        packetNumber = -1;
    }
}
