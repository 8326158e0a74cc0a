package io.peerlink.core.internal.link;

import io.peerlink.Endpoint;
import io.peerlink.core.internal.loop.EventLoop;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The receive demultiplexer of one transport: a device has one per transport, all sharing one
 * {@link ConnectionTable}. Datagrams are demultiplexed by the first byte and the destination
 * connection ID (docs/protocol-punching.md, "Demultiplexing"):
 * <ul>
 * <li>top bits {@code 00}: STUN (RFC 8489 section 6.3 / RFC 7983), to the STUN receiver;</li>
 * <li>PeerLink channel packets (0x40..0x4F): to the receiver registered for the connection ID in
 * the shared table, whichever transport they arrived on;</li>
 * <li>PeerLink set-up packets (0x50..0x5F): to the set-up receiver;</li>
 * <li>anything else: counted and dropped.</li>
 * </ul>
 * The transport calls {@link #onDatagram} on its receive thread with a buffer it reuses, so every
 * datagram that is kept is copied once and handed to the event loop; all receivers run there.
 *
 * <p>The hand-off is batched: the receive thread appends to an inbox and submits one drain task
 * only when none is pending, so a burst of datagrams costs one loop task, not one each. When the
 * transport declares {@code receiveBursts} (the UDP transport does), the task is submitted only
 * at the end of each burst ({@link #onBurstEnd()}): a loop that keeps up with the receive thread
 * would otherwise park and be woken (two {@code futex} calls) for every datagram. The
 * channel receiver is looked up on the loop, in arrival order with everything else the loop does:
 * a channel registered by a set-up packet (a handshake message) therefore receives the channel packets that
 * arrived right behind it. (Looking it up on the receive thread dropped them, typically the
 * peer's first MAX_DATA, and the sender then sat on 64 KiB of initial credit until the probe
 * timeout, about a second with the initial RTT.) At most {@link #MAX_PENDING_BYTES} (counting
 * {@link #PER_DATAGRAM_COST} per datagram on top of its length) wait in the inbox; beyond that they are dropped like a full socket buffer, so a flood cannot grow the
 * heap while the loop is busy.
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
    private final ConnectionTable channels;
    private volatile Receiver setupReceiver = (s, d) -> { };
    private volatile Receiver stunReceiver = (s, d) -> { };
    private volatile java.util.function.Consumer<Throwable> failureListener = f -> { };
    private volatile Runnable endpointListener = () -> { };
    private final AtomicLong dropped = new AtomicLong();

    /** Bytes handed over and not yet dispatched on the loop, at most: as much as the socket buffer. */
    public static final int MAX_PENDING_BYTES = 4 << 20;
    /** Bookkeeping charged per pending datagram (copy header, inbox node, entry). */
    public static final int PER_DATAGRAM_COST = 96;
    /** Datagrams dispatched per drain task before yielding the loop to other tasks. */
    private static final int DRAIN_BATCH = 256;

    private record Inbound(Endpoint source, ByteBuffer datagram, int kind) {
    }

    private static final int KIND_STUN = 0;
    private static final int KIND_CHANNEL = 1;
    private static final int KIND_SETUP = 2;
    private final ConcurrentLinkedQueue<Inbound> inbox = new ConcurrentLinkedQueue<>();
    private final AtomicInteger pending = new AtomicInteger();
    private final AtomicBoolean drainScheduled = new AtomicBoolean();
    private final Runnable drainTask = this::drain;
    /** The transport declares receiveBursts: the loop is woken at the end of a burst, not per datagram. */
    private final boolean bursts;

    /**
     * @param transport a transport in state CREATED; {@link #start()} starts it
     * @param loop the runtime's event loop
     */
    public LinkSocket(Transport transport, EventLoop loop) {
        this(transport, loop, new ConnectionTable());
    }

    /**
     * @param transport a transport in state CREATED; {@link #start()} starts it
     * @param loop the runtime's event loop
     * @param connections the device's connection table, shared with its other transports
     */
    public LinkSocket(Transport transport, EventLoop loop, ConnectionTable connections) {
        this.transport = transport;
        this.loop = loop;
        this.channels = connections;
        this.bursts = transport.capabilities().receiveBursts();
    }

    /** @return the connection table this demultiplexer routes channel packets with */
    public ConnectionTable connections() {
        return channels;
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

    /** @param listener told when the transport fails on its own (on the transport's thread) */
    public void onFailure(java.util.function.Consumer<Throwable> listener) {
        this.failureListener = listener;
    }

    /**
     * @param listener told when the transport's local endpoint changed while it kept running (a
     *        relay allocation replaced), on the transport's thread
     */
    public void onLocalEndpointChanged(Runnable listener) {
        this.endpointListener = listener;
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
        channels.register(connectionId, (via, source, datagram) -> receiver.onDatagram(source, datagram));
    }

    /** @param connectionId a registered connection ID; unknown IDs are ignored */
    public void unregister(long connectionId) {
        channels.unregister(connectionId);
    }

    /** @return datagrams dropped as unknown or unroutable */
    public long droppedDatagrams() {
        return dropped.get();
    }

    /**
     * @param remote destination
     * @param datagram the bytes
     * @return false if the transport dropped it, or was stopped (a per-link relay allocation released
     *         while a timer of its link set-up still fires)
     */
    public boolean send(Endpoint remote, ByteBuffer datagram) {
        Transport.State state = transport.state();
        if (state == Transport.State.STOPPED || state == Transport.State.DESTROYED) {
            dropped.incrementAndGet();
            return false;
        }
        return transport.send(remote, datagram);
    }

    /** @return true if the transport sends batches more cheaply than datagram by datagram */
    public boolean batches() {
        return transport.capabilities().batchSend();
    }

    /**
     * @param remote destination of every datagram
     * @param datagrams the datagrams {@code [0, count)}
     * @param count how many
     * @return how many the transport handed on
     */
    public int sendBatch(Endpoint remote, ByteBuffer[] datagrams, int count) {
        return transport.sendBatch(remote, datagrams, 0, count);
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
        int kind;
        if ((first & 0xC0) == 0) {
            kind = KIND_STUN;
        } else if (!LinkHeader.isPeerLink(first) || datagram.remaining() < LinkHeader.LENGTH) {
            dropped.incrementAndGet();
            return;
        } else if (first <= LinkHeader.CHANNEL_LAST) {
            kind = KIND_CHANNEL;
        } else {
            kind = KIND_SETUP;
        }
        int cost = datagram.remaining() + PER_DATAGRAM_COST;
        if (pending.get() + cost > MAX_PENDING_BYTES) {
            dropped.incrementAndGet();
            return;
        }
        ByteBuffer copy = ByteBuffer.allocate(datagram.remaining());
        copy.put(datagram).flip();
        pending.addAndGet(cost);
        inbox.add(new Inbound(source, copy, kind));
        if (!bursts) {
            scheduleDrain();
        }
    }

    /** The transport's burst ended: one loop task (and at most one wake-up) for all of it. */
    @Override
    public void onBurstEnd() {
        if (!inbox.isEmpty()) {
            scheduleDrain();
        }
    }

    private void scheduleDrain() {
        if (drainScheduled.compareAndSet(false, true)) {
            try {
                loop.execute(drainTask);
            } catch (RejectedExecutionException e) {
                // The runtime is shutting down: nothing will receive these datagrams.
                inbox.clear();
                pending.set(0);
            }
        }
    }

    /** Loop thread: dispatches a batch of handed-over datagrams. */
    private void drain() {
        // Cleared before polling: a datagram added after the last poll schedules a new drain.
        drainScheduled.set(false);
        for (int n = 0; n < DRAIN_BATCH; n++) {
            Inbound in = inbox.poll();
            if (in == null) {
                return;
            }
            pending.addAndGet(-(in.datagram.remaining() + PER_DATAGRAM_COST));
            try {
                switch (in.kind) {
                    case KIND_STUN -> stunReceiver.onDatagram(in.source, in.datagram);
                    case KIND_SETUP -> setupReceiver.onDatagram(in.source, in.datagram);
                    default -> {
                        ConnectionTable.ChannelReceiver r = channels.get(in.datagram.getLong(in.datagram.position() + 1));
                        if (r == null) {
                            dropped.incrementAndGet();
                        } else {
                            r.onDatagram(this, in.source, in.datagram);
                        }
                    }
                }
            } catch (RuntimeException e) {
                System.getLogger(LinkSocket.class.getName()).log(System.Logger.Level.WARNING,
                        "receiver failed on a datagram from " + in.source, e);
            }
        }
        if (!inbox.isEmpty()) {
            scheduleDrain();
        }
    }

    @Override
    public void onTransportFailure(Throwable failure) {
        System.getLogger(LinkSocket.class.getName()).log(System.Logger.Level.WARNING,
                "transport " + transport + " failed: " + failure);
        failureListener.accept(failure);
    }

    @Override
    public void onLocalEndpointChanged(Endpoint previous, Endpoint current) {
        System.getLogger(LinkSocket.class.getName()).log(System.Logger.Level.DEBUG,
                () -> "transport " + transport + " moved from " + previous + " to " + current);
        endpointListener.run();
    }

    /** Stops and destroys the transport. */
    public void close() {
        transport.destroy();
    }
}
