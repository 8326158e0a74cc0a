package io.peerlink.transport.udp;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.util.Objects;
import java.util.concurrent.locks.StampedLock;

/**
 * The UDP transport's batched system calls on a {@link DatagramChannel} that someone else owns:
 * {@code sendmmsg(2)} with UDP segmentation offload for a batch of datagrams to one destination,
 * and, if asked for, {@code UDP_GRO} receives that return a run of same-sized datagrams in one
 * read. The same code as {@link UdpTransport}'s {@code sendBatch} and receive thread, with the
 * same limits and fallbacks (64-bit Linux and JNA; segmentation switched off for a socket whose
 * kernel refuses it).
 *
 * <p><b>Not part of the transport API.</b> This class is public only so that PeerLink's own
 * modules that drive their own UDP sockets — the TURN client's UDP leg and the embedded TURN
 * server in {@code peerlink-relay} — use this batching instead of a copy of it. Its signatures may
 * change in any release; applications send batches through {@link io.peerlink.spi.Transport#sendBatch}.
 *
 * <p>Lifecycle: {@link #attach} finds the channel's file descriptor (once, by scanning the
 * process's descriptors, see {@code SocketTtl}); from then on the channel must be closed through
 * {@link #close()}, which waits for a system call in progress, so that no call ever reaches a
 * descriptor number the kernel has meanwhile given to another file. Sends may come from any
 * threads; {@link #receive()} from one thread at a time.
 */
public final class BatchedDatagramChannel implements AutoCloseable {

    /** Datagrams per coalesced read at most (the kernel's UDP_MAX_SEGMENTS before Linux 6.9). */
    public static final int MAX_SEGMENTS = BatchSend.MAX_SEGMENTS;

    private final DatagramChannel channel;
    private final int fd;
    private final boolean ipv6Socket;
    private final BatchSend batch;
    private final BatchSend.SocketState state;
    private final BatchReceive coalesced;
    private final Object local;
    /** Read side: a system call on {@link #fd}; write side: closing the channel. */
    private final StampedLock lock = new StampedLock();
    private volatile boolean closed;

    private BatchedDatagramChannel(DatagramChannel channel, int fd, boolean ipv6Socket, BatchSend batch,
                                   BatchReceive coalesced, Object local) {
        this.channel = channel;
        this.fd = fd;
        this.ipv6Socket = ipv6Socket;
        this.batch = batch;
        this.state = new BatchSend.SocketState(batch.segmentationSupported(fd));
        this.coalesced = coalesced;
        this.local = local;
    }

    /**
     * @return why this JVM cannot batch (not 64-bit Linux, JNA or a libc symbol missing), or null
     *         when {@link #attach} can succeed
     */
    public static String unavailableReason() {
        String reason = BatchSend.unavailableReason();
        if (reason == null && SocketTtl.instance() == null) {
            reason = SocketTtl.unavailableReason();
        }
        return reason;
    }

    /**
     * Attaches to a bound channel.
     *
     * @param channel an open, bound channel; from now on close it through {@link #close()}
     * @param family the family the channel was opened with ({@code INET6} for a dual-stack socket)
     * @param receiveBuffer null to leave receiving to the channel; otherwise a direct buffer of at
     *        least 65,536 bytes that every {@link #receive()} reads into, and {@code UDP_GRO} is
     *        turned on, so that every read of the socket must go through {@link #receive()} from
     *        then on if {@link #coalescedReceive()} is true
     * @return the batching view of the channel, or null if this JVM or socket cannot batch (then
     *         nothing was changed; keep using the channel as before)
     * @throws IllegalArgumentException if the receive buffer is not direct or too small
     */
    public static BatchedDatagramChannel attach(DatagramChannel channel, StandardProtocolFamily family, ByteBuffer receiveBuffer) {
        Objects.requireNonNull(channel, "channel");
        Objects.requireNonNull(family, "family");
        if (receiveBuffer != null && (!receiveBuffer.isDirect() || receiveBuffer.capacity() < 65_536)) {
            throw new IllegalArgumentException("the receive buffer must be direct and hold 65,536 bytes");
        }
        BatchSend batch = BatchSend.instance();
        SocketTtl descriptors = batch != null ? SocketTtl.instance() : null;
        if (descriptors == null) {
            return null;
        }
        boolean ipv6 = family == StandardProtocolFamily.INET6;
        Object local;
        int fd;
        try {
            local = channel.getLocalAddress();
            fd = descriptors.fd(channel, ipv6);
        } catch (IOException | RuntimeException e) {
            System.getLogger(BatchedDatagramChannel.class.getName()).log(System.Logger.Level.WARNING,
                    "UDP " + channel + ": no batched system calls, cannot find the socket's file descriptor: " + e.getMessage());
            return null;
        }
        BatchReceive rx = receiveBuffer != null ? BatchReceive.enable(fd, receiveBuffer, local) : null;
        if (rx != null && channel.isConnected()) {
            rx.reportUnreachable();
        }
        return new BatchedDatagramChannel(channel, fd, ipv6, batch, rx, local);
    }

