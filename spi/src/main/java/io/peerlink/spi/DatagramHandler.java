package io.peerlink.spi;

import io.peerlink.Endpoint;

import java.nio.ByteBuffer;

/**
 * Receives datagrams from a {@link Transport}. The single receive callback of a transport; it is
 * called on the transport's receive thread and must return quickly (the core hands work to its
 * own event loop).
 */
public interface DatagramHandler {

    /**
     * @param source where the datagram came from
     * @param datagram the datagram between position and limit; owned by the transport and valid
     *        only during this call (copy what you keep)
     */
    void onDatagram(Endpoint source, ByteBuffer datagram);

    /**
     * The transport failed and moved to {@link Transport.State#STOPPED} on its own (socket
     * closed underneath, broker gone). Default: ignore.
     *
     * @param failure what happened
     */
    default void onTransportFailure(Throwable failure) {
    }

    /**
     * The transport's local endpoint changed while it kept running: a relay transport lost its
     * allocation (the relay restarted) and got a new one, so peers must now send to
     * {@code current}. Datagrams sent from then on leave from {@code current}. Called on a
     * transport thread; must return quickly. Default: ignore.
     *
     * @param previous the endpoint peers can no longer reach
     * @param current the endpoint peers reach now
     */
    default void onLocalEndpointChanged(Endpoint previous, Endpoint current) {
    }

    /**
     * Receives a datagram together with what the transport knows about it. Transports that can
     * say more than the source endpoint (see {@link TransportCapabilities#peerAuthentication()})
     * call this method; the default forwards to {@link #onDatagram(Endpoint, ByteBuffer)}, so a
     * handler that needs no context implements only that one.
     *
     * @param source where the datagram came from
     * @param datagram as for {@link #onDatagram(Endpoint, ByteBuffer)}
     * @param context what else the transport knows; never null ({@link ReceiveContext#NONE})
     */
    default void onDatagram(Endpoint source, ByteBuffer datagram, ReceiveContext context) {
        onDatagram(source, datagram);
    }

    /**
     * The transport has delivered every datagram it had at hand and is about to wait for more (or
     * has delivered as many in a row as it delivers at once). Transports that declare
     * {@link TransportCapabilities#receiveBursts()} call it on the receive thread after every
     * burst of deliveries, never concurrently with {@code onDatagram}: every delivered datagram is
     * followed by a call before the transport waits for input again. A handler may therefore defer
     * per-burst work to it (the core wakes its event loop once per burst instead of once per
     * datagram). Other transports never call it. Default: nothing.
     */
    default void onBurstEnd() {
    }
}
