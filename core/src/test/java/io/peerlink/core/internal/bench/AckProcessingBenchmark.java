package io.peerlink.core.internal.bench;

import io.peerlink.core.internal.channel.Frame;
import io.peerlink.core.internal.channel.FrameCodec;
import io.peerlink.core.internal.channel.FrameFormatException;
import io.peerlink.core.internal.channel.SentPacket;
import io.peerlink.core.internal.channel.SentPacketTracker;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.nio.ByteBuffer;
import java.util.concurrent.TimeUnit;

/**
 * ACK processing on the sender: decode an ACK frame and apply it to a {@link SentPacketTracker}
 * holding a window of packets in flight. Before every invocation (untimed) the window is topped
 * up with new ack-eliciting packets, each carrying one item as the engine's do, and the next K
 * ACK frames a receiver would send are encoded: ACK j is one range from 0 to the newest of the
 * (j+1)N oldest packets, so each newly acknowledges exactly N packets and at least the window's
 * size stays in flight before each. The invocation decodes and applies the K frames. Scores are
 * per newly acknowledged packet ({@code @OperationsPerInvocation(K * N)}).
 *
 * <p>The per-invocation fixture makes JMH time each invocation separately, which adds a constant
 * per invocation (spread over K * N packets); the baselines ({@code baselineEmptyLoop_*}) pay the
 * same constant with an empty loop over the same number of packet numbers, so compare against
 * them. The {@code steadyState_*} benchmarks need no fixture: each sends one packet and
 * processes the ACK of the oldest, keeping the window full. Running ACK-of-one at 16 and 1,024
 * packets in flight shows whether an ACK's cost depends on the window (a whole-window scan would
 * make it about 64 times dearer).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class AckProcessingBenchmark {
    /** Packets in flight before each ACK in the main benchmarks. */
    public static final int WINDOW = 1024;
    private static final int PACKET_SIZE = 1200;
    /** Time between invocations on the tracker's clock: 100 µs, a loaded LAN's pace. */
    private static final long TICK_NANOS = 100_000;
    /** ACK frames per invocation when each acknowledges one packet: spreads the fixture's cost. */
    private static final int SINGLE_ACKS = 16;

    /**
     * A tracker with a full window and the next ACK frame ready. Subclasses fix the window and
     * how many packets each ACK newly acknowledges.
     */
    @State(Scope.Thread)
    public abstract static class Window implements SentPacketTracker.Listener {
        private final int window;
        private final int newlyAcked;
        private final int acksPerInvocation;
        private final SentPacketTracker tracker = new SentPacketTracker(PACKET_SIZE, 1_000_000, 25_000_000, 1L << 40);
        private final Object item = new Object();
        private final long[] low = new long[1];
        private final long[] high = new long[1];
        final ByteBuffer ackFrames;
        final Frame frame = new Frame();
        long now;
        long ackedSum;

        Window(int window, int newlyAcked, int acksPerInvocation) {
            this.window = window;
            this.newlyAcked = newlyAcked;
            this.acksPerInvocation = acksPerInvocation;
            ackFrames = ByteBuffer.allocate(32 * acksPerInvocation);
        }

        /** Fills the window. */
        @Setup(Level.Trial)
        public void fill() {
            topUp(window);
        }

        /** Tops the window up again and encodes the next K ACK frames (untimed). */
        @Setup(Level.Invocation)
        public void prepareAcks() {
            topUp(window + (acksPerInvocation - 1) * newlyAcked);
            now += TICK_NANOS;
            ackFrames.clear();
            low[0] = 0;
            for (int j = 1; j <= acksPerInvocation; j++) {
                high[0] = tracker.base() + (long) j * newlyAcked - 1;
                FrameCodec.encodeAck(ackFrames, low, high, 1, 25);
            }
            ackFrames.flip();
        }

        final void topUp(int inFlight) {
            while (tracker.nextPacketNumber() - tracker.base() < inFlight) {
                send();
            }
        }

        final void send() {
            SentPacket p = tracker.open();
            p.addItem(item);
            tracker.commit(p, now, PACKET_SIZE, true);
        }

        /** @return the number of packets newly acknowledged by the K prepared ACK frames */
        final int decodeAndProcessAcks() throws FrameFormatException {
            int total = 0;
            for (int j = 0; j < acksPerInvocation; j++) {
                FrameCodec.decode(ackFrames, frame);
                int n = tracker.onAck(frame, now, this);
                if (n != newlyAcked) {
                    throw new IllegalStateException("acknowledged " + n + " packets, expected " + newlyAcked);
                }
                total += n;
            }
            return total;
        }

        /** One steady-state step without any fixture: send one packet, acknowledge the oldest. */
        final long sendOneAckOldest() throws FrameFormatException {
            send();
            now += TICK_NANOS;
            low[0] = 0;
            high[0] = tracker.base();
            return tracker.onAck(low, high, 1, 25_000, now, this);
        }

        @Override
        public void onAcked(SentPacket packet) {
            ackedSum += packet.packetNumber();
        }

        @Override
        public void onLost(SentPacket packet) {
            throw new IllegalStateException("no packet is lost in this benchmark: " + packet.packetNumber());
        }
    }

    /** 1,024 in flight, 1 newly acknowledged, 16 ACKs per invocation. */
    public static class Window1024Ack1 extends Window {
        /** Creates the state. */
        public Window1024Ack1() {
            super(WINDOW, 1, SINGLE_ACKS);
        }
    }

    /** 1,024 in flight, 64 newly acknowledged. */
    public static class Window1024Ack64 extends Window {
        /** Creates the state. */
        public Window1024Ack64() {
            super(WINDOW, 64, 1);
        }
    }

    /** 1,024 in flight, all 1,024 newly acknowledged. */
    public static class Window1024Ack1024 extends Window {
        /** Creates the state. */
        public Window1024Ack1024() {
            super(WINDOW, WINDOW, 1);
        }
    }

    /** 16 in flight, 1 newly acknowledged, 16 ACKs per invocation: the small-window reference. */
    public static class Window16Ack1 extends Window {
        /** Creates the state. */
        public Window16Ack1() {
            super(16, 1, SINGLE_ACKS);
        }
    }

    /**
     * The same per-invocation fixture as {@link Window}, with nothing to prepare, so that the
     * baselines pay the same per-invocation timing cost.
     */
    @State(Scope.Thread)
    public static class Baseline {
        long first;

        /** Moves to the next packet numbers (untimed). */
        @Setup(Level.Invocation)
        public void next() {
            first += 1;
        }
    }

    private static long emptyLoop(Baseline b, int n, Blackhole bh) {
        long first = b.first;
        for (long pn = first + n - 1; pn >= first; pn--) {
            bh.consume(pn);
        }
        return first;
    }

    /**
     * ACK of 1 new packet with at least 1,024 in flight (16 such ACKs per invocation).
     *
     * @param s state @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    @OperationsPerInvocation(SINGLE_ACKS)
    public int ack_1_of_1024(Window1024Ack1 s) throws FrameFormatException {
        return s.decodeAndProcessAcks();
    }

    /**
     * ACK of 1 new packet with at least 16 in flight: compare with {@link #ack_1_of_1024}.
     *
     * @param s state @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    @OperationsPerInvocation(SINGLE_ACKS)
    public int ack_1_of_16(Window16Ack1 s) throws FrameFormatException {
        return s.decodeAndProcessAcks();
    }

    /**
     * ACK of a new range of 64 packets with 1,024 in flight, per packet.
     *
     * @param s state @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    @OperationsPerInvocation(64)
    public int ack_64_of_1024(Window1024Ack64 s) throws FrameFormatException {
        return s.decodeAndProcessAcks();
    }

    /**
     * ACK of all 1,024 packets in flight, per packet.
     *
     * @param s state @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    @OperationsPerInvocation(WINDOW)
    public int ack_1024_of_1024(Window1024Ack1024 s) throws FrameFormatException {
        return s.decodeAndProcessAcks();
    }

    /**
     * Baseline for {@link #ack_1_of_1024} and {@link #ack_1_of_16}: an empty loop over 16 packet numbers.
     *
     * @param b state @param bh sink @return the first number
     */
    @Benchmark
    @OperationsPerInvocation(SINGLE_ACKS)
    public long baselineEmptyLoop_16(Baseline b, Blackhole bh) {
        return emptyLoop(b, SINGLE_ACKS, bh);
    }

    /**
     * Baseline for {@link #ack_64_of_1024}.
     *
     * @param b state @param bh sink @return the first number
     */
    @Benchmark
    @OperationsPerInvocation(64)
    public long baselineEmptyLoop_64(Baseline b, Blackhole bh) {
        return emptyLoop(b, 64, bh);
    }

    /**
     * Baseline for {@link #ack_1024_of_1024}.
     *
     * @param b state @param bh sink @return the first number
     */
    @Benchmark
    @OperationsPerInvocation(WINDOW)
    public long baselineEmptyLoop_1024(Baseline b, Blackhole bh) {
        return emptyLoop(b, WINDOW, bh);
    }

    /**
     * Fixture-free: send 1 packet and acknowledge the oldest, 1,024 in flight.
     *
     * @param s state (its per-invocation fixture is not used) @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    public long steadyState_sendOneAckOne_1024(SteadyWindow1024 s) throws FrameFormatException {
        return s.sendOneAckOldest();
    }

    /**
     * Fixture-free: send 1 packet and acknowledge the oldest, 16 in flight.
     *
     * @param s state @return packets acknowledged
     * @throws FrameFormatException never
     */
    @Benchmark
    public long steadyState_sendOneAckOne_16(SteadyWindow16 s) throws FrameFormatException {
        return s.sendOneAckOldest();
    }

    /** A window kept full by the benchmark itself: no per-invocation fixture. */
    @State(Scope.Thread)
    public abstract static class SteadyWindow {
        private final Window window;

        SteadyWindow(Window window) {
            this.window = window;
        }

        /** Fills the window. */
        @Setup(Level.Trial)
        public void fill() {
            window.topUp(window.window);
        }

        final long sendOneAckOldest() throws FrameFormatException {
            return window.sendOneAckOldest();
        }
    }

    /** 1,024 in flight, no fixture. */
    public static class SteadyWindow1024 extends SteadyWindow {
        /** Creates the state. */
        public SteadyWindow1024() {
            super(new Window(WINDOW, 1, 1) { });
        }
    }

    /** 16 in flight, no fixture. */
    public static class SteadyWindow16 extends SteadyWindow {
        /** Creates the state. */
        public SteadyWindow16() {
            super(new Window(16, 1, 1) { });
        }
    }
}
