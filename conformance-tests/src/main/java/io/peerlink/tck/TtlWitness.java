package io.peerlink.tck;

import io.peerlink.Endpoint;

import java.time.Duration;

/**
 * Optional hook for rule T7.1: a receiver that can see the IP time-to-live of the datagrams that
 * reach it (for UDP, a socket with {@code IP_RECVTTL}). Supplied by
 * {@link TransportVerification#createTtlWitness()}; closed by the suite.
 */
public interface TtlWitness extends AutoCloseable {

    /** @return where the transport under test sends datagrams for the witness to observe */
    Endpoint endpoint();

    /**
     * @param timeout how long to wait for the next datagram
     * @return the TTL (IPv6: hop limit) the next received datagram carried, or -1 if none arrived
     * @throws Exception if observing fails
     */
    int nextTtl(Duration timeout) throws Exception;

    /** Releases the witness; must not throw. */
    @Override
    void close();
}
