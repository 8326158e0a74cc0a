package io.peerlink.spi;

/**
 * What a transport declares about itself; the core adapts to it (for example it runs its own
 * ARQ only over transports that are not reliable and ordered).
 *
 * @param reliable datagrams are never lost (e.g. MQTT QoS 1+, TCP relay)
 * @param ordered datagrams arrive in the order sent
 * @param maxDatagramSize the largest datagram {@link Transport#send} accepts, in bytes
 * @param ttlControl {@link Transport#send(io.peerlink.Endpoint, java.nio.ByteBuffer, int)} can set
 *        the IP time-to-live of a datagram (needed for low-TTL hole-punch openers)
 */
public record TransportCapabilities(boolean reliable, boolean ordered, int maxDatagramSize, boolean ttlControl) {
    /** @throws IllegalArgumentException if maxDatagramSize is below 64 */
    public TransportCapabilities {
        if (maxDatagramSize < 64) {
            throw new IllegalArgumentException("maxDatagramSize must be at least 64: " + maxDatagramSize);
        }
    }
}
