package io.peerlink.core.internal.channel;

/**
 * The congestion controller of one path: how many bytes may be in flight. {@link SentPacketTracker}
 * owns the packets and tells the controller what happened to them; the controller only keeps its
 * window (the shape of quinn's {@code congestion::Controller} and quiche's {@code cc}). Loop-confined.
 *
 * <p>Implementations: {@link NewRenoController} for unreliable paths (UDP, anything that drops
 * under load), {@link FixedWindowController} for paths whose transport is itself reliable and
 * congestion-controlled (a TCP relay), where a loss signal from below never comes and window
 * games only add latency.
 */
public interface CongestionController {

    /** Creates a controller for a path. */
    @FunctionalInterface
    interface Factory {
        /**
         * @param maxDatagramSize the path's datagram size
         * @param rtt the RTT estimator of the path (read, never written, by the controller)
         * @return a controller in its initial state
         */
        CongestionController create(int maxDatagramSize, RttEstimator rtt);
    }

    /** @return the congestion window in bytes */
    long window();

    /** @return the initial window in bytes (also the pacer's smallest burst) */
    long initialWindow();

    /** @return true while the window grows exponentially */
    boolean inSlowStart();

    /**
     * An in-flight packet was acknowledged.
     *
     * @param timeSent when it was sent, loop clock
     * @param bytes its size
     * @param now loop clock
     */
    void onAcked(long timeSent, int bytes, long now);

    /**
     * An in-flight packet was declared lost (the congestion decision comes with
     * {@link #onCongestionEvent}, once per ACK).
     *
     * @param bytes its size
     */
    void onLost(int bytes);

    /**
     * An ACK produced a new RTT sample.
     *
     * @param largestAcked largest packet number acknowledged so far
     * @param nextPacketNumber the next packet number to be sent
     */
    void onRttSample(long largestAcked, long nextPacketNumber);

    /**
     * Losses were detected; the newest lost packet was sent at {@code largestLostSent}.
     *
     * @param largestLostSent send time of the newest lost packet, loop clock
     * @param now loop clock
     */
    void onCongestionEvent(long largestLostSent, long now);

    /**
     * Persistent congestion (RFC 9002 7.6): a run of lost packets spanning several PTOs.
     *
     * @param now loop clock
     */
    void onPersistentCongestion(long now);

    /** @return loss events that did not reduce the window (see {@link NewRenoController}) */
    default long toleratedLossEvents() {
        return 0;
    }

    /** @return the estimated share of packets lost, 0..1, or 0 if the controller keeps none */
    default double lossRate() {
        return 0;
    }
}
