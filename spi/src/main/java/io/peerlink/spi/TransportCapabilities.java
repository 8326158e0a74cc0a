package io.peerlink.spi;

import java.util.Objects;

/**
 * What a transport declares about itself; the core reads these and adapts to them. Built with
 * {@link #builder()} so that new capabilities can be added without breaking implementers: a
 * capability a transport does not set keeps its documented default.
 *
 * <p>Immutable and thread-safe. Two instances are equal when every capability is equal.
 */
public final class TransportCapabilities {

    private final boolean reliable;
    private final boolean ordered;
    private final int maxDatagramSize;
    private final boolean ttlControl;
    private final boolean sendCompletion;
    private final boolean peerAuthentication;
    private final boolean relayed;
    private final boolean batchSend;
    private final boolean receiveBursts;

    private TransportCapabilities(Builder b) {
        this.reliable = b.reliable;
        this.ordered = b.ordered;
        this.maxDatagramSize = b.maxDatagramSize;
        this.ttlControl = b.ttlControl;
        this.sendCompletion = b.sendCompletion;
        this.peerAuthentication = b.peerAuthentication;
        this.relayed = b.relayed;
        this.batchSend = b.batchSend;
        this.receiveBursts = b.receiveBursts;
    }

    /** @return a builder with every capability at its default (unreliable, unordered, no extras) */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * @return true if an accepted datagram is never lost (e.g. MQTT QoS 1, a TCP relay). Default
     *         false.
     */
    public boolean reliable() {
        return reliable;
    }

    /** @return true if datagrams from one sender to one endpoint arrive in the order sent. Default false. */
    public boolean ordered() {
        return ordered;
    }

    /** @return the largest datagram {@link Transport#send} accepts, in bytes (at least 64) */
    public int maxDatagramSize() {
        return maxDatagramSize;
    }

    /**
     * @return true if {@link Transport#send(io.peerlink.Endpoint, java.nio.ByteBuffer, int)} can set
     *         the IP time-to-live of a datagram (low-TTL hole-punch openers). Default false.
     */
    public boolean ttlControl() {
        return ttlControl;
    }

    /**
     * @return true if {@link Transport#send(io.peerlink.Endpoint, java.nio.ByteBuffer, SendCallback)}
     *         reports a real outcome (the next hop, e.g. a broker, acknowledged the datagram) rather
     *         than the hand-off to the operating system. Default false.
     */
    public boolean sendCompletion() {
        return sendCompletion;
    }

    /**
     * @return true if received datagrams may carry the transport-authenticated identity of their
     *         sender in {@link ReceiveContext#authenticatedPeer()} (a broker login, a DTLS
     *         certificate). Default false. PeerLink never trusts it in place of its own handshake.
     */
    public boolean peerAuthentication() {
        return peerAuthentication;
    }

    /**
     * @return true if datagrams pass through an intermediary (a TURN relay, an MQTT broker, a
     *         Socket.IO server) rather than straight to the peer; the core prefers direct paths.
     *         Default false.
     */
    public boolean relayed() {
        return relayed;
    }

    /**
     * @return true if {@link Transport#sendBatch} sends a batch with fewer system calls (or other
     *         per-datagram costs) than one {@code send} per datagram, so that the core should collect
     *         the packets of one event-loop turn and hand them over together. Default false: the
     *         core then sends each packet as soon as it is built.
     */
    public boolean batchSend() {
        return batchSend;
    }

    /**
     * @return true if the transport calls {@link DatagramHandler#onBurstEnd()} after every burst of
     *         deliveries, as that method describes. Default false.
     */
    public boolean receiveBursts() {
        return receiveBursts;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TransportCapabilities c
                && reliable == c.reliable && ordered == c.ordered && maxDatagramSize == c.maxDatagramSize
                && ttlControl == c.ttlControl && sendCompletion == c.sendCompletion
                && peerAuthentication == c.peerAuthentication && relayed == c.relayed
                && batchSend == c.batchSend && receiveBursts == c.receiveBursts;
    }

    @Override
    public int hashCode() {
        return Objects.hash(reliable, ordered, maxDatagramSize, ttlControl, sendCompletion, peerAuthentication, relayed, batchSend, receiveBursts);
    }

    @Override
    public String toString() {
        return "TransportCapabilities[reliable=" + reliable + ", ordered=" + ordered + ", maxDatagramSize="
                + maxDatagramSize + ", ttlControl=" + ttlControl + ", sendCompletion=" + sendCompletion
                + ", peerAuthentication=" + peerAuthentication + ", relayed=" + relayed + ", batchSend=" + batchSend
                + ", receiveBursts=" + receiveBursts + "]";
    }

    /** Builds {@link TransportCapabilities}; {@link #maxDatagramSize(int)} is required. */
    public static final class Builder {
        private boolean reliable;
        private boolean ordered;
        private int maxDatagramSize = -1;
        private boolean ttlControl;
        private boolean sendCompletion;
        private boolean peerAuthentication;
        private boolean relayed;
        private boolean batchSend;
        private boolean receiveBursts;

        private Builder() {
        }

        /**
         * @param value see {@link TransportCapabilities#reliable()}
         * @return this
         */
        public Builder reliable(boolean value) {
            this.reliable = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#ordered()}
         * @return this
         */
        public Builder ordered(boolean value) {
            this.ordered = value;
            return this;
        }

        /**
         * @param bytes see {@link TransportCapabilities#maxDatagramSize()}
         * @return this
         * @throws IllegalArgumentException if bytes is below 64
         */
        public Builder maxDatagramSize(int bytes) {
            if (bytes < 64) {
                throw new IllegalArgumentException("maxDatagramSize must be at least 64: " + bytes);
            }
            this.maxDatagramSize = bytes;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#ttlControl()}
         * @return this
         */
        public Builder ttlControl(boolean value) {
            this.ttlControl = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#sendCompletion()}
         * @return this
         */
        public Builder sendCompletion(boolean value) {
            this.sendCompletion = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#peerAuthentication()}
         * @return this
         */
        public Builder peerAuthentication(boolean value) {
            this.peerAuthentication = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#relayed()}
         * @return this
         */
        public Builder relayed(boolean value) {
            this.relayed = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#batchSend()}
         * @return this
         */
        public Builder batchSend(boolean value) {
            this.batchSend = value;
            return this;
        }

        /**
         * @param value see {@link TransportCapabilities#receiveBursts()}
         * @return this
         */
        public Builder receiveBursts(boolean value) {
            this.receiveBursts = value;
            return this;
        }

        /**
         * @return the capabilities
         * @throws IllegalStateException if maxDatagramSize was not set
         */
        public TransportCapabilities build() {
            if (maxDatagramSize < 0) {
                throw new IllegalStateException("maxDatagramSize is required: call maxDatagramSize(bytes) before build()");
            }
            return new TransportCapabilities(this);
        }
    }
}
