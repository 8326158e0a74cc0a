package io.peerlink.core.internal.channel;

import io.peerlink.Candidate;
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
import java.util.List;
import java.util.Objects;
import java.util.SplittableRandom;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * The reliable channel: ARQ, flow and congestion control over one {@link DatagramPath}
 * (docs/protocol-channel.md). The engine routes events between small state machines and builds
 * packets from the frames they want sent:
 * <ul>
 * <li>{@link Sender} — send queue, fragmentation, retransmission, the peer's credit;</li>
 * <li>{@link Receiver} — reassembly, delivery, the credit we grant;</li>
 * <li>{@link AckTracker} — which packets arrived, when to acknowledge;</li>
 * <li>{@link SentPacketTracker} — sent packets, loss detection, PTO; it owns the
 *     {@link RttEstimator}, the path's {@link CongestionController} and the {@link Pacer};</li>
 * <li>{@link CloseHandshake} — the graceful close;</li>
 * <li>{@link PacketCodec} with its {@link PacketSealer} — packet header and protection;</li>
 * <li>{@link ChannelCounters} — the statistics.</li>
 * </ul>
 *
 * <p>Public methods are thread-safe and hand their work to the event loop; {@link #onDatagram}
 * and {@link #setPath} run on the loop thread, where all protocol state lives. Send futures
 * complete on the loop thread (the device exposes them to applications through
 * {@code loop.Callbacks}); the message handler runs on this channel's serial callback executor,
 * never on the loop. Every piece of work the engine runs on the loop is guarded: anything it
 * throws — a bug, an {@code Error} from the path or the sealer, an {@code OutOfMemoryError} —
 * closes this channel with ABORTED and the throwable in the reason, logged at ERROR; the loop and
 * the device's other channels go on.
 *
 * <p>Every queue is bounded: messages and datagrams waiting to be sent by the send buffer (each
 * costs its length plus {@link #MESSAGE_OVERHEAD}), fragments awaiting retransmission by the
 * messages they belong to, received messages by the flow-control credit this side granted and by
 * the {@link ReceiveBudget}, ACK ranges by {@link AckTracker#MAX_RANGES}.
 */
public final class ChannelEngine implements ReliableChannel {
    /** Credit and send-buffer bytes charged per message on top of its length. */
    public static final int MESSAGE_OVERHEAD = 64;
    /** Credit a sender may use before the first MAX_DATA arrives. */
    public static final long INITIAL_CREDIT = 64 << 10;
    /**
     * ACK-only packets in a row after which the next one also carries PING and IMMEDIATE_ACK. A side that only
     * acknowledges (the receiver of a bulk transfer) otherwise never gets a packet of its own
     * acknowledged, and the sealer's key update waits for exactly that (RFC 9000 13.2.4, RFC 9001 6).
     */
    static final int ACK_ONLY_RUN = 16;
    /** Packets one flush may send before yielding the loop to other tasks. */
    private static final int PACKETS_PER_FLUSH = 64;
    private static final System.Logger LOG = System.getLogger(ChannelEngine.class.getName());
    /** Seeds each channel's packet-number skipping, so a peer cannot predict which numbers are skipped. */
    private static final java.security.SecureRandom SEEDS = new java.security.SecureRandom();

    private static final int OPEN = 0;
    private static final int CLOSING = 1;
    private static final int CLOSED = 2;

    private final EventLoop loop;
    /** Runs the message handler in order, off the loop. */
    private final java.util.concurrent.Executor callbacks;
    private final long localConnectionId;
    private final long remoteConnectionId;
    private final ChannelOptions options;
    private final AtomicInteger state = new AtomicInteger(OPEN);
    private final CompletableFuture<CloseReason> closedFuture = new CompletableFuture<>();
    /** Completes after {@link #closedFuture}, once every message handed to the handler before was handled. */
    private final CompletableFuture<CloseReason> deliveredAndClosed = new CompletableFuture<>();
    private volatile CloseReason closeReason;
    private volatile DatagramPath path;
    private volatile int datagramSize;

    private final SendBuffer sendBuffer;
    private final ChannelCounters counters = new ChannelCounters();

    // loop-confined from here on
    private final PacketCodec packetCodec;
    private final Frame frame = new Frame();
    private final SentPacketTracker tracker;
    private final AckTracker acks;
    private final Sender sender;
    private final Receiver receiver;
    private final CloseHandshake close = new CloseHandshake();
    private final Listener listener = new Listener();
    private ByteBuffer out;

    private long ackFrequencySequence = -1;
    private int ackFrequencySent = -1;
    private boolean ackFrequencyPending;
    private boolean pingPending;
    private boolean userPingPending;
    private CompletableFuture<Duration> pingFuture;
    private int probesPending;
    private int ackOnlyRun;
    private LongConsumer pathResponseListener;
    private CandidatesListener candidatesListener;
    private PacketObserver packetObserver;

    private EventLoop.Timer timer;
    private long timerAt = Long.MAX_VALUE;
    private long pacingWakeup = Long.MAX_VALUE;
    /**
     * A sealed datagram the path did not take ({@link DatagramPath#send} returned false: the
     * transport's back-pressure, e.g. the MQTT transport's window of datagrams awaiting PUBACK is
     * full). It is sent again before anything new, every {@link #HOLD_RETRY_NANOS}, instead of
     * counting as sent and lost, which made the congestion controller halve its window for every
     * refusal (docs/protocol-channel.md, "Back-pressure"). Held at most {@link #HOLD_MAX_NANOS},
     * then dropped for the ARQ to recover, so a transport that refuses for good does not stall the
     * channel.
     */
    private ByteBuffer held;
    private long heldSince;
    private long heldRetryAt = Long.MAX_VALUE;
    static final long HOLD_RETRY_NANOS = 1_000_000L;
    static final long HOLD_MAX_NANOS = 200_000_000L;
    /** {@code -Dpeerlink.channel.dropRefused=true}: the old behaviour (a refused datagram counts as sent), for comparison runs only. */
    private static final boolean DROP_REFUSED = Boolean.getBoolean("peerlink.channel.dropRefused");
    private long lastReceived;
    private long lastSent;
    private final long idleNanos;
    private final long keepaliveNanos;
    private boolean flushScheduled;

    /**
     * An unsealed channel (CRC32C tags) whose reassembly draws on the process-wide
     * {@link ReceiveBudget#shared()} budget.
     *
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
        this(loop, localConnectionId, remoteConnectionId, path, options, new Crc32cSealer(), ReceiveBudget.shared());
    }

    /**
     * @param loop the runtime's event loop; all state is confined to it
     * @param localConnectionId the connection ID the peer puts in our packets
     * @param remoteConnectionId the connection ID we put in the peer's packets
     * @param path the initial path
     * @param options tuning
     * @param sealer seals and opens every packet (an AEAD once the link is secure); used on the loop only
     * @param budget reassembly memory, shared with the other channels that hold the same budget
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the path's datagrams are too small for a packet
     */
    public ChannelEngine(EventLoop loop, long localConnectionId, long remoteConnectionId,
                         DatagramPath path, ChannelOptions options, PacketSealer sealer, ReceiveBudget budget) {
        this.loop = Objects.requireNonNull(loop, "loop");
        this.callbacks = loop.callbacks().serial();
        this.options = Objects.requireNonNull(options, "options");
        this.path = Objects.requireNonNull(path, "path");
        this.packetCodec = new PacketCodec(sealer);
        Objects.requireNonNull(budget, "budget");
        this.localConnectionId = localConnectionId;
        this.remoteConnectionId = remoteConnectionId;
        this.datagramSize = usableSize(path);
        this.tracker = new SentPacketTracker(datagramSize,
                new RttEstimator(options.initialRtt().toNanos(), options.maxAckDelay().toNanos()),
                controllerFor(path), new SplittableRandom(SEEDS.nextLong()));
        this.acks = new AckTracker(options.ackEveryPackets(), options.maxAckDelay().toNanos());
        this.sendBuffer = new SendBuffer(options.sendBufferSize(), options.maxMessageSize());
        this.sender = new Sender(sendBuffer, counters);
        this.receiver = new Receiver(options, counters, budget, () -> state.get() == CLOSED, callbacks,
                this::releaseAfterHandler);
        this.idleNanos = options.idleTimeout().toNanos();
        tracker.capProbeTimeout(Math.max(1, idleNanos / 3));
        this.keepaliveNanos = options.keepaliveInterval().toNanos();
        this.lastReceived = loop.nanoTime();
        this.lastSent = lastReceived;
    }

    private int usableSize(DatagramPath p) {
        int size = Math.min(p.maxDatagramSize(), options.maxDatagramSize());
        if (size < packetCodec.overhead() + 64) {
            throw new IllegalArgumentException("path datagrams of " + size + " bytes are too small for channel packets");
        }
        return size;
    }

    /**
     * The congestion controller a path gets by default: a fixed window on a reliable path (its
     * transport already controls congestion), NewReno otherwise. The window cap keeps an
     * app-limited sender from growing it without limit.
     */
    private CongestionController.Factory controllerFor(DatagramPath p) {
        long cap = Math.max(options.sendBufferSize(), 1L << 20) * 2;
        return p.reliable()
                ? FixedWindowController.factory(Math.min(cap, FixedWindowController.DEFAULT_WINDOW))
                : NewRenoController.factory(cap);
    }

    /** Starts timers (keepalive/idle) and grants the peer its credit. Call once, any thread. */
    public void start() {
        onLoop(() -> {
            long now = loop.nanoTime();
            lastReceived = now;
            lastSent = now;
            receiver.requestMaxData();
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
        SendBufferFullException full = sendBuffer.reserve(len, cost);
        if (full != null) {
            return CompletableFuture.failedFuture(full);
        }
        ByteBuffer copy = ByteBuffer.allocate(len);
        copy.put(message.duplicate()).flip();
        CompletableFuture<Void> future = new CompletableFuture<>();
        OutboundMessage m = new OutboundMessage(copy, delivery, future, cost);
        try {
            loop.execute(() -> guarded(() -> enqueue(m)));
        } catch (RejectedExecutionException e) {
            sendBuffer.release(cost);
            future.completeExceptionally(new ChannelClosedException(new CloseReason(CloseReason.SHUTDOWN, "event loop stopped", false)));
        }
        return future;
    }

    @Override
    public int maxUnreliableSize() {
        int room = datagramSize - packetCodec.overhead() - 1;
        return room - Varint.size(room);
    }

    @Override
    public void onMessage(MessageHandler handler) {
        receiver.setHandler(Objects.requireNonNull(handler, "handler"));
        onLoop(receiver::deliverHeld);
    }

    @Override
    public CompletionStage<Void> whenWritable() {
        return sendBuffer.whenWritable(() -> state.get() == CLOSED ? closedException() : null);
    }

    @Override
    public CompletionStage<CloseReason> close() {
        state.compareAndSet(OPEN, CLOSING);
        onLoop(() -> {
            if (state.get() == CLOSED || !close.request(loop.nanoTime(), options.closeTimeout().toNanos())) {
                return;
            }
            close.maybeStart(sender.drained(), loop.nanoTime(), tracker.ptoNanos());
        });
        return deliveredAndClosed.minimalCompletionStage();
    }

    @Override
    public void abort() {
        abort(CloseReason.ABORTED, "aborted by the application");
    }

    /**
     * Closes at once with a reason of the runtime's (e.g. the device failed).
     *
     * @param code a {@link CloseReason} code
     * @param reason told to the peer and reported by {@link #closed()}
     */
    public void abort(int code, String reason) {
        state.compareAndSet(OPEN, CLOSING);
        onLoop(() -> closeNow(code, reason));
    }

    /**
     * @return completes on the loop as soon as the channel is closed, without waiting for the
     *         message handler (for the runtime; {@link #closed()} waits for the handler)
     */
    public CompletionStage<CloseReason> closedOnLoop() {
        return closedFuture.minimalCompletionStage();
    }

    /** @return the event loop this channel is confined to */
    public EventLoop loop() {
        return loop;
    }

    /** @return the serial executor this channel's application callbacks run on, in order */
    public java.util.concurrent.Executor callbackExecutor() {
        return callbacks;
    }

    @Override
    public CompletionStage<CloseReason> closed() {
        return deliveredAndClosed.minimalCompletionStage();
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
        return counters.snapshot(tracker);
    }

    /** @return internal state for diagnostics (loop thread) */
    String debugState() {
        return "state=" + state.get() + " " + sender
                + " cwnd=" + tracker.congestionWindow() + " inFlight=" + tracker.bytesInFlight()
                + " ptoCount=" + tracker.ptoCount() + " deadline=" + (tracker.deadline() - loop.nanoTime())
                + " timerAt=" + (timerAt - loop.nanoTime()) + " pacing=" + (pacingWakeup - loop.nanoTime())
                + " next=" + tracker.nextPacketNumber() + " base=" + tracker.base() + " largestAcked=" + tracker.largestAcked()
                + " acks.largest=" + acks.largest() + " " + stats();
    }

    /** @return datagrams dropped because they did not open (integrity tag, too short, unknown type) */
    public long corruptDatagramsDropped() {
        return counters.corruptDropped;
    }

    /** @return probe timeouts so far (diagnostics) */
    long probeTimeouts() {
        return counters.probeTimeouts;
    }

    /** @return counters beyond {@link ChannelStats} (diagnostics, tests) */
    ChannelCounters counters() {
        return counters;
    }

    /** @return the loss recovery (tests, loop thread) */
    SentPacketTracker tracker() {
        return tracker;
    }

    @Override
    public ChannelOptions options() {
        return options;
    }

    // ------------------------------------------------------------------ loop thread entry points

    /**
     * One whole received datagram including the 9-byte LinkHeader, whose connection ID equals
     * localConnectionId. Loop thread only; the buffer is valid only during the call. Never
     * throws: a malformed packet closes the channel with PROTOCOL_VIOLATION; a datagram that does
     * not open (see {@link PacketCodec}) is dropped silently.
     *
     * @param datagram the datagram between position and limit
     */
    public void onDatagram(ByteBuffer datagram) {
        onDatagram(datagram, null);
    }

    /**
     * As {@link #onDatagram(ByteBuffer)}, naming the path the datagram arrived on: a
     * PATH_CHALLENGE in it is answered on that path (RFC 9000 8.2.2), which is what lets the
     * link layer validate a new path before it {@link #setPath switches} to it.
     *
     * @param datagram the datagram between position and limit
     * @param arrivedOn the path it came from, or null for the current path
     */
    public void onDatagram(ByteBuffer datagram, DatagramPath arrivedOn) {
        guarded(() -> {
            try {
                receive(datagram, arrivedOn);
            } catch (FrameFormatException e) {
                closeNow(CloseReason.PROTOCOL_VIOLATION, e.getMessage());
            }
        });
    }

    /**
     * Switches to another path (NAT rebinding, relay to direct). Loop thread only. RTT and
     * congestion state reset (RFC 9000 9.4) and the new path gets the default controller for its
     * kind ({@link DatagramPath#reliable()}); outstanding data is retransmitted on the new path as
     * needed, so no message is lost or duplicated.
     *
     * @param newPath the new path
     * @throws NullPointerException if newPath is null
     * @throws IllegalArgumentException if its datagrams are too small
     */
    public void setPath(DatagramPath newPath) {
        setPath(newPath, controllerFor(Objects.requireNonNull(newPath, "path")));
    }

    /**
     * Switches to another path with a congestion controller of the caller's choosing. Loop
     * thread only; otherwise as {@link #setPath(DatagramPath)}.
     *
     * @param newPath the new path
     * @param controller makes the new path's congestion controller
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the path's datagrams are too small
     */
    public void setPath(DatagramPath newPath, CongestionController.Factory controller) {
        int size = usableSize(Objects.requireNonNull(newPath, "path"));
        Objects.requireNonNull(controller, "controller");
        this.path = newPath;
        if (size != datagramSize) {
            datagramSize = size;
            out = null;
        }
        tracker.resetPath(size, controller);
        guarded(() -> { });
    }

    /**
     * Switches to another path that differs from the current one only in the peer's port (a NAT
     * rebinding on the same transport): RTT and congestion state are kept, as RFC 9000 section
     * 9.4 allows for a port-only change, since the packets still cross the same network. If the
     * datagram size differs, this is {@link #setPath(DatagramPath)}. Loop thread only.
     *
     * @param newPath the new path
     * @throws NullPointerException if newPath is null
     * @throws IllegalArgumentException if its datagrams are too small
     */
    public void setPathKeepingCongestionState(DatagramPath newPath) {
        int size = usableSize(Objects.requireNonNull(newPath, "path"));
        if (size != datagramSize) {
            setPath(newPath);
            return;
        }
        this.path = newPath;
        guarded(() -> { });
    }

    /**
     * After a move away from a path that is gone (it stopped answering): the packets still in
     * flight on earlier paths are declared lost at once, without a congestion signal, and what
     * they carried is retransmitted on the current path now rather than after loss detection
     * (which needs acknowledgements of later packets, or a probe timeout). Loop thread only.
     *
     * @return how many packets were declared lost
     */
    public int retransmitEarlierPaths() {
        int[] n = new int[1];
        guarded(() -> n[0] = tracker.declareLostBefore(tracker.pathStart(), listener));
        return n[0];
    }

    /**
     * The current path changed underneath and everything in flight on it is presumed gone (this
     * device's address went away while it was sent): every packet in flight is declared lost at
     * once, without a congestion signal, and retransmitted. Loop thread only.
     *
     * @return how many packets were declared lost
     */
    public int retransmitInFlight() {
        int[] n = new int[1];
        guarded(() -> n[0] = tracker.declareLostBefore(tracker.nextPacketNumber(), listener));
        return n[0];
    }

    /**
     * After {@link #setPath}: the new path's RTT as its validation measured it becomes the RTT
     * estimate's first sample (see {@link SentPacketTracker#seedRtt}). Loop thread only.
     *
     * @param validationRttNanos the round trip of the path's PATH_CHALLENGE; ignored unless positive
     */
    public void seedRtt(long validationRttNanos) {
        guarded(() -> tracker.seedRtt(validationRttNanos));
    }

    /** @return the current path */
    public DatagramPath path() {
        return path;
    }

    /**
     * Sends a PATH_CHALLENGE on a path without switching to it (RFC 9000 8.2.1): the packet is
     * padded to the channel's datagram size, so a response also proves the path carries full-size
     * datagrams. The peer answers on the path the challenge arrived on; the answer reaches the
     * listener of {@link #onPathResponse}. Loop thread only; the packet is ack-eliciting but
     * carries no data, so nothing is retransmitted if it is lost (the caller retries).
     *
     * @param via the path to probe
     * @param data 8 bytes the peer must echo
     */
    public void sendPathChallenge(DatagramPath via, long data) {
        sendPathChallenge(via, data, Integer.MAX_VALUE);
    }

    /**
     * As {@link #sendPathChallenge(DatagramPath, long)}, padded to at most {@code maxSize} bytes:
     * a path whose sends are limited (an unvalidated address may receive only a multiple of what
     * it sent, RFC 9000 8.1) still gets a challenge that fits. Loop thread only.
     *
     * @param via the path to probe
     * @param data 8 bytes the peer must echo
     * @param maxSize largest datagram to send; the unpadded challenge if smaller than that
     */
    public void sendPathChallenge(DatagramPath via, long data, int maxSize) {
        sendPathChallenge(via, data, maxSize, false);
    }

    /**
     * As {@link #sendPathChallenge(DatagramPath, long, int)}; with {@code withAck}, the packet also
     * carries an ACK frame of what was received so far. For a path the peer is already sending on
     * (its newest packets arrive there: a NAT rebinding, a peer that moved): until the path is
     * validated, this is the only packet that reaches the peer there, and its acknowledgement lets
     * the peer's loss recovery go on one round trip earlier. The packet is then not a probing
     * packet (RFC 9000 9.1), which is harmless on a path the peer already uses. Loop thread only.
     *
     * @param via the path to probe
     * @param data 8 bytes the peer must echo
     * @param maxSize largest datagram to send
     * @param withAck true to add an ACK frame
     */
    public void sendPathChallenge(DatagramPath via, long data, int maxSize, boolean withAck) {
        Objects.requireNonNull(via, "via");
        guarded(() -> {
            if (state.get() == CLOSED) {
                return;
            }
            sendControlPacket(via, false, data, maxSize, withAck);
        });
    }

    /**
     * What a link session learns from received packets to manage its paths (docs/protocol-paths.md).
     * Loop thread.
     */
    @FunctionalInterface
    public interface PacketObserver {
        /**
         * A packet opened and was new (not a duplicate); its frames have been processed.
         *
         * @param arrivedOn the path it arrived on ({@link #onDatagram(ByteBuffer, DatagramPath)})
         * @param size datagram bytes
         * @param largest true if its packet number is the largest received so far
         * @param probing true if it carried only PATH_CHALLENGE, PATH_RESPONSE and PADDING frames
         *        (RFC 9000 9.1: such a packet never makes the peer switch paths)
         */
        void onPacket(DatagramPath arrivedOn, int size, boolean largest, boolean probing);
    }

    /**
     * @return probe timeouts in a row without an acknowledgement (0 after any ACK); loop thread. Two or
     *         more mean the path has stopped answering; the session fails over on it.
     */
    public int consecutivePtos() {
        return tracker.ptoCount();
    }

    /**
     * The current path changed underneath (this device's address or relay allocation is new):
     * forgets the probe-timeout backoff that silence on the old one built up and sends two
     * ack-eliciting probes on the path now (new data if any, else PING), so the peer hears from the
     * new address at once and an acknowledgement restarts loss recovery. RTT and congestion state
     * are kept. Loop thread only.
     */
    public void probeNow() {
        guarded(() -> {
            if (state.get() == CLOSED) {
                return;
            }
            tracker.resetPtoBackoff();
            probesPending = 2;
        });
    }

    /** @param observer told about every new packet that opened; loop thread (null: none) */
    public void onPacket(PacketObserver observer) {
        onLoop(() -> packetObserver = observer);
    }

    /**
     * @param listener receives the data of every PATH_RESPONSE, on the loop thread (null: none)
     */
    public void onPathResponse(LongConsumer listener) {
        onLoop(() -> pathResponseListener = listener);
    }

    /**
     * Receives the peer's CANDIDATES frames (docs/protocol-punching.md, "Fresh candidates"). Loop
     * thread.
     */
    @FunctionalInterface
    public interface CandidatesListener {
        /**
         * @param sequence the sender's sequence number of this candidate set
         * @param flags the frame's flags ({@link Frame#CANDIDATES_OPENED})
         * @param candidates the sender's direct candidates, validated by the decoder
         */
        void onCandidates(long sequence, int flags, List<Candidate> candidates);
    }

    /** @param listener receives every CANDIDATES frame, on the loop thread (null: none) */
    public void onCandidates(CandidatesListener listener) {
        onLoop(() -> candidatesListener = listener);
    }

    /**
     * Sends a CANDIDATES frame in a packet of its own on the current path, sealed like every
     * channel packet. Like a PATH_CHALLENGE it is not retransmitted: the caller repeats it. Not
     * congestion controlled (one small packet). Loop thread only.
     *
     * @param sequence the candidate set's sequence number
     * @param flags {@link Frame#CANDIDATES_OPENED} or 0
     * @param candidates at most {@link Frame#MAX_CANDIDATES} encodable candidates
     *        ({@link FrameCodec#encodable})
     * @throws IllegalArgumentException if a candidate cannot be encoded or there are too many
     */
    public void sendCandidates(long sequence, int flags, List<Candidate> candidates) {
        // Refused here, not inside the loop work, where an exception would end the channel.
        if (candidates.size() > Frame.MAX_CANDIDATES) {
            throw new IllegalArgumentException(candidates.size() + " candidates, limit " + Frame.MAX_CANDIDATES);
        }
        if ((flags & ~Frame.CANDIDATES_OPENED) != 0) {
            throw new IllegalArgumentException("unknown CANDIDATES flags 0x" + Integer.toHexString(flags));
        }
        if (FrameCodec.candidatesSize(sequence, candidates) > datagramSize - packetCodec.overhead()) {
            throw new IllegalArgumentException("CANDIDATES frame does not fit a packet of " + datagramSize + " bytes");
        }
        guarded(() -> {
            if (state.get() == CLOSED) {
                return;
            }
            ByteBuffer b = ByteBuffer.allocate(datagramSize);
            b.limit(datagramSize - packetCodec.tagLength());
            SentPacket sp = tracker.open();
            long now = loop.nanoTime();
            packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber(), now);
            FrameCodec.encodeCandidates(b, sequence, flags, candidates);
            b.limit(datagramSize);
            packetCodec.seal(b, 0);
            int size = b.position();
            b.flip();
            tracker.commit(sp, now, size, false);
            path.send(b);
            counters.datagramsSent++;
            counters.bytesSent += size;
        });
    }

    // ------------------------------------------------------------------ internals

    /**
     * Runs loop work for this channel and then sends what it made due. Whatever escapes it —
     * an {@code Error} from the handler or the path included — ends this channel loudly instead
     * of the loop thread (or, silently, the channel's timers).
     */
    private void guarded(Runnable work) {
        try {
            work.run();
            afterEvent();
        } catch (Throwable t) {
            failInternally(t);
        }
    }

    private void failInternally(Throwable t) {
        LOG.log(System.Logger.Level.ERROR, "channel " + Long.toHexString(localConnectionId) + " failed", t);
        try {
            closeNow(CloseReason.ABORTED, "internal error: " + t);
        } catch (Throwable again) {
            // Sending the CLOSE failed too (the path is what throws): finish without it.
            t.addSuppressed(again);
            finish(new CloseReason(CloseReason.ABORTED, "internal error: " + t, false));
        }
        cancelTimer();
    }

    private interface LoopWork {
        void run() throws FrameFormatException;
    }

    private void onLoop(LoopWork task) {
        try {
            loop.execute(() -> guarded(() -> {
                try {
                    task.run();
                } catch (FrameFormatException e) {
                    closeNow(CloseReason.PROTOCOL_VIOLATION, e.getMessage());
                }
            }));
        } catch (RejectedExecutionException e) {
            // The runtime is shutting down; nothing will run on this channel again.
            finish(new CloseReason(CloseReason.SHUTDOWN, "event loop stopped", false));
        }
    }

    /** Callback thread: the handler returned; the message's credit and memory go back on the loop. */
    private void releaseAfterHandler(InboundMessage in) {
        onLoop(() -> receiver.released(in));
    }

    private ChannelClosedException closedException() {
        CloseReason r = closeReason;
        return new ChannelClosedException(r != null ? r : new CloseReason(CloseReason.NORMAL, "channel is closing", false));
    }

    private void enqueue(OutboundMessage m) {
        if (state.get() == CLOSED || close.refusesSends()) {
            sendBuffer.release(m.reserved);
            m.future.completeExceptionally(closedException());
            return;
        }
        sender.enqueue(m);
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
        return receiver.maxDataPending() || ackFrequencyPending || pingPending || probesPending > 0 || sender.hasWork();
    }

    private void flush() {
        DatagramPath p = path;
        if (!p.batches()) {
            flush(null);
            return;
        }
        SendBatch batch = SendBatch.acquire(PACKETS_PER_FLUSH);
        try {
            flush(batch);
        } finally {
            batch.sendTo(p);
            batch.release();
        }
    }

    /** @param batch collects the packets for one sendBatch at the end, or null to send each at once */
    private void flush(SendBatch batch) {
        long now = loop.nanoTime();
        for (int sent = 0; sent < PACKETS_PER_FLUSH; sent++) {
            if (state.get() == CLOSED) {
                return;
            }
            if (held != null && !sendHeld(now)) {
                return;
            }
            boolean ackDue = acks.ackDue(now);
            boolean mayElicit = hasElicitingWork();
            if (mayElicit && probesPending == 0) {
                if (!tracker.congestionAllows(datagramSize)) {
                    counters.cwndStalls++;
                    mayElicit = false;
                } else {
                    long delay = tracker.pacingDelay(now, datagramSize);
                    if (delay > 0) {
                        pacingWakeup = RttEstimator.saturatedAdd(now, delay);
                        counters.pacingStalls++;
                        mayElicit = false;
                    }
                }
            }
            if (!mayElicit && !ackDue && !close.framePending()) {
                return;
            }
            if (!sendPacket(now, mayElicit, batch)) {
                return;
            }
        }
        if (!flushScheduled) {
            flushScheduled = true;
            try {
                loop.execute(() -> {
                    flushScheduled = false;
                    guarded(() -> { });
                });
            } catch (RejectedExecutionException e) {
                finish(new CloseReason(CloseReason.SHUTDOWN, "event loop stopped", false));
            }
        }
    }

    private ByteBuffer outBuffer() {
        if (out == null || out.capacity() != datagramSize) {
            out = ByteBuffer.allocate(datagramSize);
        }
        return out;
    }

    /** Builds and sends (or adds to the batch) one packet; false if there was nothing to put in it. */
    private boolean sendPacket(long now, boolean mayElicit, SendBatch batch) {
        ByteBuffer b = batch != null ? batch.next(datagramSize) : outBuffer();
        b.clear();
        b.limit(datagramSize - packetCodec.tagLength());
        SentPacket sp = tracker.open();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber(), loop.nanoTime());
        boolean any = false;
        boolean eliciting = false;
        boolean hasAck = false;
        boolean immediateAck = false;
        if (acks.hasUnacknowledged() && acks.hasRanges() && acks.ackSize(now) <= b.remaining()) {
            acks.writeAck(b, now);
            any = true;
            hasAck = true;
        }
        boolean hasClose = close.writeFrame(b);
        any |= hasClose;
        if (mayElicit && !hasClose) {
            eliciting = writeElicitingFrames(b, sp);
            any |= eliciting;
            if (eliciting && b.hasRemaining() && lastPacketForNow(b.position() + packetCodec.tagLength())) {
                // The sender stalls after this packet until an ACK arrives: do not let the
                // receiver sit on it for maxAckDelay (QUIC ack-frequency's IMMEDIATE_ACK).
                FrameCodec.encodeImmediateAck(b);
                immediateAck = true;
            }
        }
        if (!any) {
            return false;
        }
        if (eliciting || hasClose) {
            ackOnlyRun = 0;
        } else if (++ackOnlyRun >= ACK_ONLY_RUN && tracker.ackElicitingInFlight() == 0 && b.remaining() >= 2) {
            // IMMEDIATE_ACK too: the point is to learn soon that the peer got a packet sealed
            // with our current key, not in maxAckDelay.
            FrameCodec.encodePing(b);
            FrameCodec.encodeImmediateAck(b);
            eliciting = true;
            immediateAck = true;
            ackOnlyRun = 0;
        }
        b.limit(datagramSize);
        packetCodec.seal(b, 0);
        int size = b.position();
        b.flip();
        if (eliciting && probesPending > 0) {
            probesPending--;
        }
        tracker.commit(sp, now, size, eliciting, immediateAck);
        if (batch != null) {
            batch.add();
            if (hasClose) {
                // A CLOSE leaves now, not after whatever finishing the channel does below.
                batch.sendTo(path);
            }
        } else {
            int start = b.position();
            int end = b.limit();
            if (!path.send(b) && !DROP_REFUSED) {
                hold(b, start, end, now);
            }
        }
        counters.datagramsSent++;
        counters.bytesSent += size;
        lastSent = now;
        if (hasAck && !eliciting && !hasClose) {
            counters.ackBytesSent += size;
        }
        if (hasClose && close.answersPeer()) {
            // We answered the peer's graceful close; everything of ours is acknowledged.
            finish(new CloseReason(CloseReason.NORMAL, "closed by peer", !close.requested()));
        }
        return true;
    }

    /** The path refused a datagram: keep a copy to send again before anything new. */
    private void hold(ByteBuffer b, int start, int end, long now) {
        ByteBuffer copy = ByteBuffer.allocate(end - start);
        copy.put(b.duplicate().limit(end).position(start)).flip();
        held = copy;
        heldSince = now;
        heldRetryAt = RttEstimator.saturatedAdd(now, HOLD_RETRY_NANOS);
        counters.backPressureStalls++;
    }

    /** @return true if nothing is held any more (sent now, or dropped after {@link #HOLD_MAX_NANOS}) */
    private boolean sendHeld(long now) {
        if (now - heldSince >= HOLD_MAX_NANOS) {
            held = null; // the ARQ recovers it as a loss, as before back-pressure was honoured
            heldRetryAt = Long.MAX_VALUE;
            return true;
        }
        if (path.send(held.duplicate())) {
            held = null;
            heldRetryAt = Long.MAX_VALUE;
            return true;
        }
        heldRetryAt = RttEstimator.saturatedAdd(now, HOLD_RETRY_NANOS);
        return false;
    }

    private boolean lastPacketForNow(int size) {
        return !tracker.congestionAllows(size + datagramSize) || !sender.hasWork();
    }

    private boolean writeElicitingFrames(ByteBuffer b, SentPacket sp) {
        boolean eliciting = false;
        if (receiver.maxDataPending() && FrameCodec.maxDataSize(receiver.maxDataGranted()) <= b.remaining()) {
            FrameCodec.encodeMaxData(b, receiver.maxDataGranted());
            sp.addFlag(SentPacket.FLAG_MAX_DATA);
            receiver.maxDataSent();
            eliciting = true;
        }
        if (ackFrequencyPending && FrameCodec.ackFrequencySize(ackFrequencySequence, ackFrequencySent) <= b.remaining()) {
            FrameCodec.encodeAckFrequency(b, ackFrequencySequence, ackFrequencySent);
            sp.addFlag(SentPacket.FLAG_ACK_FREQUENCY);
            ackFrequencyPending = false;
            eliciting = true;
        }
        // A probe carries never-sent data if there is any, never a retransmission: the data in
        // flight may only be waiting for a late ACK, and if it was lost the probe's ACK says so.
        if (probesPending == 0) {
            eliciting |= sender.writeRetransmissions(b, sp, fragmentRoom());
        }
        eliciting |= sender.writeNewData(b, sp);
        eliciting |= sender.writeDatagrams(b);
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
        return datagramSize - packetCodec.overhead() - 1 - 8 - 8 - 8 - Varint.size(datagramSize);
    }

    /**
     * Sends one packet right away, outside the flush: a CLOSE (abortive close, reply of a closed
     * channel), or a PATH_CHALLENGE/PATH_RESPONSE on a given path. Not congestion controlled.
     */
    private void sendControlPacket(DatagramPath via, boolean response, long data, int padTo) {
        sendControlPacket(via, response, data, padTo, false);
    }

    private void sendControlPacket(DatagramPath via, boolean response, long data, int padTo, boolean withAck) {
        ByteBuffer b = ByteBuffer.allocate(datagramSize);
        b.limit(datagramSize - packetCodec.tagLength());
        SentPacket sp = tracker.open();
        long at = loop.nanoTime();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber(), at);
        FrameCodec.encodePath(b, response, data);
        if (withAck && acks.hasRanges() && acks.ackSize(at) <= Math.min(b.remaining(), padTo - packetCodec.tagLength() - b.position())) {
            acks.writeAckCopy(b, at);
        }
        int room = Math.min(b.remaining(), padTo - packetCodec.tagLength() - b.position());
        if (room > 0) {
            FrameCodec.encodePadding(b, room);
        }
        b.limit(datagramSize);
        packetCodec.seal(b, 0);
        int size = b.position();
        b.flip();
        long now = loop.nanoTime();
        // Not ack-eliciting for loss recovery: nothing in it is retransmitted.
        tracker.commit(sp, now, size, false);
        via.send(b);
        counters.datagramsSent++;
        counters.bytesSent += size;
    }

    private void sendCloseNow(int code, String reason) {
        byte[] reasonBytes = close.abortWith(code, reason);
        ByteBuffer b = outBuffer();
        b.clear();
        b.limit(datagramSize - packetCodec.tagLength());
        SentPacket sp = tracker.open();
        packetCodec.writeHeader(b, remoteConnectionId, sp.packetNumber(), loop.nanoTime());
        FrameCodec.encodeClose(b, code, reasonBytes);
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
        counters.datagramsSent++;
        counters.bytesSent += size;
        lastSent = now;
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

    // ---- acknowledgements and losses: routed to the sender and the ping

    private final class Listener implements SentPacketTracker.Listener {
        @Override
        public void onAcked(SentPacket p) {
            packetCodec.onAcknowledged(p.packetNumber());
            for (int i = 0; i < p.itemCount(); i++) {
                sender.onAcked((Fragment) p.item(i));
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
                sender.onLost((Fragment) p.item(i));
            }
            int flags = p.flags();
            if ((flags & SentPacket.FLAG_MAX_DATA) != 0) {
                receiver.requestMaxData();
            }
            if ((flags & SentPacket.FLAG_ACK_FREQUENCY) != 0) {
                ackFrequencyPending = true;
            }
            if ((flags & SentPacket.FLAG_PING) != 0 && pingFuture != null) {
                userPingPending = true;
                pingPending = true;
            }
        }

        @Override
        public void onAckedAfterLoss(SentPacket p) {
            for (int i = 0; i < p.itemCount(); i++) {
                sender.onAckedAfterLoss((Fragment) p.item(i));
            }
        }
    }

    // ---- receiving: frames routed to their state machine

    private void receive(ByteBuffer d, DatagramPath arrivedOn) throws FrameFormatException {
        long now = loop.nanoTime();
        int size = d.remaining();
        if (state.get() == CLOSED) {
            replyWhenClosed(d);
            return;
        }
        long pn = packetCodec.open(d, localConnectionId, acks.largest(), now);
        if (pn < 0) {
            if (pn == PacketCodec.DROPPED) {
                counters.corruptDropped++;
            }
            return;
        }
        counters.datagramsReceived++;
        counters.bytesReceived += size;
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
            switch (t) {
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
                    close.maybeStart(sender.drained(), now, tracker.ptoNanos());
                    break;
                case Frame.TYPE_MAX_DATA:
                    sender.onMaxData(f.value());
                    eliciting = true;
                    break;
                case Frame.TYPE_ACK_FREQUENCY:
                    acks.onAckFrequency(f.value(), f.value2());
                    eliciting = true;
                    break;
                case Frame.TYPE_PATH_CHALLENGE:
                    sendControlPacket(arrivedOn != null ? arrivedOn : path, true, f.value(), 0);
                    eliciting = true;
                    break;
                case Frame.TYPE_PATH_RESPONSE:
                    if (pathResponseListener != null) {
                        pathResponseListener.accept(f.value());
                    }
                    eliciting = true;
                    break;
                case Frame.TYPE_CLOSE:
                    onPeerClose(f);
                    break;
                case Frame.TYPE_CANDIDATES:
                    if (candidatesListener != null) {
                        candidatesListener.onCandidates(f.value(), (int) f.value2(), FrameCodec.candidates(f));
                    }
                    eliciting = true;
                    break;
                case Frame.TYPE_DATA_ORDERED:
                case Frame.TYPE_DATA_UNORDERED:
                    receiver.onData(f);
                    eliciting = true;
                    break;
                case Frame.TYPE_DATAGRAM:
                    receiver.onDatagram(f);
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
        if (packetObserver != null) {
            packetObserver.onPacket(arrivedOn != null ? arrivedOn : path, size, largest, probing);
        }
    }

    private void replyWhenClosed(ByteBuffer d) {
        if (packetCodec.open(d, localConnectionId, acks.largest(), loop.nanoTime()) >= 0 && close.takeReply()) {
            sendCloseNow(close.code(), new String(close.reason(), StandardCharsets.UTF_8));
        }
    }

    /** @return bytes of message data received and not yet delivered to the handler (loop thread) */
    long bufferedReceiveBytes() {
        return receiver.bufferedBytes();
    }

    // ---- closing

    private void onPeerClose(Frame f) {
        int code = (int) Math.min(f.value(), Integer.MAX_VALUE);
        if (code != CloseReason.NORMAL) {
            close.forget();
            finish(new CloseReason(code, f.reason(), true));
            return;
        }
        close.onPeerClose(loop.nanoTime(), options.closeTimeout().toNanos());
        state.compareAndSet(OPEN, CLOSING);
        if (close.sent()) {
            finish(new CloseReason(CloseReason.NORMAL, close.requested() ? "" : "closed by peer", !close.requested()));
            return;
        }
        close.maybeStart(sender.drained(), loop.nanoTime(), tracker.ptoNanos());
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
        sender.failAll(failure);
        receiver.close();
        if (pingFuture != null) {
            pingFuture.completeExceptionally(failure);
            pingFuture = null;
        }
        sendBuffer.fail(failure);
        closedFuture.complete(reason);
        // Through the handler's queue: whoever sees "closed" has seen every message before it.
        callbacks.execute(() -> deliveredAndClosed.complete(reason));
    }

    // ---- timers: one per channel, re-armed to the earliest deadline

    private long earliestDeadline() {
        long d = Math.min(tracker.deadline(), acks.ackDeadline());
        d = Math.min(d, pacingWakeup);
        d = Math.min(d, heldRetryAt);
        d = Math.min(d, RttEstimator.saturatedAdd(lastSent, keepaliveNanos));
        d = Math.min(d, RttEstimator.saturatedAdd(lastReceived, idleNanos));
        return Math.min(d, close.nextDeadline());
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
        timer = loop.schedule(() -> guarded(this::onTimer), d - now);
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
        if (now >= close.deadline()) {
            closeNow(CloseReason.ABORTED, "graceful close did not finish within " + options.closeTimeout());
            return;
        }
        counters.timerRuns++;
        if (now >= tracker.deadline() && tracker.onTimeout(now, listener)) {
            counters.probeTimeouts++;
            probesPending = 2;
        }
        close.onTimer(now, tracker.ptoNanos());
        if (now - lastSent >= keepaliveNanos) {
            pingPending = true;
        }
        if (now >= pacingWakeup) {
            pacingWakeup = Long.MAX_VALUE;
        }
    }
}
