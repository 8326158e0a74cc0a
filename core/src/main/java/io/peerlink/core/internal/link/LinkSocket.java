package io.peerlink.core.internal.link;

import io.peerlink.Endpoint;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One transport shared by every link of a device, demultiplexed by the first byte and the
 * destination connection ID of each datagram (docs/protocol-punching.md, "Demultiplexing"):
 * <ul>
 * <li>top bits {@code 00}: STUN (RFC 8489 section 6.3 / RFC 7983), to the STUN receiver;</li>
 * <li>PeerLink channel packets (0x40..0x4F): to the receiver registered for the connection ID;</li>
 * <li>PeerLink set-up packets (0x50..0x5F): to the set-up receiver;</li>
 * <li>anything else: counted and dropped.</li>
 * </ul>
 * The transport calls {@link #onDatagram} on its receive thread with a buffer it reuses, so every
 * datagram that is kept is copied once and handed to the event loop; all receivers run there.
 */
public final class LinkSocket implements DatagramHandler {

    /** Receives datagrams on the event loop; the buffer belongs to the receiver. */
    @FunctionalInterface
    public interface Receiver {
        /**
         * @param source where the datagram came from
         * @param datagram the whole datagram, positioned at its first byte
         */
        void onDatagram(Endpoint source, ByteBuffer datagram);
    }

    private final Transport transport;
    private final EventLoop loop;
    private final Map<Long, Receiver> channels = new ConcurrentHashMap<>();
    private volatile Receiver setupReceiver = (s, d) -> { };
    private volatile Receiver stunReceiver = (s, d) -> { };
    private final AtomicLong dropped = new AtomicLong();

    /**
     * @param transport a transport in state CREATED; {@link #start()} starts it
     * @param loop the runtime's event loop
     */
    public LinkSocket(Transport transport, EventLoop loop) {
        this.transport = transport;
        this.loop = loop;
    }

    /** @throws IOException if the transport cannot bind */
    public void start() throws IOException {
        transport.start(this);
    }

    /** @return the transport */
    public Transport transport() {
        return transport;
    }

    /** @return the bound local endpoint */
    public Endpoint localEndpoint() {
        return transport.localEndpoint();
    }

    /** @param receiver receives set-up packets */
    public void onSetup(Receiver receiver) {
        this.setupReceiver = receiver;
    }

    /** @param receiver receives STUN messages */
    public void onStun(Receiver receiver) {
        this.stunReceiver = receiver;
    }

    /**
     * @param connectionId the local connection ID of a channel
     * @param receiver its receiver
     * @throws IllegalStateException if the ID is taken
     */
    public void register(long connectionId, Receiver receiver) {
        if (channels.putIfAbsent(connectionId, receiver) != null) {
            throw new IllegalStateException("connection ID already registered: " + Long.toHexString(connectionId));
        }
    }

    /** @param connectionId a registered connection ID; unknown IDs are ignored */
    public void unregister(long connectionId) {
        channels.remove(connectionId);
    }

    /** @return datagrams dropped as unknown or unroutable */
    public long droppedDatagrams() {
        return dropped.get();
    }

    /**
     * @param remote destination
     * @param datagram the bytes
     * @return false if the transport dropped it
     */
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        return transport.send(remote, datagram);
    }

    /**
     * Sends with the given TTL where the transport can, otherwise normally.
     *
     * @param remote destination
     * @param datagram the bytes
     * @param ttl IP time-to-live
     * @return false if dropped
     */
    public boolean sendWithTtl(Endpoint remote, ByteBuffer datagram, int ttl) {
        if (transport.capabilities().ttlControl()) {
            return transport.send(remote, datagram, ttl);
        }
        return transport.send(remote, datagram);
    }

    @Override
    public void onDatagram(Endpoint source, ByteBuffer datagram) {
        if (!datagram.hasRemaining()) {
            dropped.incrementAndGet();
            return;
        }
        int first = datagram.get(datagram.position()) & 0xff;
        Receiver target;
        if ((first & 0xC0) == 0) {
            target = stunReceiver;
        } else if (!LinkHeader.isPeerLink(first) || datagram.remaining() < LinkHeader.LENGTH) {
            dropped.incrementAndGet();
            return;
        } else if (first <= LinkHeader.CHANNEL_LAST) {
            target = channels.get(datagram.getLong(datagram.position() + 1));
            if (target == null) {
                dropped.incrementAndGet();
                return;
            }
        } else {
            target = setupReceiver;
        }
        ByteBuffer copy = ByteBuffer.allocate(datagram.remaining());
        copy.put(datagram).flip();
        Receiver r = target;
        loop.execute(() -> r.onDatagram(source, copy));
    }

    @Override
    public void onTransportFailure(Throwable failure) {
        System.getLogger(LinkSocket.class.getName()).log(System.Logger.Level.WARNING,
                "transport " + transport + " failed: " + failure);
    }

    /** Stops and destroys the transport. */
    public void close() {
        transport.destroy();
    }
}
