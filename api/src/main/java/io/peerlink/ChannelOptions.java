package io.peerlink;

import java.time.Duration;
import java.util.Objects;

/**
 * Tuning of a {@link ReliableChannel}. Immutable; made by {@link #builder()}, validated in
 * {@link Builder#build()}. The defaults suit a device on a home or cellular network; see
 * docs/protocol.md for how they map onto IEC 60870-5-104's t1/t2/t3 and k/w.
 *
 * <table>
 * <caption>Defaults</caption>
 * <tr><th>option</th><th>default</th><th>IEC 104 analogue</th></tr>
 * <tr><td>maxMessageSize</td><td>16 MiB</td><td>-</td></tr>
 * <tr><td>receiveWindow</td><td>16 MiB + 64 KiB</td><td>k (max unacknowledged I-frames)</td></tr>
 * <tr><td>sendBufferSize</td><td>32 MiB</td><td>-</td></tr>
 * <tr><td>maxDatagramSize</td><td>1200 bytes</td><td>-</td></tr>
 * <tr><td>maxAckDelay</td><td>25 ms</td><td>t2 (10 s)</td></tr>
 * <tr><td>ackEveryPackets</td><td>2 (10 once bulk transfer is under way)</td><td>w (8)</td></tr>
 * <tr><td>keepaliveInterval</td><td>15 s</td><td>t3 (20 s)</td></tr>
 * <tr><td>idleTimeout</td><td>60 s</td><td>t1 (15 s) after a test frame</td></tr>
 * <tr><td>initialRtt</td><td>333 ms</td><td>-</td></tr>
 * <tr><td>closeTimeout</td><td>10 s</td><td>-</td></tr>
 * </table>
 */
public final class ChannelOptions {
    private static final ChannelOptions DEFAULTS = builder().build();

    private final int maxMessageSize;
    private final long receiveWindow;
    private final long sendBufferSize;
    private final int maxDatagramSize;
    private final Duration maxAckDelay;
    private final int ackEveryPackets;
    private final Duration keepaliveInterval;
    private final Duration idleTimeout;
    private final Duration initialRtt;
    private final Duration closeTimeout;

    private ChannelOptions(Builder b) {
        this.maxMessageSize = b.maxMessageSize;
        this.receiveWindow = b.receiveWindow;
        this.sendBufferSize = b.sendBufferSize;
        this.maxDatagramSize = b.maxDatagramSize;
        this.maxAckDelay = b.maxAckDelay;
        this.ackEveryPackets = b.ackEveryPackets;
        this.keepaliveInterval = b.keepaliveInterval;
        this.idleTimeout = b.idleTimeout;
        this.initialRtt = b.initialRtt;
        this.closeTimeout = b.closeTimeout;
    }

    /** @return the default options */
    public static ChannelOptions defaults() {
        return DEFAULTS;
    }

    /** @return a builder holding the defaults */
    public static Builder builder() {
        return new Builder();
    }

