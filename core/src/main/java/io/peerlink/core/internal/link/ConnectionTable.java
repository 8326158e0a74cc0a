package io.peerlink.core.internal.link;

import io.peerlink.Endpoint;

import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The device's connection IDs, shared by the receive demultiplexers of all its transports: a
 * channel packet is routed by its destination connection ID alone, whichever transport and
 * source address it arrived from. That is what lets a session receive on a new path (another
 * transport, a rebound NAT port) before it has validated it (docs/architecture.md, "Sessions and
 * paths").
 */
public final class ConnectionTable {

    /** Receives the channel packets of one connection ID, on the event loop. */
    @FunctionalInterface
    public interface ChannelReceiver {
        /**
         * @param via the demultiplexer (and so the transport) it arrived on
         * @param source where it came from
         * @param datagram the whole datagram, positioned at its first byte; owned by the receiver
         */
        void onDatagram(LinkSocket via, Endpoint source, ByteBuffer datagram);
    }

    private final Map<Long, ChannelReceiver> receivers = new ConcurrentHashMap<>();

    /**
     * @param connectionId a local connection ID
     * @param receiver its receiver
     * @throws IllegalStateException if the ID is taken
     */
    public void register(long connectionId, ChannelReceiver receiver) {
        if (receivers.putIfAbsent(connectionId, receiver) != null) {
            throw new IllegalStateException("connection ID already registered: " + Long.toHexString(connectionId));
        }
    }

    /** @param connectionId a registered connection ID; unknown IDs are ignored */
    public void unregister(long connectionId) {
        receivers.remove(connectionId);
    }

    /**
     * @param connectionId a connection ID
     * @return true if it is registered
     */
    public boolean contains(long connectionId) {
        return receivers.containsKey(connectionId);
    }

    ChannelReceiver get(long connectionId) {
        return receivers.get(connectionId);
    }
}
