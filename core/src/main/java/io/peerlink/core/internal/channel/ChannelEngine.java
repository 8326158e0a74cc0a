package io.peerlink.core.internal.channel;

import io.peerlink.ChannelClosedException;
import io.peerlink.ChannelOptions;
import io.peerlink.ChannelStats;
import io.peerlink.CloseReason;
import io.peerlink.Delivery;
import io.peerlink.MessageHandler;
import io.peerlink.ReliableChannel;
import io.peerlink.SendBufferFullException;
import io.peerlink.core.internal.loop.EventLoop;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.HashMap;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The reliable channel: ARQ, flow and congestion control over one {@link DatagramPath}
 * (docs/protocol-channel.md). Public methods are thread-safe and hand their work to the event
 * loop; {@link #onDatagram} and {@link #setPath} run on the loop thread, where all protocol state
 * lives. Send futures complete, and the message handler runs, on the loop thread.
 *
 * <p>Every queue is bounded: messages and datagrams waiting to be sent by the send buffer
 * (each costs its length plus {@link #MESSAGE_OVERHEAD}), fragments awaiting retransmission by
 * the messages they belong to, received messages by the flow-control credit this side granted,
 * ACK ranges by {@link AckTracker#MAX_RANGES}.
 */
public final class ChannelEngine implements ReliableChannel {
    /** Credit and send-buffer bytes charged per message on top of its length. */
    public static final int MESSAGE_OVERHEAD = 64;
    /** Credit a sender may use before the first MAX_DATA arrives. */
    public static final long INITIAL_CREDIT = 64 << 10;
    private static final int MAX_CLOSE_REPLIES = 8;
    /** Packets one flush may send before yielding the loop to other tasks. */
    private static final int PACKETS_PER_FLUSH = 64;
    private static final System.Logger LOG = System.getLogger(ChannelEngine.class.getName());

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final EventLoop loop;
    private final long localConnectionId;
    private final long remoteConnectionId;
    private final ChannelOptions options;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final CompletableFuture<CloseReason> closedFuture = new CompletableFuture<>();
    private volatile CloseReason closeReason;
    private volatile DatagramPath path;
    private volatile int datagramSize;
    private volatile MessageHandler handler;
    private PathObserver pathObserver;

    // shared with sending threads
    private final AtomicLong buffered = new AtomicLong();
    private final Object writableLock = new Object();
    private CompletableFuture<Void> writable;

    // loop-confined from here on
    private final PacketCodec packetCodec = new PacketCodec();
    private final Frame frame = new Frame();
    private final SentPacketTracker tracker;
    private final AckTracker acks;
    private final Listener listener = new Listener();
    private ByteBuffer out;

    private final ArrayDeque<OutboundMessage> sendQueue = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> datagramQueue = new ArrayDeque<>();
    private final ArrayDeque<Fragment> retransmitQueue = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> inflightOrdered = new ArrayDeque<>();
    private final ArrayDeque<OutboundMessage> inflightUnordered = new ArrayDeque<>();
    private long nextOrderedNumber;
    private long nextUnorderedNumber;
    private long peerMaxData = INITIAL_CREDIT;
    private long creditUsed;

    private final MessageWindow orderedWindow = new MessageWindow();
    private final MessageWindow unorderedWindow = new MessageWindow();
    private HashMap<Long, InboundMessage> orderedInbound;
    private HashMap<Long, InboundMessage> unorderedInbound;
    private ArrayDeque<InboundMessage> heldUnordered;
    private long nextToDeliver;
    private final long window;
    private long creditHeld;
    private long creditReleased;
    private long maxDataGranted;
    private boolean maxDataPending;

    private long ackFrequencySequence = -1;
    private int ackFrequencySent = -1;
    private boolean ackFrequencyPending;
    private boolean pathResponsePending;
    private long pathResponseData;
    private boolean pingPending;
    private boolean userPingPending;
    private CompletableFuture<Duration> pingFuture;
    private int probesPending;

    private EventLoop.Timer timer;
    private long timerAt = Long.MAX_VALUE;
    private long pacingWakeup = Long.MAX_VALUE;
    private long lastReceived;
    private long lastSent;
    private final long idleNanos;
    private final long keepaliveNanos;
    private boolean flushScheduled;

    private boolean closeRequested;
    private boolean peerCloseReceived;
    private long closeDeadline = Long.MAX_VALUE;
    private boolean closeFramePending;
    private boolean closeSent;
    private long closeResendAt = Long.MAX_VALUE;
    private int closeResends;
    private int closeCode = -1;
    private byte[] closeReasonBytes = new byte[0];
    private int closeRepliesLeft = MAX_CLOSE_REPLIES;

    private long datagramsSent;
    private long datagramsReceived;
    private long bytesSent;
    private long bytesReceived;
    private long payloadBytesSent;
    private long payloadBytesDelivered;
    private long retransmittedBytes;
    private long ackBytesSent;
    private long corruptDropped;
    long probeTimeouts;
    long timerRuns;
    long pacingStalls;
    long cwndStalls;

    /**
     * @param loop the runtime's event loop; all state is confined to it
     * @param localConnectionId the connection ID the peer puts in our packets
     * @param remoteConnectionId the connection ID we put in the peer's packets
     * @param path the initial path
     * @param options tuning
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the path's datagrams are too small for a packet
     */
    public ChannelEngine(EventLoop loop, long localConnectionId, long remoteConnectionId,
                         DatagramPath path, ChannelOptions options) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.options = Objects.requireNonNull(options, "options");
        this.path = Objects.requireNonNull(path, "path");
        this.localConnectionId = localConnectionId;
        this.remoteConnectionId = remoteConnectionId;
        this.datagramSize = usableSize(path);
        this.tracker = new SentPacketTracker(datagramSize, options.initialRtt().toNanos(),
                options.maxAckDelay().toNanos(), Math.max(options.sendBufferSize(), 1L << 20) * 2);
        this.acks = new AckTracker(options.ackEveryPackets(), options.maxAckDelay().toNanos());
        // The window covers the largest message plus its overhead, with room to spare, so a sender
        // blocked on credit is always unblocked once everything before it is delivered.
        this.window = Math.max(options.receiveWindow(), (long) options.maxMessageSize() + MESSAGE_OVERHEAD + 8192);
        this.maxDataGranted = Math.max(INITIAL_CREDIT, window);
        this.idleNanos = options.idleTimeout().toNanos();
        this.keepaliveNanos = options.keepaliveInterval().toNanos();
        this.lastReceived = loop.nanoTime();
        this.lastSent = lastReceived;
    }

    private int usableSize(DatagramPath p) {
        int size = Math.min(p.maxDatagramSize(), options.maxDatagramSize());
        if (size < PacketCodec.OVERHEAD + 64) {
            throw new IllegalArgumentException("path datagrams of " + size + " bytes are too small for channel packets");
        }
        return size;
    }

    /** Starts timers (keepalive/idle) and grants the peer its credit. Call once, any thread. */
    public void start() {
        onLoop(() -> {
            long now = loop.nanoTime();
            lastReceived = now;
            lastSent = now;
            maxDataPending = true;
        });
    }

    /** @return our connection ID */
    public long localConnectionId() {
        return localConnectionId;
    }

    // ------------------------------------------------------------------ API, any thread

    @Override
    public CompletionStage<Void> send(ByteBuffer message) {
        return send(message, Delivery.ORDERED);
    }

    @Override
    public CompletionStage<Void> send(ByteBuffer message, Delivery delivery) {
        Objects.requireNonNull(message, "message");
        Objects.requireNonNull(delivery, "delivery");
        int len = message.remaining();
        if (delivery == Delivery.UNRELIABLE) {
            if (len > maxUnreliableSize()) {
                throw new IllegalArgumentException("unreliable message of " + len + " bytes exceeds maxUnreliableSize " + maxUnreliableSize());
            }
        } else if (len > options.maxMessageSize()) {
            throw new IllegalArgumentException("message of " + len + " bytes exceeds maxMessageSize " + options.maxMessageSize());
        }
        if (state.get() != OPEN) {
            return CompletableFuture.failedFuture(closedException());
        }
        long cost = len + (long) MESSAGE_OVERHEAD;
        long limit = options.sendBufferSize();
        long cur;
        do {
            cur = buffered.get();
            if (cur > 0 && cur + cost > limit) {
                return CompletableFuture.failedFuture(new SendBufferFullException(len, cur, limit));
            }
        } while (!buffered.compareAndSet(cur, cur + cost));
        ByteBuffer copy = ByteBuffer.allocate(len);
        copy.put(message.duplicate()).flip();
        CompletableFuture<Void> future = new CompletableFuture<>();
        OutboundMessage m = new OutboundMessage(copy, delivery, future, cost);
        try {
            loop.execute(() -> {
                enqueue(m);
                afterEvent();
            });
        } catch (RejectedExecutionException e) {
            release(cost);
            future.completeExceptionally(new ChannelClosedException(new CloseReason(CloseReason.SHUTDOWN, "event loop stopped", false)));
        }
        return future;
    }

    @Override
    public int maxUnreliableSize() {
        int size = datagramSize;
        int room = size - PacketCodec.OVERHEAD - 1;
        return room - Varint.size(room);
    }

    @Override
    public void onMessage(MessageHandler handler) {
        this.handler = Objects.requireNonNull(handler, "handler");
        onLoop(this::deliverHeld);
    }

    @Override
    public CompletionStage<Void> whenWritable() {
        synchronized (writableLock) {
            if (state.get() == CLOSED) {
                return CompletableFuture.failedFuture(closedException());
            }
            if (writableNow(buffered.get())) {
                return CompletableFuture.completedFuture(null);
            }
            if (writable == null) {
                writable = new CompletableFuture<>();
            }
            return writable.minimalCompletionStage();
        }
    }

    @Override
    public CompletionStage<CloseReason> close() {
        state.compareAndSet(OPEN, CLOSING);
        onLoop(() -> {
            if (state.get() == CLOSED || closeRequested) {
                return;
            }
            closeRequested = true;
            if (closeDeadline == Long.MAX_VALUE) {
                closeDeadline = loop.nanoTime() + options.closeTimeout().toNanos();
            }
            maybeStartCloseHandshake();
        });
        return closedFuture.minimalCompletionStage();
    }

    @Override
    public void abort() {
        state.compareAndSet(OPEN, CLOSING);
        onLoop(() -> closeNow(CloseReason.ABORTED, "aborted by the application"));
    }

    @Override
    public CompletionStage<CloseReason> closed() {
        return closedFuture.minimalCompletionStage();
    }

    @Override
    public boolean isOpen() {
        return state.get() == OPEN;
    }

    /**
     * Measures the round-trip time: completes with the time from sending an ack-eliciting
     * packet to its acknowledgement. Concurrent calls share one measurement.
     *
     * @return the RTT, or fails with {@link ChannelClosedException}
     */
    public CompletionStage<Duration> ping() {
        CompletableFuture<Duration> f = new CompletableFuture<>();
        onLoop(() -> {
            if (state.get() == CLOSED) {
                f.completeExceptionally(closedException());
            } else if (pingFuture != null) {
                pingFuture.whenComplete((d, e) -> {
                    if (e != null) {
                        f.completeExceptionally(e);
                    } else {
                        f.complete(d);
                    }
                });
            } else {
                pingFuture = f;
                userPingPending = true;
                pingPending = true;
            }
        });
        return f;
    }

    /**
     * Counters. Read on the loop thread they are exact; read elsewhere each value is a recent one.
     */
    @Override
    public ChannelStats stats() {
        return new ChannelStats(datagramsSent, datagramsReceived, bytesSent, bytesReceived, payloadBytesSent,
                payloadBytesDelivered, retransmittedBytes, ackBytesSent, tracker.packetsLost(),
                Duration.ofNanos(tracker.smoothedRtt()), Duration.ofNanos(tracker.rttVariation()),
                tracker.congestionWindow(), tracker.bytesInFlight());
    }

    /** @return internal state for diagnostics (loop thread) */
    String debugState() {
        return "state=" + state.get() + " sendQueue=" + sendQueue.size() + " retransmit=" + retransmitQueue.size()
                + " inflightMsgs=" + inflightOrdered.size() + " credit=" + creditUsed + "/" + peerMaxData
                + " cwnd=" + tracker.congestionWindow() + " inFlight=" + tracker.bytesInFlight()
                + " ptoCount=" + tracker.ptoCount() + " deadline=" + (tracker.deadline() - loop.nanoTime())
                + " timerAt=" + (timerAt - loop.nanoTime()) + " pacing=" + (pacingWakeup - loop.nanoTime())
                + " next=" + tracker.nextPacketNumber() + " base=" + tracker.base() + " largestAcked=" + tracker.largestAcked()
                + " acks.largest=" + acks.largest() + " " + stats();
    }

    /** @return datagrams dropped because their integrity tag did not verify */
    public long corruptDatagramsDropped() {
        return corruptDropped;
    }

    @Override
    public ChannelOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ loop thread entry points

    /**
     * One whole received datagram including the 9-byte LinkHeader, whose connection ID equals
     * localConnectionId. Loop thread only; the buffer is valid only during the call. Never
     * throws: a malformed packet closes the channel with PROTOCOL_VIOLATION.
     *
     * @param datagram the datagram between position and limit
     */
    public void onDatagram(ByteBuffer datagram) {
        onDatagram(datagram, path);
    }

    /**
     * As {@link #onDatagram(ByteBuffer)}, for a datagram that arrived on a given path: a
     * PATH_CHALLENGE in it is answered on that path (RFC 9000 8.2.2), and the
     * {@linkplain #setPathObserver path observer} learns which path the packet came on.
     *
     * @param datagram the datagram between position and limit
     * @param arrivedOn the path it arrived on (the session's, possibly not the current one)
     */
    public void onDatagram(ByteBuffer datagram, DatagramPath arrivedOn) {
        try {
            receive(datagram, Objects.requireNonNull(arrivedOn, "arrivedOn"));
        } catch (FrameFormatException e) {
            closeNow(CloseReason.PROTOCOL_VIOLATION, e.getMessage());
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "channel " + Long.toHexString(localConnectionId) + ": internal error on a received packet", e);
            closeNow(CloseReason.PROTOCOL_VIOLATION, "internal error on a received packet: " + e);
        }
        afterEvent();
    }

    /**
     * Switches to another path (NAT rebinding, relay to direct). Loop thread only. Congestion
     * and RTT state reset (RFC 9000 9.4); outstanding data is retransmitted on the new path as
     * needed, so no message is lost or duplicated.
     *
     * @param newPath the new path
     * @throws NullPointerException if newPath is null
     * @throws IllegalArgumentException if its datagrams are too small
     */
    public void setPath(DatagramPath newPath) {
        int size = usableSize(Objects.requireNonNull(newPath, "path"));
        this.path = newPath;
        if (size != datagramSize) {
            datagramSize = size;
            out = null;
        }
        tracker.resetPath(size);
        afterEvent();
    }

    /**
     * What a link session learns from received packets, to manage its paths. Loop thread.
     */
    public interface PathObserver {
        /**
         * A packet opened with the channel's keys and was new (not a duplicate); its frames have
         * been processed.
         *
         * @param arrivedOn the path it arrived on, as given to {@link #onDatagram(ByteBuffer, DatagramPath)}
         * @param size datagram bytes
         * @param largest true if its packet number is the largest received so far
         * @param probing true if it carried only PATH_CHALLENGE, PATH_RESPONSE and PADDING
         *        frames (RFC 9000 9.1: such a packet never makes the peer switch paths)
         */
        void onPacket(DatagramPath arrivedOn, int size, boolean largest, boolean probing);

        /**
         * A PATH_RESPONSE arrived.
         *
         * @param arrivedOn the path it arrived on
         * @param data the 8 bytes it echoes
         */
        void onPathResponse(DatagramPath arrivedOn, long data);
    }

    /** @param observer told about received packets and path responses; loop thread */
    public void setPathObserver(PathObserver observer) {
        this.pathObserver = observer;
    }

    /** @return the path packets are sent on now */
    public DatagramPath path() {
        return path;
    }

    /**
     * Sends a probing packet (PATH_CHALLENGE, padded to at most {@code size} bytes) on a path that
     * need not be the current one. It takes the next packet number but is not ack-eliciting for
     * loss recovery: the caller retries a lost challenge itself. Loop thread.
     *
     * @param via the path to probe
     * @param data the 8 challenge bytes the response must echo
     * @param size datagram size to pad to (clamped to the channel's packet size and at least the
     *        unpadded packet)
     * @return whatever {@code via.send} returned
     */
    public boolean sendPathChallenge(DatagramPath via, long data, int size) {
        return sendProbing(via, false, data, size);
    }

    private boolean sendProbing(DatagramPath via, boolean response, long data, int size) {
        if (state.get() == CLOSED) {
            return false;
        }
        ByteBuffer b = ByteBuffer.allocate(datagramSize);
        b.limit(datagramSize - PacketCodec.TAG_LENGTH);
        SentPacket sp = tracker.open();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber());
        FrameCodec.encodePath(b, response, data);
        int padTo = Math.min(Math.max(size, b.position() + PacketCodec.TAG_LENGTH), datagramSize) - PacketCodec.TAG_LENGTH;
        while (b.position() < padTo) {
            b.put((byte) Frame.TYPE_PADDING);
        }
        b.limit(datagramSize);
        packetCodec.seal(b, 0);
        int sent = b.position();
        b.flip();
        long now = loop.nanoTime();
        tracker.commit(sp, now, sent, false);
        datagramsSent++;
        bytesSent += sent;
        try {
            return via.send(b);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "probing packet not sent", e);
            return false;
        }
    }

    // ------------------------------------------------------------------ internals

    private void onLoop(Runnable task) {
        try {
            loop.execute(() -> {
                task.run();
                afterEvent();
            });
        } catch (RejectedExecutionException e) {
            // The runtime is shutting down; nothing will run on this channel again.
            finish(new CloseReason(CloseReason.SHUTDOWN, "event loop stopped", false));
        }
    }

    private ChannelClosedException closedException() {
        CloseReason r = closeReason;
        return new ChannelClosedException(r != null ? r : new CloseReason(CloseReason.NORMAL, "channel is closing", false));
    }

    /**
     * Writable means a message of the usual large size fits again: room for the largest message
     * (or for half the buffer, if messages may be as large as the buffer), or an empty buffer.
     * A caller woken by whenWritable after a refusal therefore does not spin on the next refusal.
     */
    private boolean writableNow(long bufferedBytes) {
        long limit = options.sendBufferSize();
        long room = Math.min((long) options.maxMessageSize() + MESSAGE_OVERHEAD, limit / 2);
        return bufferedBytes == 0 || bufferedBytes + room <= limit;
    }

    private void release(long bytes) {
        long now = buffered.addAndGet(-bytes);
        if (writableNow(now)) {
            CompletableFuture<Void> w;
            synchronized (writableLock) {
                w = writable;
                writable = null;
            }
            if (w != null) {
                w.complete(null);
            }
        }
    }

    private void enqueue(OutboundMessage m) {
        if (state.get() == CLOSED || closeSent || closeFramePending) {
            release(m.reserved);
            m.future.completeExceptionally(closedException());
            return;
        }
        if (m.delivery == Delivery.UNRELIABLE) {
            datagramQueue.add(m);
        } else {
            m.number = m.unordered() ? nextUnorderedNumber++ : nextOrderedNumber++;
            sendQueue.add(m);
        }
    }

    private void afterEvent() {
        if (state.get() == CLOSED) {
            cancelTimer();
            return;
        }
        flush();
        armTimer();
    }

    // ---- sending

    private boolean hasElicitingWork() {
        if (maxDataPending || pathResponsePending || pingPending || probesPending > 0
                || !retransmitQueue.isEmpty() || !datagramQueue.isEmpty()) {
            return true;
        }
        OutboundMessage m = sendQueue.peek();
        return m != null && (m.started || canStart(m));
    }

    private boolean canStart(OutboundMessage m) {
        if (creditUsed + m.length + MESSAGE_OVERHEAD > peerMaxData) {
            return false;
        }
        ArrayDeque<OutboundMessage> inflight = m.unordered() ? inflightUnordered : inflightOrdered;
        OutboundMessage oldest = inflight.peek();
        return oldest == null || m.number < oldest.number + MessageWindow.SPAN;
    }

    private void flush() {
        long now = loop.nanoTime();
        for (int sent = 0; sent < PACKETS_PER_FLUSH; sent++) {
            if (state.get() == CLOSED) {
                return;
            }
            boolean ackDue = acks.ackDue(now);
            boolean mayElicit = hasElicitingWork();
            if (mayElicit && probesPending == 0) {
                if (!tracker.congestionAllows(datagramSize)) {
                    cwndStalls++;
                    mayElicit = false;
                } else {
                    long delay = tracker.pacingDelay(now, datagramSize);
                    if (delay > 0) {
                        pacingWakeup = now + delay;
                        pacingStalls++;
                        mayElicit = false;
                    }
                }
            }
            if (!mayElicit && !ackDue && !closeFramePending) {
                return;
            }
            if (!sendPacket(now, mayElicit)) {
                return;
            }
        }
        if (!flushScheduled) {
            flushScheduled = true;
            loop.execute(() -> {
                flushScheduled = false;
                afterEvent();
            });
        }
    }

    private ByteBuffer outBuffer() {
        if (out == null || out.capacity() != datagramSize) {
            out = ByteBuffer.allocate(datagramSize);
        }
        return out;
    }

    /** Builds and sends one packet; false if there was nothing to put in it. */
    private boolean sendPacket(long now, boolean mayElicit) {
        ByteBuffer b = outBuffer();
        b.clear();
        b.limit(datagramSize - PacketCodec.TAG_LENGTH);
        SentPacket sp = tracker.open();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber());
        boolean any = false;
        boolean eliciting = false;
        boolean hasAck = false;
        boolean hasClose = false;
        boolean immediateAck = false;
        if (acks.hasUnacknowledged() && acks.hasRanges() && acks.ackSize(now) <= b.remaining()) {
            acks.writeAck(b, now);
            any = true;
            hasAck = true;
        }
        if (closeFramePending && FrameCodec.closeSize(closeCode, closeReasonBytes) <= b.remaining()) {
            FrameCodec.encodeClose(b, closeCode, closeReasonBytes);
            closeFramePending = false;
            closeSent = true;
            any = true;
            hasClose = true;
        }
        if (mayElicit && !hasClose) {
            eliciting = writeElicitingFrames(b, sp);
            any |= eliciting;
            if (eliciting && b.hasRemaining() && lastPacketForNow(b.position() + PacketCodec.TAG_LENGTH)) {
                // The sender stalls after this packet until an ACK arrives: do not let the
                // receiver sit on it for maxAckDelay (QUIC ack-frequency's IMMEDIATE_ACK).
                FrameCodec.encodeImmediateAck(b);
                immediateAck = true;
            }
        }
        if (!any) {
            return false;
        }
        b.limit(datagramSize);
        packetCodec.seal(b, 0);
        int size = b.position();
        b.flip();
        if (eliciting && probesPending > 0) {
            probesPending--;
        }
        tracker.commit(sp, now, size, eliciting, immediateAck);
        path.send(b);
        datagramsSent++;
        bytesSent += size;
        lastSent = now;
        if (hasAck && !eliciting && !hasClose) {
            ackBytesSent += size;
        }
        if (hasClose && peerCloseReceived && closeCode == CloseReason.NORMAL) {
            // We answered the peer's graceful close; everything of ours is acknowledged.
            finish(new CloseReason(CloseReason.NORMAL, "closed by peer", !closeRequested));
        }
        return true;
    }

    private boolean lastPacketForNow(int size) {
        if (!tracker.congestionAllows(size + datagramSize)) {
            return true;
        }
        return retransmitQueue.isEmpty() && datagramQueue.isEmpty()
                && (sendQueue.isEmpty() || !(sendQueue.peek().started || canStart(sendQueue.peek())));
    }

    private boolean writeElicitingFrames(ByteBuffer b, SentPacket sp) {
        boolean eliciting = false;
        if (maxDataPending && FrameCodec.maxDataSize(maxDataGranted) <= b.remaining()) {
            FrameCodec.encodeMaxData(b, maxDataGranted);
            sp.addFlag(SentPacket.FLAG_MAX_DATA);
            maxDataPending = false;
            eliciting = true;
        }
        if (ackFrequencyPending && FrameCodec.ackFrequencySize(ackFrequencySequence, ackFrequencySent) <= b.remaining()) {
            FrameCodec.encodeAckFrequency(b, ackFrequencySequence, ackFrequencySent);
            sp.addFlag(SentPacket.FLAG_ACK_FREQUENCY);
            ackFrequencyPending = false;
            eliciting = true;
        }
        if (pathResponsePending && b.remaining() >= 9) {
            FrameCodec.encodePath(b, true, pathResponseData);
            pathResponsePending = false;
            eliciting = true;
        }
        eliciting |= writeRetransmissions(b, sp);
        eliciting |= writeNewData(b, sp);
        while (!datagramQueue.isEmpty()) {
            OutboundMessage d = datagramQueue.peek();
            if (1 + Varint.size(d.length) + d.length > b.remaining()) {
                break;
            }
            datagramQueue.poll();
            FrameCodec.encodeDatagram(b, d.data, 0, d.length);
            payloadBytesSent += d.length;
            release(d.reserved);
            d.future.complete(null);
            eliciting = true;
        }
        if ((pingPending || probesPending > 0) && !eliciting && b.remaining() >= 1) {
            FrameCodec.encodePing(b);
            eliciting = true;
        }
        if (eliciting) {
            pingPending = false;
            if (userPingPending) {
                sp.addFlag(SentPacket.FLAG_PING);
                userPingPending = false;
            }
        }
        return eliciting;
    }

    private int fragmentRoom() {
        // Payload bytes a DATA frame can carry in an otherwise empty packet (worst-case header).
        return datagramSize - PacketCodec.OVERHEAD - 1 - 8 - 8 - 8 - Varint.size(datagramSize);
    }

    private boolean writeRetransmissions(ByteBuffer b, SentPacket sp) {
        boolean wrote = false;
        while (!retransmitQueue.isEmpty()) {
            Fragment f = retransmitQueue.peek();
            if (f.acked || f.message.done) {
                retransmitQueue.poll();
                f.queued = false;
                continue;
            }
            OutboundMessage m = f.message;
            int header = FrameCodec.dataHeaderSize(m.number, m.length, f.offset, f.length);
            if (header + f.length > b.remaining()) {
                if (f.length > fragmentRoom()) {
                    split(f);
                    continue;
                }
                break;
            }
            retransmitQueue.poll();
            f.queued = false;
            FrameCodec.encodeData(b, m.unordered(), m.number, m.length, f.offset, m.data, f.offset, f.length);
            sp.addItem(f);
            retransmittedBytes += f.length;
            wrote = true;
        }
        return wrote;
    }

    /** Splits a fragment that no longer fits the path (smaller MTU after migration). */
    private void split(Fragment f) {
        retransmitQueue.poll();
        f.queued = false;
        int room = fragmentRoom();
        int pieces = (f.length + room - 1) / room;
        Fragment[] children = new Fragment[pieces];
        for (int i = 0; i < pieces; i++) {
            int off = f.offset + i * room;
            children[i] = new Fragment(f.message, off, Math.min(room, f.offset + f.length - off));
        }
        f.children = children;
        f.message.unackedFragments += pieces - 1;
        for (int i = pieces - 1; i >= 0; i--) {
            children[i].queued = true;
            retransmitQueue.addFirst(children[i]);
        }
    }

    private boolean writeNewData(ByteBuffer b, SentPacket sp) {
        boolean wrote = false;
        while (true) {
            OutboundMessage m = sendQueue.peek();
            if (m == null) {
                return wrote;
            }
            if (!m.started) {
                if (!canStart(m)) {
                    return wrote;
                }
                m.started = true;
                creditUsed += m.length + MESSAGE_OVERHEAD;
                (m.unordered() ? inflightUnordered : inflightOrdered).add(m);
            }
            int rest = m.length - m.nextOffset;
            int header = FrameCodec.dataHeaderSize(m.number, m.length, m.nextOffset, Math.min(rest, b.remaining()));
            int n = Math.min(rest, b.remaining() - header);
            // Rather than a sliver now, the whole next packet: fewer headers per payload byte.
            if (n < 0 || (n < rest && n < 128)) {
                return wrote;
            }
            Fragment f = new Fragment(m, m.nextOffset, n);
            m.unackedFragments++;
            FrameCodec.encodeData(b, m.unordered(), m.number, m.length, m.nextOffset, m.data, m.nextOffset, n);
            m.nextOffset += n;
            sp.addItem(f);
            payloadBytesSent += n;
            wrote = true;
            if (m.nextOffset >= m.length) {
                sendQueue.poll();
            }
        }
    }

    private void sendCloseNow(int code, String reason) {
        closeCode = code;
        closeReasonBytes = reason.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = outBuffer();
        b.clear();
        b.limit(datagramSize - PacketCodec.TAG_LENGTH);
        SentPacket sp = tracker.open();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber());
        FrameCodec.encodeClose(b, closeCode, closeReasonBytes);
        b.limit(datagramSize);
        packetCodec.seal(b, 0);
        int size = b.position();
        b.flip();
        long now = loop.nanoTime();
        tracker.commit(sp, now, size, false);
        try {
            path.send(b);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.DEBUG, "CLOSE not sent", e);
        }
        datagramsSent++;
        bytesSent += size;
        lastSent = now;
    }

    // ---- acknowledgements and losses

    private final class Listener implements SentPacketTracker.Listener {
        @Override
        public void onAcked(SentPacket p) {
            for (int i = 0; i < p.itemCount(); i++) {
                ackFragment((Fragment) p.item(i));
            }
            if ((p.flags() & SentPacket.FLAG_PING) != 0 && pingFuture != null) {
                CompletableFuture<Duration> f = pingFuture;
                pingFuture = null;
                f.complete(Duration.ofNanos(loop.nanoTime() - p.timeSent()));
            }
        }

        @Override
        public void onLost(SentPacket p) {
            for (int i = 0; i < p.itemCount(); i++) {
                queueRetransmit((Fragment) p.item(i));
            }
            int flags = p.flags();
            if ((flags & SentPacket.FLAG_MAX_DATA) != 0) {
                maxDataPending = true;
            }
            if ((flags & SentPacket.FLAG_ACK_FREQUENCY) != 0) {
                ackFrequencyPending = true;
            }
            if ((flags & SentPacket.FLAG_PING) != 0 && pingFuture != null) {
                userPingPending = true;
                pingPending = true;
            }
        }
    }

    private void queueRetransmit(Fragment f) {
        if (f.acked || f.queued || f.message.done) {
            return;
        }
        if (f.children != null) {
            for (Fragment c : f.children) {
                queueRetransmit(c);
            }
            return;
        }
        f.queued = true;
        retransmitQueue.add(f);
    }

    private void ackFragment(Fragment f) {
        if (f.acked) {
            return;
        }
        f.acked = true;
        if (f.children != null) {
            for (Fragment c : f.children) {
                ackFragment(c);
            }
            return;
        }
        OutboundMessage m = f.message;
        if (--m.unackedFragments == 0 && m.fullySent() && !m.done) {
            m.done = true;
            ArrayDeque<OutboundMessage> inflight = m.unordered() ? inflightUnordered : inflightOrdered;
            while (!inflight.isEmpty() && inflight.peek().done) {
                inflight.poll();
            }
            release(m.reserved);
            m.future.complete(null);
        }
    }

    private void updateAckFrequency() {
        long packets = tracker.congestionWindow() / datagramSize;
        int desired = (int) Math.max(options.ackEveryPackets(), Math.min(10, packets / 8));
        if (desired != ackFrequencySent) {
            ackFrequencySent = desired;
            ackFrequencySequence++;
            ackFrequencyPending = true;
        }
    }

    // ---- receiving

    private void receive(ByteBuffer d, DatagramPath arrivedOn) throws FrameFormatException {
        long now = loop.nanoTime();
        int size = d.remaining();
        if (state.get() == CLOSED) {
            replyWhenClosed(d);
            return;
        }
        long pn = packetCodec.open(d, localConnectionId, acks.largest());
        if (pn < 0) {
            if (pn == PacketCodec.DROPPED) {
                corruptDropped++;
            }
            return;
        }
        datagramsReceived++;
        bytesReceived += size;
        lastReceived = now;
        if (!acks.record(pn, now)) {
            return;
        }
        boolean largest = pn == acks.largest();
        boolean probing = true;
        boolean eliciting = false;
        Frame f = frame;
        while (d.hasRemaining()) {
            FrameCodec.decode(d, f);
            int t = f.type();
            if (t != Frame.TYPE_PADDING && t != Frame.TYPE_PATH_CHALLENGE && t != Frame.TYPE_PATH_RESPONSE) {
                probing = false;
            }
            switch (f.type()) {
                case Frame.TYPE_PADDING:
                    break;
                case Frame.TYPE_PING:
                    eliciting = true;
                    break;
                case Frame.TYPE_IMMEDIATE_ACK:
                    acks.ackImmediately();
                    eliciting = true;
                    break;
                case Frame.TYPE_ACK:
                    tracker.onAck(f, now, listener);
                    updateAckFrequency();
                    if (closeRequested || peerCloseReceived) {
                        maybeStartCloseHandshake();
                    }
                    break;
                case Frame.TYPE_MAX_DATA:
                    peerMaxData = Math.max(peerMaxData, f.value());
                    eliciting = true;
                    break;
                case Frame.TYPE_ACK_FREQUENCY:
                    acks.onAckFrequency(f.value(), f.value2());
                    eliciting = true;
                    break;
                case Frame.TYPE_PATH_CHALLENGE:
                    if (arrivedOn == path) {
                        pathResponseData = f.value();
                        pathResponsePending = true;
                    } else {
                        // Answered on the path it came on, so that the answer proves that path.
                        sendProbing(arrivedOn, true, f.value(), 0);
                    }
                    eliciting = true;
                    break;
                case Frame.TYPE_PATH_RESPONSE:
                    if (pathObserver != null) {
                        pathObserver.onPathResponse(arrivedOn, f.value());
                    }
                    eliciting = true;
                    break;
                case Frame.TYPE_CLOSE:
                    onPeerClose(f);
                    break;
                case Frame.TYPE_DATA_ORDERED:
                case Frame.TYPE_DATA_UNORDERED:
                    onData(f);
                    eliciting = true;
                    break;
                case Frame.TYPE_DATAGRAM:
                    onDatagramFrame(f);
                    eliciting = true;
                    break;
                default:
                    throw new FrameFormatException("unhandled frame type " + f.type());
            }
            if (state.get() == CLOSED) {
                return;
            }
        }
        if (eliciting) {
            acks.onAckEliciting(now);
        }
        if (pathObserver != null) {
            pathObserver.onPacket(arrivedOn, size, largest, probing);
        }
    }

    private void replyWhenClosed(ByteBuffer d) {
        if (closeCode < 0 || closeRepliesLeft <= 0) {
            return;
        }
        try {
            if (packetCodec.open(d, localConnectionId, acks.largest()) >= 0) {
                closeRepliesLeft--;
                sendCloseNow(closeCode, new String(closeReasonBytes, StandardCharsets.UTF_8));
            }
        } catch (FrameFormatException e) {
            // A closed channel has nothing left to protect; ignore garbage.
        }
    }

    private void onData(Frame f) throws FrameFormatException {
        boolean unordered = f.type() == Frame.TYPE_DATA_UNORDERED;
        if (f.messageLength() > options.maxMessageSize()) {
            throw new FrameFormatException("message of " + f.messageLength() + " bytes exceeds maxMessageSize " + options.maxMessageSize());
        }
        MessageWindow w = unordered ? unorderedWindow : orderedWindow;
        long number = f.messageNumber();
        if (w.isComplete(number)) {
            return;
        }
        if (!w.inRange(number)) {
            throw new FrameFormatException("message number " + number + " is more than " + MessageWindow.SPAN
                    + " ahead of the oldest incomplete message " + w.watermark());
        }
        HashMap<Long, InboundMessage> map;
        if (unordered) {
            map = unorderedInbound == null ? (unorderedInbound = new HashMap<>()) : unorderedInbound;
        } else {
            map = orderedInbound == null ? (orderedInbound = new HashMap<>()) : orderedInbound;
        }
        InboundMessage in = map.get(number);
        if (in == null) {
            long cost = f.messageLength() + MESSAGE_OVERHEAD;
            if (creditReleased + creditHeld + cost > maxDataGranted) {
                throw new FrameFormatException("flow control: message " + number + " of " + f.messageLength()
                        + " bytes exceeds the credit granted (" + maxDataGranted + ", used " + (creditReleased + creditHeld) + ")");
            }
            creditHeld += cost;
            in = new InboundMessage(number, (int) f.messageLength(), cost);
            map.put(number, in);
        } else if (in.length != f.messageLength()) {
            throw new FrameFormatException("message " + number + " changed length from " + in.length + " to " + f.messageLength());
        }
        if (in.add((int) f.offset(), f.dataLength())) {
            f.source().get(f.dataOffset(), in.bytes, (int) f.offset(), f.dataLength());
        }
        if (!in.complete) {
            return;
        }
        w.markComplete(number);
        if (unordered) {
            map.remove(number);
            MessageHandler h = handler;
            if (h != null) {
                deliver(h, in, Delivery.UNORDERED);
            } else {
                if (heldUnordered == null) {
                    heldUnordered = new ArrayDeque<>();
                }
                heldUnordered.add(in);
            }
        } else {
            deliverOrdered();
        }
    }

    private void onDatagramFrame(Frame f) {
        MessageHandler h = handler;
        if (h == null) {
            return;
        }
        byte[] copy = f.payload();
        try {
            h.onMessage(ByteBuffer.wrap(copy).asReadOnlyBuffer(), Delivery.UNRELIABLE);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "message handler failed", e);
        }
        payloadBytesDelivered += copy.length;
    }

    private void deliverHeld() {
        MessageHandler h = handler;
        if (h == null || state.get() == CLOSED) {
            return;
        }
        while (heldUnordered != null && !heldUnordered.isEmpty() && state.get() != CLOSED) {
            deliver(h, heldUnordered.poll(), Delivery.UNORDERED);
        }
        deliverOrdered();
    }

    private void deliverOrdered() {
        MessageHandler h = handler;
        if (h == null || orderedInbound == null) {
            return;
        }
        while (state.get() != CLOSED) {
            InboundMessage in = orderedInbound.get(nextToDeliver);
            if (in == null || !in.complete) {
                return;
            }
            orderedInbound.remove(nextToDeliver);
            nextToDeliver++;
            deliver(h, in, Delivery.ORDERED);
        }
    }

    private void deliver(MessageHandler h, InboundMessage in, Delivery delivery) {
        try {
            h.onMessage(ByteBuffer.wrap(in.bytes).asReadOnlyBuffer(), delivery);
        } catch (RuntimeException e) {
            LOG.log(System.Logger.Level.WARNING, "message handler failed", e);
        }
        payloadBytesDelivered += in.length;
        creditHeld -= in.credit;
        creditReleased += in.credit;
        long extension = creditReleased + window - maxDataGranted;
        if (extension >= window / 4 || (extension >= 4096 && creditHeld == 0)) {
            maxDataGranted += extension;
            maxDataPending = true;
        }
    }

    /** @return bytes of message data received and not yet delivered to the handler (loop thread) */
    long bufferedReceiveBytes() {
        return creditHeld;
    }

    // ---- closing

    private void onPeerClose(Frame f) {
        int code = (int) Math.min(f.value(), Integer.MAX_VALUE);
        if (code != CloseReason.NORMAL) {
            closeCode = -1;
            finish(new CloseReason(code, f.reason(), true));
            return;
        }
        peerCloseReceived = true;
        state.compareAndSet(OPEN, CLOSING);
        if (closeSent) {
            finish(new CloseReason(CloseReason.NORMAL, closeRequested ? "" : "closed by peer", !closeRequested));
            return;
        }
        if (closeDeadline == Long.MAX_VALUE) {
            closeDeadline = loop.nanoTime() + options.closeTimeout().toNanos();
        }
        maybeStartCloseHandshake();
    }

    private boolean drained() {
        return sendQueue.isEmpty() && datagramQueue.isEmpty() && inflightOrdered.isEmpty() && inflightUnordered.isEmpty();
    }

    private void maybeStartCloseHandshake() {
        if (state.get() == CLOSED || closeSent || closeFramePending || !drained()) {
            return;
        }
        closeCode = CloseReason.NORMAL;
        closeReasonBytes = new byte[0];
        closeFramePending = true;
        closeResendAt = loop.nanoTime() + tracker.ptoNanos();
    }

    private void closeNow(int code, String reason) {
        if (state.get() == CLOSED) {
            return;
        }
        sendCloseNow(code, reason);
        finish(new CloseReason(code, reason, false));
    }

    private void finish(CloseReason reason) {
        if (state.getAndSet(CLOSED) == CLOSED) {
            return;
        }
        closeReason = reason;
        cancelTimer();
        ChannelClosedException failure = new ChannelClosedException(reason);
        failAll(sendQueue, failure);
        failAll(datagramQueue, failure);
        failAll(inflightOrdered, failure);
        failAll(inflightUnordered, failure);
        retransmitQueue.clear();
        orderedInbound = null;
        unorderedInbound = null;
        heldUnordered = null;
        if (pingFuture != null) {
            pingFuture.completeExceptionally(failure);
            pingFuture = null;
        }
        CompletableFuture<Void> w;
        synchronized (writableLock) {
            w = writable;
            writable = null;
        }
        if (w != null) {
            w.completeExceptionally(failure);
        }
        closedFuture.complete(reason);
    }

    private void failAll(ArrayDeque<OutboundMessage> queue, ChannelClosedException failure) {
        for (OutboundMessage m; (m = queue.poll()) != null; ) {
            if (!m.done) {
                m.done = true;
                release(m.reserved);
                m.future.completeExceptionally(failure);
            }
        }
    }

    // ---- timers: one per channel, re-armed to the earliest deadline

    private long earliestDeadline() {
        long d = Math.min(tracker.deadline(), acks.ackDeadline());
        d = Math.min(d, pacingWakeup);
        d = Math.min(d, lastSent + keepaliveNanos);
        d = Math.min(d, lastReceived + idleNanos);
        d = Math.min(d, closeDeadline);
        if (closeSent) {
            d = Math.min(d, closeResendAt);
        }
        return d;
    }

    private void armTimer() {
        long now = loop.nanoTime();
        long d = Math.max(earliestDeadline(), now);
        if (d >= timerAt) {
            // The armed timer fires no later than needed; it re-arms itself when it runs.
            return;
        }
        if (timer != null) {
            timer.cancel();
        }
        timerAt = d;
        timer = loop.schedule(this::onTimer, d - now);
    }

    private void cancelTimer() {
        if (timer != null) {
            timer.cancel();
            timer = null;
        }
        timerAt = Long.MAX_VALUE;
    }

    private void onTimer() {
        timer = null;
        timerAt = Long.MAX_VALUE;
        if (state.get() == CLOSED) {
            return;
        }
        long now = loop.nanoTime();
        if (now - lastReceived >= idleNanos) {
            closeNow(CloseReason.IDLE_TIMEOUT, "nothing heard from the peer for " + options.idleTimeout());
            return;
        }
        if (now >= closeDeadline) {
            closeNow(CloseReason.ABORTED, "graceful close did not finish within " + options.closeTimeout());
            return;
        }
        timerRuns++;
        if (now >= tracker.deadline() && tracker.onTimeout(now, listener)) {
            probeTimeouts++;
            probesPending = 2;
            tracker.forEachOldestInFlight(2, p -> {
                for (int i = 0; i < p.itemCount(); i++) {
                    queueRetransmit((Fragment) p.item(i));
                }
            });
        }
        if (closeSent && now >= closeResendAt) {
            closeFramePending = true;
            closeResends++;
            closeResendAt = now + (tracker.ptoNanos() << Math.min(closeResends, 8));
        }
        if (now - lastSent >= keepaliveNanos) {
            pingPending = true;
        }
        if (now >= pacingWakeup) {
            pacingWakeup = Long.MAX_VALUE;
        }
        afterEvent();
    }
}