    /** @return a builder holding these options */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.maxMessageSize = maxMessageSize;
        b.receiveWindow = receiveWindow;
        b.sendBufferSize = sendBufferSize;
        b.maxDatagramSize = maxDatagramSize;
        b.maxAckDelay = maxAckDelay;
        b.ackEveryPackets = ackEveryPackets;
        b.keepaliveInterval = keepaliveInterval;
        b.idleTimeout = idleTimeout;
        b.initialRtt = initialRtt;
        b.closeTimeout = closeTimeout;
        return b;
    }

    /** @return largest message accepted by send and by the receiver, in bytes */
    public int maxMessageSize() { return maxMessageSize; }
    /** @return bytes of message data the peer may have in flight to us, undelivered */
    public long receiveWindow() { return receiveWindow; }
    /** @return bytes of unacknowledged message data a channel buffers before refusing sends */
    public long sendBufferSize() { return sendBufferSize; }
    /** @return largest datagram the channel emits (link header included) */
    public int maxDatagramSize() { return maxDatagramSize; }
    /** @return longest the receiver waits before acknowledging */
    public Duration maxAckDelay() { return maxAckDelay; }
    /** @return the receiver acknowledges at least every this many ack-eliciting packets */
    public int ackEveryPackets() { return ackEveryPackets; }
    /** @return a PING is sent after this long without sending anything */
    public Duration keepaliveInterval() { return keepaliveInterval; }
    /** @return the channel closes after this long without hearing from the peer */
    public Duration idleTimeout() { return idleTimeout; }
    /** @return RTT assumed before the first sample */
    public Duration initialRtt() { return initialRtt; }
    /** @return how long a graceful close waits for outstanding data before aborting */
    public Duration closeTimeout() { return closeTimeout; }

    @Override
    public String toString() {
        return "ChannelOptions[maxMessageSize=" + maxMessageSize + ", receiveWindow=" + receiveWindow
                + ", sendBufferSize=" + sendBufferSize + ", maxDatagramSize=" + maxDatagramSize
                + ", maxAckDelay=" + maxAckDelay + ", ackEveryPackets=" + ackEveryPackets
                + ", keepaliveInterval=" + keepaliveInterval + ", idleTimeout=" + idleTimeout
                + ", initialRtt=" + initialRtt + ", closeTimeout=" + closeTimeout + "]";
    }

    /** Builds {@link ChannelOptions}; not thread-safe. */
    public static final class Builder {
        private int maxMessageSize = 16 << 20;
        private long receiveWindow = (16 << 20) + (64 << 10);
        private long sendBufferSize = 32L << 20;
        private int maxDatagramSize = 1200;
        private Duration maxAckDelay = Duration.ofMillis(25);
        private int ackEveryPackets = 2;
        private Duration keepaliveInterval = Duration.ofSeconds(15);
        private Duration idleTimeout = Duration.ofSeconds(60);
        private Duration initialRtt = Duration.ofMillis(333);
        private Duration closeTimeout = Duration.ofSeconds(10);

        private Builder() {
        }

        /**
         * @param bytes largest message, 1..64 MiB
         * @return this
         */
        public Builder maxMessageSize(int bytes) { this.maxMessageSize = bytes; return this; }
        /**
         * @param bytes receive window, at least maxMessageSize
         * @return this
         */
        public Builder receiveWindow(long bytes) { this.receiveWindow = bytes; return this; }
        /**
         * @param bytes send buffer, at least maxMessageSize
         * @return this
         */
        public Builder sendBufferSize(long bytes) { this.sendBufferSize = bytes; return this; }
        /**
         * @param bytes largest datagram, 256..65507
         * @return this
         */
        public Builder maxDatagramSize(int bytes) { this.maxDatagramSize = bytes; return this; }
        /**
         * @param delay 0..1 s
         * @return this
         */
        public Builder maxAckDelay(Duration delay) { this.maxAckDelay = Objects.requireNonNull(delay, "delay"); return this; }
        /**
         * @param packets 1..64
         * @return this
         */
        public Builder ackEveryPackets(int packets) { this.ackEveryPackets = packets; return this; }
        /**
         * @param interval positive, shorter than the idle timeout
         * @return this
         */
        public Builder keepaliveInterval(Duration interval) { this.keepaliveInterval = Objects.requireNonNull(interval, "interval"); return this; }
        /**
         * @param timeout positive
         * @return this
         */
        public Builder idleTimeout(Duration timeout) { this.idleTimeout = Objects.requireNonNull(timeout, "timeout"); return this; }
        /**
         * @param rtt positive
         * @return this
         */
        public Builder initialRtt(Duration rtt) { this.initialRtt = Objects.requireNonNull(rtt, "rtt"); return this; }
        /**
         * @param timeout positive
         * @return this
         */
        public Builder closeTimeout(Duration timeout) { this.closeTimeout = Objects.requireNonNull(timeout, "timeout"); return this; }

        /**
         * @return the options
         * @throws IllegalArgumentException naming the first option out of range
         */
        public ChannelOptions build() {
            check(maxMessageSize >= 1 && maxMessageSize <= 64 << 20, "maxMessageSize must be 1..64 MiB: " + maxMessageSize);
            check(receiveWindow >= maxMessageSize, "receiveWindow (" + receiveWindow + ") must be at least maxMessageSize (" + maxMessageSize + ")");
            check(sendBufferSize >= maxMessageSize, "sendBufferSize (" + sendBufferSize + ") must be at least maxMessageSize (" + maxMessageSize + ")");
            check(maxDatagramSize >= 256 && maxDatagramSize <= 65507, "maxDatagramSize must be 256..65507: " + maxDatagramSize);
            check(!maxAckDelay.isNegative() && maxAckDelay.compareTo(Duration.ofSeconds(1)) <= 0, "maxAckDelay must be 0..1 s: " + maxAckDelay);
            check(ackEveryPackets >= 1 && ackEveryPackets <= 64, "ackEveryPackets must be 1..64: " + ackEveryPackets);
            check(positive(idleTimeout), "idleTimeout must be positive: " + idleTimeout);
            check(positive(keepaliveInterval) && keepaliveInterval.compareTo(idleTimeout) < 0,
                    "keepaliveInterval (" + keepaliveInterval + ") must be positive and shorter than idleTimeout (" + idleTimeout + ")");
            check(positive(initialRtt), "initialRtt must be positive: " + initialRtt);
            check(positive(closeTimeout), "closeTimeout must be positive: " + closeTimeout);
            return new ChannelOptions(this);
        }

        private static boolean positive(Duration d) {
            return !d.isNegative() && !d.isZero();
        }

        private static void check(boolean ok, String message) {
            if (!ok) {
                throw new IllegalArgumentException(message);
            }
        }
    }
}
