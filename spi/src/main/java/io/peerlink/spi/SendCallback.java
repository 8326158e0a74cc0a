package io.peerlink.spi;

/**
 * The outcome of one accepted send, for
 * {@link Transport#send(io.peerlink.Endpoint, java.nio.ByteBuffer, SendCallback)}. Exactly one of
 * the two methods is called, exactly once, for every send that returned {@code true}; never for a
 * send that returned {@code false} or threw. It may be called on any thread, including the
 * caller's before {@code send} returns, and must return quickly without blocking.
 */
public interface SendCallback {

    /**
     * The datagram left: handed to the operating system, or, where
     * {@link TransportCapabilities#sendCompletion()} is true, acknowledged by the next hop.
     */
    void completed();

    /**
     * The datagram was accepted but could not be delivered (broker refused it, connection lost).
     *
     * @param cause what happened; never null
     */
    void failed(Throwable cause);
}