    /** @return true if {@link #receive()} reads the socket ({@code UDP_GRO} is on) */
    public boolean coalescedReceive() {
        return coalesced != null;
    }

    /**
     * Sends {@code datagrams[offset, offset + count)} to {@code to} with as few system calls as
     * possible, without waiting: stops at the first datagram for which the socket buffer has no
     * room (that one and the rest are dropped, as the UDP transport drops them). Every position is
     * advanced to its limit. A datagram to an unreachable destination is lost, not an error.
     *
     * @return how many datagrams the kernel accepted
     * @throws ClosedChannelException after {@link #close()}
     */
    public int send(InetSocketAddress to, ByteBuffer[] datagrams, int offset, int count) throws ClosedChannelException {
        Objects.requireNonNull(to, "to");
        Objects.checkFromIndexSize(offset, count, datagrams.length);
        long stamp = lock.readLock();
        try {
            if (closed) {
                throw new ClosedChannelException();
            }
            return batch.send(fd, state, ipv6Socket, to, datagrams, offset, count, local);
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /**
     * Reads the next datagram, or run of same-sized datagrams from one source, into the receive
     * buffer given to {@link #attach}, without waiting. Only when {@link #coalescedReceive()}.
     *
     * @return the bytes read (datagrams of {@link #segmentSize()} bytes back to back, the last may
     *         be shorter), or -1 if nothing is at hand
     * @throws ClosedChannelException after {@link #close()}
     * @throws java.net.PortUnreachableException on a connected channel, for an ICMP port
     *         unreachable of an earlier send (as {@code DatagramChannel.read}); the channel stays usable
     * @throws IOException if the socket failed (on an unconnected channel, not for an ICMP error of an earlier send)
     */
    public int receive() throws IOException {
        if (coalesced == null) {
            throw new IllegalStateException("attached without a receive buffer, or UDP_GRO was refused");
        }
        long stamp = lock.readLock();
        try {
            if (closed) {
                throw new ClosedChannelException();
            }
            return coalesced.receive();
        } finally {
            lock.unlockRead(stamp);
        }
    }

    /** @return the size of each datagram of the last {@link #receive()}, or 0 if it read one datagram */
    public int segmentSize() {
        return coalesced.segmentSize();
    }

    /** @return the last {@link #receive()}'s source; the same instance while the source does not change */
    public InetSocketAddress source() throws IOException {
        return coalesced.source();
    }

    /** Closes the channel once no system call is in progress on it. Idempotent. */
    @Override
    public void close() {
        long stamp = lock.writeLock();
        try {
            closed = true;
            channel.close();
        } catch (IOException ignored) {
            // A datagram socket has nothing to flush.
        } finally {
            lock.unlockWrite(stamp);
        }
    }

    @Override
    public String toString() {
        return "BatchedDatagramChannel[" + local + ", segmentation " + state.segmentation + ", coalesced receive "
                + coalescedReceive() + "]";
    }
}
