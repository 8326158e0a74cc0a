package io.peerlink.spi;

import io.peerlink.Endpoint;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A datagram transport: UDP, a TCP relay, MQTT, Socket.IO, CoAP. Modelled on Californium's
 * {@code Connector}.
 *
 * <h2>Lifecycle</h2>
 * <pre>
 *   CREATED --start--> STARTED --stop--> STOPPED --start--> STARTED
 *      |                  |                  |
 *      +------------------+-----destroy------+-----> DESTROYED (final)
 * </pre>
 * {@code stop} and {@code destroy} are idempotent. A transport that fails by itself moves to
 * STOPPED and reports through {@link DatagramHandler#onTransportFailure(Throwable)}.
 *
 * <h2>Threading and buffers</h2>
 * All methods are thread-safe. {@link #send} never blocks: it copies or transmits the bytes
 * before returning, so the caller keeps ownership of the buffer. Received datagrams go to the one
 * {@link DatagramHandler} given to {@link #start}.
 */
public interface Transport {

    /** Lifecycle states; see the class documentation. */
    enum State {
        /** Created, not yet started; binds nothing. */
        CREATED,
        /** Bound and delivering to its handler. */
        STARTED,
        /** Stopped by {@code stop()} or by its own failure; may be started again. */
        STOPPED,
        /** Destroyed for good. */
        DESTROYED
    }

    /**
     * Binds and starts delivering received datagrams to the handler.
     *
     * @param handler receives every datagram
     * @throws NullPointerException if handler is null
     * @throws IllegalStateException if the state is STARTED or DESTROYED
     * @throws IOException if binding fails (address in use, no permission)
     */
    void start(DatagramHandler handler) throws IOException;

    /** Stops receiving and releases the socket; idempotent; no-op unless STARTED. */
    void stop();

    /** Releases everything for good; idempotent. */
    void destroy();

    /** @return the current state */
    State state();

    /**
     * @return the bound local endpoint
     * @throws IllegalStateException unless STARTED
     */
    Endpoint localEndpoint();

    /**
     * The device's network changed: an address of one of its interfaces appeared or went away (the
     * device moved to another network, its DHCP lease changed). The core calls this on every
     * transport it runs when it notices such a change (docs/protocol-paths.md, "A device changes
     * its address"). A transport whose state is tied to the old address — a relay allocation made
     * from it, a connection bound to it — should check that state now rather than at its next
     * periodic check, re-establish it if it is gone, and report a new local endpoint through
     * {@link DatagramHandler#onLocalEndpointChanged}. Called on a core thread; must return quickly
     * (do the work on the transport's own threads). Default: nothing (a socket bound to the
     * wildcard address needs nothing: the kernel picks the new source address).
     */
    default void onNetworkChanged() {
    }

    /** @return what this transport can do; constant for its lifetime */
    TransportCapabilities capabilities();

    /**
     * @param remote an endpoint
     * @return true if this transport can send to it (right scheme, address family, ...)
     * @throws NullPointerException if remote is null
     */
    boolean supports(Endpoint remote);

    /**
     * Sends one datagram without blocking.
     *
     * @param remote destination
     * @param datagram the bytes between position and limit; the position is advanced to the limit
     * @return true if handed to the network, false if dropped because a bounded buffer is full
     *         (like a full socket buffer; the caller's ARQ recovers)
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the datagram exceeds maxDatagramSize or the endpoint is
     *         not {@linkplain #supports supported}
     * @throws IllegalStateException unless STARTED
     */
    boolean send(Endpoint remote, ByteBuffer datagram);

    /**
     * Sends one datagram with the given IP time-to-live (hole-punch openers). Only when
     * {@link TransportCapabilities#ttlControl()} is true.
     *
     * @param remote destination
     * @param datagram as for {@link #send(Endpoint, ByteBuffer)}
     * @param ttl 1..255
     * @return as for {@link #send(Endpoint, ByteBuffer)}
     * @throws UnsupportedOperationException if this transport has no TTL control
     * @throws IllegalArgumentException if ttl is out of range, or as for send
     * @throws IllegalStateException unless STARTED
     */
    default boolean send(Endpoint remote, ByteBuffer datagram, int ttl) {
        throw new UnsupportedOperationException(getClass().getName() + " has no TTL control (capabilities().ttlControl() is false)");
    }

    /**
     * Sends several datagrams to one endpoint without blocking: the same as calling
     * {@link #send(Endpoint, ByteBuffer)} for {@code datagrams[offset]} to
     * {@code datagrams[offset + count - 1]} in that order, except that a transport declaring
     * {@link TransportCapabilities#batchSend()} hands them over with fewer system calls (the UDP
     * transport: one {@code sendmmsg}, or UDP segmentation offload, per batch). The core collects
     * the packets of one event-loop turn and calls this only when {@code batchSend()} is true.
     *
     * <p>Every argument is checked before any datagram is sent: a batch that throws sent nothing.
     * Each datagram is either handed to the network or dropped (a bounded buffer is full), as with
     * {@code send}; datagrams are sent in array order, so the ones dropped are a suffix of the batch
     * when the transport stops early at a full buffer.
     *
     * <p>The default implementation checks the arguments, then calls {@code send} once per datagram.
     *
     * @param remote destination of every datagram
     * @param datagrams the datagrams, each the bytes between its position and limit; every position
     *        is advanced to its limit, whether that datagram was sent or dropped
     * @param offset index of the first datagram to send
     * @param count how many to send, from {@code offset}
     * @return how many were handed to the network, 0..count
     * @throws NullPointerException if remote, the array or one of the datagrams to send is null
     * @throws IndexOutOfBoundsException if {@code offset} and {@code count} do not select a range of the array
     * @throws IllegalArgumentException if a datagram exceeds maxDatagramSize or the endpoint is not
     *         {@linkplain #supports supported}
     * @throws IllegalStateException unless STARTED
     */
    default int sendBatch(Endpoint remote, ByteBuffer[] datagrams, int offset, int count) {
        checkBatch(remote, datagrams, offset, count, capabilities().maxDatagramSize());
        int sent = 0;
        for (int i = offset; i < offset + count; i++) {
            if (send(remote, datagrams[i])) {
                sent++;
            }
        }
        return sent;
    }

    /**
     * Checks the arguments of {@link #sendBatch} as its contract requires, before anything is sent;
     * for transports that override {@code sendBatch}.
     *
     * @param remote where the batch goes
     * @param datagrams the array holding the batch
     * @param offset index of the first datagram to send
     * @param count how many datagrams to send
     * @param maxDatagramSize the transport's {@link TransportCapabilities#maxDatagramSize()}
     * @throws NullPointerException if remote, the array or one of the datagrams to send is null
     * @throws IndexOutOfBoundsException if {@code offset} and {@code count} do not select a range of the array
     * @throws IllegalArgumentException if a datagram to send exceeds {@code maxDatagramSize}
     */
    static void checkBatch(Endpoint remote, ByteBuffer[] datagrams, int offset, int count, int maxDatagramSize) {
        java.util.Objects.requireNonNull(remote, "remote");
        java.util.Objects.checkFromIndexSize(offset, count, java.util.Objects.requireNonNull(datagrams, "datagrams").length);
        for (int i = offset; i < offset + count; i++) {
            ByteBuffer d = java.util.Objects.requireNonNull(datagrams[i], "datagrams[" + i + "]");
            if (d.remaining() > maxDatagramSize) {
                throw new IllegalArgumentException("datagrams[" + i + "] of " + d.remaining() + " bytes exceeds maxDatagramSize "
                        + maxDatagramSize);
            }
        }
    }

    /**
     * Sends one datagram without blocking and reports its outcome. Same contract as
     * {@link #send(Endpoint, ByteBuffer)}; in addition, when this returns {@code true} the callback
     * is called exactly once (see {@link SendCallback}), and when it returns {@code false} or
     * throws, never. What "completed" means depends on
     * {@link TransportCapabilities#sendCompletion()}.
     *
     * <p>The default implementation calls {@link #send(Endpoint, ByteBuffer)} and completes the
     * callback at once when the datagram was handed over.
     *
     * @param remote destination
     * @param datagram as for {@link #send(Endpoint, ByteBuffer)}
     * @param callback told the outcome
     * @return as for {@link #send(Endpoint, ByteBuffer)}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException as for {@link #send(Endpoint, ByteBuffer)}
     * @throws IllegalStateException unless STARTED
     */
    default boolean send(Endpoint remote, ByteBuffer datagram, SendCallback callback) {
        java.util.Objects.requireNonNull(callback, "callback");
        boolean accepted = send(remote, datagram);
        if (accepted) {
            callback.completed();
        }
        return accepted;
    }
}
