package io.peerlink.core.internal.channel;

/**
 * A constant window, for a path whose transport is reliable and does its own congestion
 * control (a TCP relay): the channel never sees a congestion loss there, so NewReno would only
 * grow to its cap, and a loss it does see (a relay restart, a dropped frame) is not the network's
 * queue filling. The window bounds how much the channel hands to the transport's buffers beyond
 * one round trip; flow-control credit still bounds the receiver. Losses and persistent congestion
 * change nothing; the pacer spreads the window over the round trip as for any path.
 */
public final class FixedWindowController implements CongestionController {
    /** Default window of a reliable path: 1 MiB, a 10 ms round trip at 800 Mbit/s. */
    public static final long DEFAULT_WINDOW = 1L << 20;

    private final long window;
    private final long initialWindow;

    /**
     * @param window bytes allowed in flight
     * @param maxDatagramSize the path's datagram size (the window is at least two datagrams)
     */
    public FixedWindowController(long window, int maxDatagramSize) {
        this.window = Math.max(window, 2L * maxDatagramSize);
        this.initialWindow = Math.min(this.window, NewRenoController.initialWindow(maxDatagramSize));
    }

    /** @return a factory making {@link #DEFAULT_WINDOW} controllers */
    public static Factory factory() {
        return factory(DEFAULT_WINDOW);
    }

    /** @param window bytes allowed in flight @return a factory for that window */
    public static Factory factory(long window) {
        return (size, rtt) -> new FixedWindowController(window, size);
    }

    @Override public long window() { return window; }
    @Override public long initialWindow() { return initialWindow; }
    @Override public boolean inSlowStart() { return false; }
    @Override public void onAcked(long timeSent, int bytes, long now) { }
    @Override public void onLost(int bytes) { }
    @Override public void onRttSample(long largestAcked, long nextPacketNumber) { }
    @Override public void onCongestionEvent(long largestLostSent, long now) { }
    @Override public void onPersistentCongestion(long now) { }
}
