package io.peerlink.testkit;

import java.time.Duration;
import java.util.Objects;

/**
 * What {@link ImpairedTransport} does to the datagrams of one direction. Rates are
 * probabilities per datagram, 0..1.
 *
 * @param loss drop the datagram
 * @param duplication deliver it twice
 * @param reordering hold it back by {@code reorderDelay} so later datagrams overtake it
 * @param reorderDelay how long a reordered datagram is held
 * @param delay added to every datagram (in-process; no netem here)
 * @param corruption flip one random bit
 * @param mtu datagrams larger than this are dropped; 0 = no limit
 */
public record Impairment(double loss, double duplication, double reordering, Duration reorderDelay,
                         Duration delay, double corruption, int mtu) {
    /** Nothing impaired. */
    public static final Impairment NONE = new Impairment(0, 0, 0, Duration.ZERO, Duration.ZERO, 0, 0);

    /**
     * @param loss drop the datagram
     * @param duplication deliver it twice
     * @param reordering hold it back by {@code reorderDelay} so later datagrams overtake it
     * @param reorderDelay how long a reordered datagram is held
     * @param delay added to every datagram
     * @param corruption flip one random bit
     * @param mtu datagrams larger than this are dropped; 0 = no limit
     * @throws IllegalArgumentException if a rate is outside 0..1, a duration negative or mtu negative
     */
    public Impairment {
        Objects.requireNonNull(reorderDelay, "reorderDelay");
        Objects.requireNonNull(delay, "delay");
        for (double r : new double[] {loss, duplication, reordering, corruption}) {
            if (!(r >= 0 && r <= 1)) {
                throw new IllegalArgumentException("rate must be 0..1: " + r);
            }
        }
        if (reorderDelay.isNegative() || delay.isNegative() || mtu < 0) {
            throw new IllegalArgumentException("negative delay or mtu");
        }
    }

    /**
     * @param rate 0..1
     * @return a copy with that loss rate
     */
    public Impairment withLoss(double rate) {
        return new Impairment(rate, duplication, reordering, reorderDelay, delay, corruption, mtu);
    }

    /**
     * @param rate 0..1
     * @return a copy with that duplication rate
     */
    public Impairment withDuplication(double rate) {
        return new Impairment(loss, rate, reordering, reorderDelay, delay, corruption, mtu);
    }

    /**
     * @param rate 0..1
     * @param hold how long reordered datagrams are held
     * @return a copy
     */
    public Impairment withReordering(double rate, Duration hold) {
        return new Impairment(loss, duplication, rate, hold, delay, corruption, mtu);
    }

    /**
     * @param d added to every datagram
     * @return a copy
     */
    public Impairment withDelay(Duration d) {
        return new Impairment(loss, duplication, reordering, reorderDelay, d, corruption, mtu);
    }

    /**
     * @param rate 0..1
     * @return a copy with that corruption rate
     */
    public Impairment withCorruption(double rate) {
        return new Impairment(loss, duplication, reordering, reorderDelay, delay, rate, mtu);
    }

    /**
     * @param bytes largest datagram let through, 0 = unlimited
     * @return a copy
     */
    public Impairment withMtu(int bytes) {
        return new Impairment(loss, duplication, reordering, reorderDelay, delay, corruption, bytes);
    }
}
