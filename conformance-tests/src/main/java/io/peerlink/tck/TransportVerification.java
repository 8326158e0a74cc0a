package io.peerlink.tck;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportCapabilities;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The conformance suite for {@link Transport} implementations. Extend it in your test sources,
 * supply {@link #createTransport()}, and run it with JUnit 5:
 *
 * <pre>{@code
 * class MyTransportVerificationTest extends TransportVerification {
 *     @Override
 *     protected Transport createTransport() {
 *         return new MyTransportProvider().create(TransportConfig.bind(Endpoint.parse("my://127.0.0.1:0")).build());
 *     }
 * }
 * }</pre>
 *
 * <p>Each test is named after the rule it verifies ({@code required_T1_2_sendAfterStopFails});
 * the rules are numbered and explained in {@code docs/tck.md}, and every assertion message starts
 * with the rule number, e.g. {@code [T1.2]}. Optional rules are skipped (JUnit assumption, with
 * the reason) when the transport does not declare the capability or the hook they need returns
 * {@code null}. Errors on transport threads (a null argument to the handler, concurrent handler
 * calls, {@code onTransportFailure}) are collected and rethrown when the test ends. Every
 * transport the suite creates is destroyed after each test.
 *
 * <p>The suite needs a loss-free test path between two transports (loopback, an embedded
 * broker): when nothing else is going on, a datagram that {@code send} accepted must arrive.
 * Losses are tolerated only where the suite floods (T6.1, T6.3) and the transport is unreliable.
 */
public abstract class TransportVerification implements TransportRules {

    private final List<Transport> created = new ArrayList<>();
    private final List<Thread> helpers = new ArrayList<>();
    private ThreadErrors errors = new ThreadErrors();

    /** Subclasses have a no-argument constructor; JUnit creates one instance per test. */
    protected TransportVerification() {
    }

    // ------------------------------------------------------------------ what implementers supply

    /**
     * @return a new, independent transport in state CREATED, configured so that another transport
     *         from {@link #createPeerTransport()} can reach it (e.g. bound to 127.0.0.1 port 0)
     * @throws Exception if it cannot be created
     */
    protected abstract Transport createTransport() throws Exception;

    /**
     * @return a second transport that exchanges datagrams with those of {@link #createTransport()};
     *         by default another one of those
     * @throws Exception if it cannot be created
     */
    protected Transport createPeerTransport() throws Exception {
        return createTransport();
    }

    /**
     * @param started a STARTED transport created by this suite
     * @return the endpoint its peers send to; by default its {@link Transport#localEndpoint()}
     */
    protected Endpoint addressOf(Transport started) {
        return started.localEndpoint();
    }

    /**
     * @return an endpoint the transport cannot send to, for T3.2, or null to skip T3.2; by
     *         default an endpoint with a scheme no transport uses
     */
    protected Endpoint unsupportedEndpoint() {
        return new Endpoint("tck-unsupported-scheme", "192.0.2.1", 9, "");
    }

    /**
     * @return a TTL observer for T7.1, or null (the default) to skip T7.1
     * @throws Exception if it cannot be created
     */
    protected TtlWitness createTtlWitness() throws Exception {
        return null;
    }

    /** @return a raw-bytes injector for T8.3, or null (the default) to skip T8.3 */
    protected WireInjector wireInjector() {
        return null;
    }

    /**
     * @return how long to wait for something that should happen (a delivery, a stop); a liveness
     *         bound that fails a hung test, not a performance target. Default 10 s.
     */
    protected Duration timeout() {
        return Duration.ofSeconds(10);
    }

    /** @return how many datagrams T6.1 sends at a receiver that does not read; default 20,000 */
    protected int floodDatagrams() {
        return 20_000;
    }

    // ------------------------------------------------------------------ test plumbing

    @BeforeEach
    final void resetTckState() {
        errors = new ThreadErrors();
    }

    @AfterEach
    final void destroyTransportsAndRethrowThreadErrors() throws Throwable {
        // Helpers first: a flood still running would otherwise hit destroyed transports.
        for (Thread t : helpers) {
            t.interrupt();
        }
        for (int i = created.size() - 1; i >= 0; i--) {
            try {
                created.get(i).destroy();
            } catch (RuntimeException e) {
                errors.add(new AssertionError("[T1.7] destroy() threw during cleanup", e));
            }
        }
        created.clear();
        helpers.clear();
        errors.rethrow();
    }

    /** @return a transport from createTransport(), destroyed after the test */
    private Transport newTransport() throws Exception {
        Transport t = createTransport();
        assertNotNull(t, "createTransport() returned null");
        created.add(t);
        return t;
    }

    private Transport newPeer() throws Exception {
        Transport t = createPeerTransport();
        assertNotNull(t, "createPeerTransport() returned null");
        created.add(t);
        return t;
    }

    private Recorder recorder(String name) {
        return new Recorder(errors, name);
    }

    private Recorder start(Transport t, String name) throws Exception {
        Recorder r = recorder(name);
        t.start(r);
        assertEquals(Transport.State.STARTED, t.state(), "[T1.4] state after start()");
        return r;
    }

    private Thread helper(String name, ThrowingRunnable body) {
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } catch (Throwable e) {
                errors.add(e);
            }
        }, "tck-" + name);
        t.setDaemon(true);
        helpers.add(t);
        return t;
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Throwable;
    }

    private static byte[] pattern(int length, int seed) {
        byte[] b = new byte[length];
        new Random(seed).nextBytes(b);
        return b;
    }

    private static ByteBuffer wrap(byte[] bytes) {
        return ByteBuffer.wrap(bytes);
    }

    private Recorder.Received await(Recorder r, String rule, String what) throws InterruptedException {
        Recorder.Received got = r.poll(timeout());
        if (got == null) {
            fail(rule + " " + what + " did not arrive within " + timeout() + " (liveness bound)");
        }
        return got;
    }

    /** A send that must be accepted; an exception becomes a failure that names the rule. */
    private static void sendAccepted(Transport from, Endpoint to, ByteBuffer datagram, String rule, String what) {
        boolean accepted;
        try {
            accepted = from.send(to, datagram);
        } catch (RuntimeException e) {
            throw new AssertionError(rule + " send() of " + what + " threw " + e, e);
        }
        assertTrue(accepted, rule + " send() of " + what + " to an idle peer returned false (nothing should be full)");
    }

    /** Sends and expects the bytes to arrive; drops unrelated datagrams in between. */
    private Recorder.Received sendAndAwait(Transport from, Endpoint to, Recorder at, byte[] bytes, String rule) throws InterruptedException {
        sendAccepted(from, to, wrap(bytes), rule, "a " + bytes.length + "-byte datagram");
        long deadline = System.nanoTime() + timeout().toNanos();
        while (System.nanoTime() < deadline) {
            Recorder.Received got = at.poll(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
            if (got != null && Arrays.equals(got.bytes(), bytes)) {
                return got;
            }
        }
        return fail(rule + " a " + bytes.length + "-byte datagram sent to " + to + " did not arrive intact within " + timeout());
    }

    private int probeSize() {
        return 64;
    }

    // ------------------------------------------------------------------ T1 lifecycle

    /**
     * Rule T1.1 (docs/tck.md#t11). If this fails, check that the constructor/provider does not
     * bind or start anything, that {@code localEndpoint()} throws IllegalStateException before
     * start, and that {@code capabilities()} returns the same value every time.
     */
    @Override
    @Test
    public void required_T1_1_newTransportIsCreated() throws Throwable {
        Transport t = newTransport();
        assertEquals(Transport.State.CREATED, t.state(), "[T1.1] a new transport must be CREATED");
        assertThrows(IllegalStateException.class, t::localEndpoint, "[T1.1] localEndpoint() before start must throw IllegalStateException");
        TransportCapabilities caps = t.capabilities();
        assertNotNull(caps, "[T1.1] capabilities() must not be null");
        assertEquals(caps, t.capabilities(), "[T1.1] capabilities() must be constant");
    }

    /**
     * Rule T1.2 (docs/tck.md#t12). If this fails, check that {@code send} tests the state and
     * throws IllegalStateException once {@code stop()} was called.
     */
    @Override
    @Test
    public void required_T1_2_sendAfterStopFails() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        start(b, "b");
        Endpoint to = addressOf(b);
        a.stop();
        assertEquals(Transport.State.STOPPED, a.state(), "[T1.2] state after stop()");
        assertThrows(IllegalStateException.class, () -> a.send(to, wrap(pattern(16, 12))),
                "[T1.2] send after stop must throw IllegalStateException");
    }

    /**
     * Rule T1.3 (docs/tck.md#t13). If this fails, check that {@code send} throws
     * IllegalStateException while the transport is CREATED.
     */
    @Override
    @Test
    public void required_T1_3_sendBeforeStartFails() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(b, "b");
        assertThrows(IllegalStateException.class, () -> a.send(addressOf(b), wrap(pattern(16, 13))),
                "[T1.3] send before start must throw IllegalStateException");
        assertEquals(Transport.State.CREATED, a.state(), "[T1.3] a failed send must not change the state");
    }

    /**
     * Rule T1.4 (docs/tck.md#t14). If this fails, check that a second {@code start} throws
     * IllegalStateException without replacing the handler or re-binding.
     */
    @Override
    @Test
    public void required_T1_4_startTwiceFails() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder first = start(a, "a");
        start(b, "b");
        Recorder second = recorder("a-second-start");
        assertThrows(IllegalStateException.class, () -> a.start(second), "[T1.4] start while STARTED must throw IllegalStateException");
        assertEquals(Transport.State.STARTED, a.state(), "[T1.4] a refused start must leave the transport STARTED");
        sendAndAwait(b, addressOf(a), first, pattern(48, 14), "[T1.4] after a refused second start, the first handler");
        assertEquals(0, second.calls(), "[T1.4] the handler of a refused start must never be called");
    }

    /**
     * Rule T1.5 (docs/tck.md#t15). If this fails, check that {@code stop} returns quietly when
     * not STARTED, and that it does not move CREATED to STOPPED.
     */
    @Override
    @Test
    public void required_T1_5_stopIsIdempotentAndOnlyActsWhenStarted() throws Throwable {
        Transport t = newTransport();
        t.stop();
        assertEquals(Transport.State.CREATED, t.state(), "[T1.5] stop() on a CREATED transport is a no-op");
        start(t, "t");
        t.stop();
        assertEquals(Transport.State.STOPPED, t.state(), "[T1.5] state after stop()");
        t.stop();
        assertEquals(Transport.State.STOPPED, t.state(), "[T1.5] a second stop() is a no-op");
    }

    /**
     * Rule T1.6 (docs/tck.md#t16). If this fails, check that {@code stop} releases everything a
     * new {@code start} needs (socket, threads, subscriptions) and that the new handler replaces
     * the old one.
     */
    @Override
    @Test
    public void required_T1_6_restartAfterStopDelivers() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder before = start(a, "a-before-restart");
        Recorder peer = start(b, "b");
        a.stop();
        Recorder after = start(a, "a-after-restart");
        sendAndAwait(b, addressOf(a), after, pattern(40, 16), "[T1.6] after restart, a datagram to the restarted transport");
        sendAndAwait(a, addressOf(b), peer, pattern(41, 17), "[T1.6] after restart, a datagram from the restarted transport");
        assertEquals(0, before.calls(), "[T1.6] the handler of the previous start must not be called after a restart");
    }

    /**
     * Rule T1.7 (docs/tck.md#t17). If this fails, check that {@code destroy} works from CREATED,
     * STARTED and STOPPED, is idempotent, and that DESTROYED refuses start and send with
     * IllegalStateException.
     */
    @Override
    @Test
    public void required_T1_7_destroyIsFinal() throws Throwable {
        Transport b = newPeer();
        start(b, "b");
        Endpoint to = addressOf(b);

        Transport fromCreated = newTransport();
        fromCreated.destroy();
        assertEquals(Transport.State.DESTROYED, fromCreated.state(), "[T1.7] destroy() from CREATED");

        Transport fromStarted = newTransport();
        start(fromStarted, "from-started");
        fromStarted.destroy();
        assertEquals(Transport.State.DESTROYED, fromStarted.state(), "[T1.7] destroy() from STARTED");
        assertThrows(IllegalStateException.class, () -> fromStarted.send(to, wrap(pattern(8, 18))),
                "[T1.7] send after destroy must throw IllegalStateException");

        Transport fromStopped = newTransport();
        start(fromStopped, "from-stopped");
        fromStopped.stop();
        fromStopped.destroy();
        assertEquals(Transport.State.DESTROYED, fromStopped.state(), "[T1.7] destroy() from STOPPED");

        for (Transport t : List.of(fromCreated, fromStarted, fromStopped)) {
            t.destroy();
            t.stop();
            assertEquals(Transport.State.DESTROYED, t.state(), "[T1.7] destroy() and stop() after destroy are no-ops");
            assertThrows(IllegalStateException.class, () -> t.start(recorder("after-destroy")),
                    "[T1.7] start after destroy must throw IllegalStateException");
        }
    }

    /**
     * Rule T1.8 (docs/tck.md#t18). If this fails, check that {@code start} checks its argument
     * before binding anything.
     */
    @Override
    @Test
    public void required_T1_8_startWithNullHandlerFails() throws Throwable {
        Transport t = newTransport();
        assertThrows(NullPointerException.class, () -> t.start((DatagramHandler) null), "[T1.8] start(null) must throw NullPointerException");
        assertEquals(Transport.State.CREATED, t.state(), "[T1.8] start(null) must not change the state");
        start(t, "t"); // and nothing was left half-bound
    }

    /**
     * Rule T1.9 (docs/tck.md#t19). If this fails, check that {@code localEndpoint()} answers
     * while STARTED and throws IllegalStateException after stop.
     */
    @Override
    @Test
    public void required_T1_9_localEndpointOnlyWhileStarted() throws Throwable {
        Transport t = newTransport();
        start(t, "t");
        Endpoint local = t.localEndpoint();
        assertNotNull(local, "[T1.9] localEndpoint() while STARTED must not be null");
        assertEquals(local, t.localEndpoint(), "[T1.9] localEndpoint() must be stable while STARTED");
        t.stop();
        assertThrows(IllegalStateException.class, t::localEndpoint, "[T1.9] localEndpoint() after stop must throw IllegalStateException");
    }

    // ------------------------------------------------------------------ T2 send and receive

    /**
     * Rule T2.1 (docs/tck.md#t21). If this fails, check the send path end to end, that the
     * receive path hands the handler exactly the datagram's bytes between position and limit,
     * and that the reported source is an endpoint the receiver supports and can reply to.
     */
    @Override
    @Test
    public void required_T2_1_roundTripDelivers() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        Recorder atB = start(b, "b");
        byte[] request = pattern(100, 21);
        Recorder.Received got = sendAndAwait(a, addressOf(b), atB, request, "[T2.1] a datagram from a to b");
        assertTrue(b.supports(got.source()), "[T2.1] the receiver must support the source endpoint it reports: " + got.source());
        byte[] reply = pattern(77, 22);
        sendAndAwait(b, got.source(), atA, reply, "[T2.1] a reply sent to the reported source");
    }

    /**
     * Rule T2.2 (docs/tck.md#t22). If this fails, check that {@code send} consumes the buffer
     * like a channel write: position = limit afterwards, limit untouched.
     */
    @Override
    @Test
    public void required_T2_2_sendAdvancesPositionToLimit() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        ByteBuffer buffer = wrap(pattern(64, 23));
        buffer.position(3).limit(40);
        a.send(addressOf(b), buffer);
        assertEquals(40, buffer.position(), "[T2.2] after send the position must equal the limit");
        assertEquals(40, buffer.limit(), "[T2.2] send must not change the limit");
        await(atB, "[T2.2]", "the datagram");
    }

    /**
     * Rule T2.3 (docs/tck.md#t23). If this fails, check that the transport reads from
     * {@code position()} to {@code limit()} and honours {@code arrayOffset()} when it uses the
     * backing array.
     */
    @Override
    @Test
    public void required_T2_3_sendsOnlyBytesBetweenPositionAndLimit() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        byte[] backing = pattern(300, 24);
        ByteBuffer sliced = ByteBuffer.wrap(backing, 7, 200).slice(); // arrayOffset 7
        sliced.position(10).limit(60);
        sendAccepted(a, addressOf(b), sliced, "[T2.3]", "a slice with arrayOffset 7, position 10, limit 60");
        Recorder.Received got = await(atB, "[T2.3]", "the datagram");
        assertArrayEquals(Arrays.copyOfRange(backing, 17, 67), got.bytes(),
                "[T2.3] the receiver must get exactly the bytes between position and limit");
    }

    /**
     * Rule T2.4 (docs/tck.md#t24). If this fails, check that the transport does not call
     * {@code array()} on buffers that have none (direct) or may not expose it (read-only).
     */
    @Override
    @Test
    public void required_T2_4_acceptsDirectAndReadOnlyBuffers() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        byte[] bytes = pattern(90, 25);
        ByteBuffer direct = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
        sendAccepted(a, addressOf(b), direct, "[T2.4]", "a direct buffer");
        assertArrayEquals(bytes, await(atB, "[T2.4]", "the direct-buffer datagram").bytes(), "[T2.4] direct buffer content");
        ByteBuffer readOnly = wrap(bytes).asReadOnlyBuffer();
        sendAccepted(a, addressOf(b), readOnly, "[T2.4]", "a read-only buffer");
        assertArrayEquals(bytes, await(atB, "[T2.4]", "the read-only-buffer datagram").bytes(), "[T2.4] read-only buffer content");
    }

    // ------------------------------------------------------------------ T3 supports()

    /**
     * Rule T3.1 (docs/tck.md#t31). If this fails, check that {@code supports} accepts the
     * endpoints your own transports listen on.
     */
    @Override
    @Test
    public void required_T3_1_supportsPeerEndpoint() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        start(b, "b");
        assertTrue(a.supports(addressOf(b)), "[T3.1] supports() must be true for a peer's endpoint " + addressOf(b));
    }

    /**
     * Rule T3.2 (docs/tck.md#t32). If this fails, check that {@code supports} checks the scheme
     * (and address family, ...) and that {@code send} throws IllegalArgumentException for what
     * {@code supports} refuses.
     */
    @Override
    @Test
    public void required_T3_2_unsupportedEndpointIsRejected() throws Throwable {
        Endpoint unsupported = unsupportedEndpoint();
        assumeTrue(unsupported != null, "unsupportedEndpoint() returned null: this transport declares no unsupported endpoint");
        Transport a = newTransport();
        start(a, "a");
        assertFalse(a.supports(unsupported), "[T3.2] supports() must be false for " + unsupported);
        assertThrows(IllegalArgumentException.class, () -> a.send(unsupported, wrap(pattern(8, 32))),
                "[T3.2] send to an unsupported endpoint must throw IllegalArgumentException");
    }

    /** Rule T3.3 (docs/tck.md#t33). If this fails, check {@code Objects.requireNonNull} in {@code supports}. */
    @Override
    @Test
    public void required_T3_3_supportsNullFails() throws Throwable {
        Transport a = newTransport();
        start(a, "a");
        assertThrows(NullPointerException.class, () -> a.supports(null), "[T3.3] supports(null) must throw NullPointerException");
    }

    // ------------------------------------------------------------------ T4 size limits

    private int testableMaxSize(Transport t) {
        int max = t.capabilities().maxDatagramSize();
        assumeTrue(max <= 16 * 1024 * 1024, "maxDatagramSize " + max + " is too large to allocate for a test");
        return max;
    }

    /**
     * Rule T4.1 (docs/tck.md#t41). If this fails, check the size comparison ({@code >} not
     * {@code >=}), header overhead that the declared maximum forgot, and receive buffers smaller
     * than the maximum (truncation).
     */
    @Override
    @Test
    public void required_T4_1_maxSizeDatagramIsAccepted() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        int max = testableMaxSize(a);
        byte[] bytes = pattern(max, 41);
        Recorder.Received got = sendAndAwait(a, addressOf(b), atB, bytes, "[T4.1] a datagram of exactly maxDatagramSize (" + max + ") bytes");
        assertEquals(max, got.bytes().length, "[T4.1] length of the largest datagram");
    }

    /**
     * Rule T4.2 (docs/tck.md#t42). If this fails, check that {@code send} compares
     * {@code remaining()} against {@code maxDatagramSize} and throws IllegalArgumentException
     * before sending anything.
     */
    @Override
    @Test
    public void required_T4_2_oversizedDatagramIsRejected() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        int max = testableMaxSize(a);
        assumeTrue(max < Integer.MAX_VALUE, "maxDatagramSize is Integer.MAX_VALUE: nothing is oversized");
        assertThrows(IllegalArgumentException.class, () -> a.send(addressOf(b), wrap(new byte[max + 1])),
                "[T4.2] a datagram of maxDatagramSize + 1 (" + (max + 1) + ") bytes must be rejected with IllegalArgumentException");
        sendAndAwait(a, addressOf(b), atB, pattern(probeSize(), 42), "[T4.2] after an oversized datagram was refused, a normal one");
    }

    // ------------------------------------------------------------------ T5 arguments

    /** Rule T5.1 (docs/tck.md#t51). If this fails, check {@code Objects.requireNonNull} at the top of {@code send}. */
    @Override
    @Test
    public void required_T5_1_sendNullArgumentsFail() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        start(b, "b");
        Endpoint to = addressOf(b);
        assertThrows(NullPointerException.class, () -> a.send(null, wrap(pattern(8, 51))), "[T5.1] send(null, datagram) must throw NullPointerException");
        assertThrows(NullPointerException.class, () -> a.send(to, null), "[T5.1] send(remote, null) must throw NullPointerException");
        if (a.capabilities().ttlControl()) {
            assertThrows(NullPointerException.class, () -> a.send(null, wrap(pattern(8, 52)), 64), "[T5.1] send(null, datagram, ttl) must throw NullPointerException");
            assertThrows(NullPointerException.class, () -> a.send(to, null, 64), "[T5.1] send(remote, null, ttl) must throw NullPointerException");
        }
    }

    // ------------------------------------------------------------------ T6 threading and buffers

    /**
     * Rule T6.1 (docs/tck.md#t61). The receiver's handler is stalled, so nothing is read; the
     * sender must still get through {@link #floodDatagrams()} sends, returning false when a
     * buffer is full. If this fails, check for blocking queue operations ({@code put}, a full
     * {@code write}), blocking socket mode, or waiting for an acknowledgement inside {@code send};
     * the failure message shows where the sender was stuck.
     */
    @Override
    @Test
    public void required_T6_1_sendNeverBlocks() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        CountDownLatch release = new CountDownLatch(1);
        AtomicLong stalledCalls = new AtomicLong();
        b.start(new DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
                stalledCalls.incrementAndGet();
                try {
                    release.await(); // a receiver that stopped reading
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        });
        Endpoint to = addressOf(b);
        int size = Math.min(1024, a.capabilities().maxDatagramSize());
        int count = floodDatagrams();
        AtomicLong accepted = new AtomicLong();
        AtomicLong done = new AtomicLong();
        Thread sender = helper("flood-sender", () -> {
            ByteBuffer buffer = ByteBuffer.allocate(size);
            for (int i = 0; i < count; i++) {
                buffer.clear();
                buffer.putInt(0, i);
                if (a.send(to, buffer)) {
                    accepted.incrementAndGet();
                }
                done.incrementAndGet();
            }
        });
        try {
            sender.start();
            sender.join(timeout().toMillis());
            if (sender.isAlive()) {
                StringBuilder where = new StringBuilder();
                for (StackTraceElement e : sender.getStackTrace()) {
                    where.append("\n\tat ").append(e);
                }
                fail("[T6.1] send blocked: after " + timeout() + " the sender had completed " + done.get() + " of " + count
                        + " sends to a receiver that is not reading; send must return false instead of waiting. Sender stuck at:" + where);
            }
            assertTrue(accepted.get() > 0, "[T6.1] not a single send was accepted");
        } finally {
            release.countDown();
        }
    }

    /**
     * Rule T6.2 (docs/tck.md#t62). The suite overwrites its one buffer right after each send
     * returns. If this fails, check that {@code send} copies or transmits the bytes before it
     * returns, instead of queueing the caller's buffer (or a {@code duplicate()}/{@code slice()}
     * of it) for another thread.
     */
    @Override
    @Test
    public void required_T6_2_callerMayReuseBufferAfterSend() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        int count = 200;
        int size = Math.min(64, a.capabilities().maxDatagramSize());
        ByteBuffer buffer = ByteBuffer.allocate(size);
        int accepted = 0;
        for (int seq = 0; seq < count; seq++) {
            buffer.clear();
            buffer.put(sequenced(seq, size)).flip();
            if (a.send(to, buffer)) {
                accepted++;
            }
            buffer.clear();
            Arrays.fill(buffer.array(), (byte) 0xEE); // the caller reuses its buffer at once
        }
        Set<Integer> seen = new HashSet<>();
        int received = 0;
        Recorder.Received got;
        while (received < accepted && (got = atB.poll(timeout())) != null) {
            received++;
            int seq = checkSequenced(got.bytes(), size, "[T6.2] a datagram changed after send returned: the transport read the caller's "
                    + "buffer after send returned (copy it, or transmit before returning)");
            assertTrue(seen.add(seq), "[T6.2] datagram " + seq + " arrived twice: the transport read the caller's buffer after send returned");
        }
        assertTrue(received > 0, "[T6.2] none of " + accepted + " accepted datagrams arrived");
        if (a.capabilities().reliable()) {
            assertEquals(accepted, received, "[T6.2] a reliable transport must deliver every accepted datagram");
        }
    }

    /** [seq:int][crc32 of the rest:int][bytes derived from seq]. */
    private static byte[] sequenced(int seq, int size) {
        byte[] out = new byte[size];
        byte[] body = pattern(size - 8, seq * 7919 + 1);
        System.arraycopy(body, 0, out, 8, body.length);
        CRC32 crc = new CRC32();
        crc.update(out, 8, size - 8);
        ByteBuffer.wrap(out).putInt(0, seq).putInt(4, (int) crc.getValue());
        return out;
    }

    private static int checkSequenced(byte[] got, int size, String message) {
        if (got.length != size) {
            fail(message + " (length " + got.length + ", expected " + size + ")");
        }
        int seq = ByteBuffer.wrap(got).getInt(0);
        if (seq < 0 || !Arrays.equals(got, sequenced(seq, size))) {
            fail(message + " (content of datagram " + seq + " differs from what was sent)");
        }
        return seq;
    }

    /**
     * Rule T6.3 (docs/tck.md#t63). Several peer transports, each used by two threads at once,
     * send datagrams of varying sizes to one receiver. If this fails, check shared mutable state
     * in {@code send} (a shared encode buffer, an unsynchronised encoder), framing under
     * concurrency (interleaved writes on a stream), and buffer reuse on the receive side.
     */
    @Override
    @Test
    public void required_T6_3_concurrentSendersNoCorruption() throws Throwable {
        Transport receiver = newTransport();
        Recorder at = start(receiver, "receiver");
        Endpoint to = addressOf(receiver);
        int senders = 4;
        int threadsPerSender = 2;
        int perThread = 250;
        int maxSize = Math.min(1200, receiver.capabilities().maxDatagramSize());
        AtomicLong accepted = new AtomicLong();
        Set<Integer> acceptedStreams = java.util.concurrent.ConcurrentHashMap.newKeySet();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            Transport sender = newPeer();
            start(sender, "sender-" + s);
            for (int t = 0; t < threadsPerSender; t++) {
                int stream = s * threadsPerSender + t;
                Thread thread = helper("sender-" + stream, () -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        if (sender.send(to, wrap(concurrentPayload(stream, i, maxSize)))) {
                            accepted.incrementAndGet();
                            acceptedStreams.add(stream);
                        }
                    }
                });
                threads.add(thread);
                thread.start();
            }
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(timeout().toMillis());
            assertFalse(t.isAlive(), "[T6.3] a sender thread did not finish within " + timeout() + " (send blocked?)");
        }
        long expected = accepted.get();
        Set<Long> seen = new HashSet<>();
        Set<Integer> streamsSeen = new HashSet<>();
        long received = 0;
        boolean reliable = receiver.capabilities().reliable();
        Duration quiet = Duration.ofMillis(Math.min(1000, timeout().toMillis()));
        long deadline = System.nanoTime() + timeout().toNanos();
        Recorder.Received got;
        // An unreliable transport may lose datagrams here, so stop waiting once the receiver has
        // been quiet for a while (waiting longer only slows the test). A reliable one must
        // deliver everything: wait up to the whole liveness bound, however slow the machine.
        while (received < expected && System.nanoTime() < deadline
                && (got = at.poll(reliable ? Duration.ofNanos(Math.max(1, deadline - System.nanoTime())) : quiet)) != null) {
            received++;
            byte[] bytes = got.bytes();
            if (bytes.length < 12) {
                fail("[T6.3] a corrupted datagram of " + bytes.length + " bytes arrived");
            }
            ByteBuffer view = wrap(bytes);
            int stream = view.getInt(0);
            int seq = view.getInt(4);
            if (stream < 0 || stream >= senders * threadsPerSender || seq < 0 || seq >= perThread
                    || !Arrays.equals(bytes, concurrentPayload(stream, seq, maxSize))) {
                fail("[T6.3] a datagram arrived corrupted (claims stream " + stream + " seq " + seq + ", " + bytes.length
                        + " bytes, content differs from what was sent)");
            }
            assertTrue(seen.add(((long) stream << 32) | seq), "[T6.3] datagram " + seq + " of stream " + stream + " arrived twice");
            streamsSeen.add(stream);
        }
        assertFalse(streamsSeen.isEmpty(), "[T6.3] no datagram of " + expected + " accepted ones arrived");
        if (reliable) {
            // A bounded transport may refuse every send of a thread (send returns false); each
            // thread that had a datagram accepted must see it delivered.
            assertEquals(acceptedStreams, streamsSeen,
                    "[T6.3] every thread with an accepted datagram must get it through; received " + received + " of " + expected);
            assertEquals(expected, received, "[T6.3] a reliable transport must deliver every accepted datagram within " + timeout());
        }
    }

    /** [stream:int][seq:int][crc:int][derived bytes], size varying with seq. */
    private static byte[] concurrentPayload(int stream, int seq, int maxSize) {
        int size = 12 + Math.floorMod(seq * 131 + stream * 17, Math.max(1, maxSize - 12));
        byte[] out = new byte[size];
        byte[] body = pattern(size - 12, stream * 100_003 + seq);
        System.arraycopy(body, 0, out, 12, body.length);
        CRC32 crc = new CRC32();
        crc.update(body);
        ByteBuffer.wrap(out).putInt(0, stream).putInt(4, seq).putInt(8, (int) crc.getValue());
        return out;
    }

    /**
     * Rule T6.4 (docs/tck.md#t64). A peer floods the transport while it is stopped. If this
     * fails, check that {@code stop} wakes and waits for the receive thread (unless called from
     * it), and that the receive loop re-checks its state before calling the handler.
     */
    @Override
    @Test
    public void required_T6_4_stopWhileReceivingIsClean() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        start(b, "b");
        Endpoint to = addressOf(a);
        AtomicBoolean flooding = new AtomicBoolean(true);
        AtomicLong sentAfterStop = new AtomicLong();
        AtomicBoolean stopped = new AtomicBoolean();
        byte[] bytes = pattern(Math.min(200, a.capabilities().maxDatagramSize()), 64);
        Thread flood = helper("flood", () -> {
            while (flooding.get() && !Thread.currentThread().isInterrupted()) {
                b.send(to, wrap(bytes));
                if (stopped.get()) {
                    sentAfterStop.incrementAndGet();
                }
            }
        });
        flood.start();
        await(atA, "[T6.4]", "the first flooded datagram");
        Thread stopper = helper("stopper", a::stop);
        stopper.start();
        stopper.join(timeout().toMillis());
        assertFalse(stopper.isAlive(), "[T6.4] stop() did not return within " + timeout() + " while datagrams were arriving");
        stopped.set(true);
        long callsAtStop = atA.calls();
        long deadline = System.nanoTime() + timeout().toNanos();
        while (sentAfterStop.get() < 1000 && System.nanoTime() < deadline && flood.isAlive()) {
            Thread.onSpinWait();
        }
        flooding.set(false);
        flood.join(timeout().toMillis());
        // Give a transport that (wrongly) still delivers time to show it, even on a starved machine.
        Thread.sleep(Math.min(500, timeout().toMillis()));
        assertEquals(Transport.State.STOPPED, a.state(), "[T6.4] state after stop()");
        assertEquals(callsAtStop, atA.calls(), "[T6.4] the handler was called after stop() returned");
        a.destroy();
        assertEquals(Transport.State.DESTROYED, a.state(), "[T6.4] state after destroy()");
    }

    /**
     * Rule T6.5 (docs/tck.md#t65). If this fails, check that the receive loop catches what the
     * handler throws (log it) and goes on receiving.
     */
    @Override
    @Test
    public void required_T6_5_handlerExceptionDoesNotStopReceiving() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder good = recorder("a");
        a.start(new DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
                if (datagram.remaining() > 0 && datagram.get(datagram.position()) == 1) {
                    throw new IllegalStateException("TCK: a handler bug, thrown on purpose [T6.5]");
                }
                good.onDatagram(source, datagram);
            }
        });
        start(b, "b");
        byte[] poison = pattern(32, 65);
        poison[0] = 1;
        assertTrue(b.send(addressOf(a), wrap(poison)), "[T6.5] send() to an idle peer returned false");
        byte[] after = pattern(32, 66);
        after[0] = 2;
        sendAndAwait(b, addressOf(a), good, after, "[T6.5] after the handler threw, the next datagram");
        assertEquals(Transport.State.STARTED, a.state(), "[T6.5] a handler exception must not stop the transport");
    }

    /**
     * Rule T6.6 (docs/tck.md#t66). Several peers send at once; the suite's handler flags any
     * overlapping call. If this fails, check that one thread (or a serial executor) calls the
     * handler.
     */
    @Override
    @Test
    public void required_T6_6_handlerIsNotCalledConcurrently() throws Throwable {
        Transport receiver = newTransport();
        Recorder at = new Recorder(errors, "receiver", 20_000);
        receiver.start(at);
        Endpoint to = addressOf(receiver);
        int senders = 3;
        int perSender = 200;
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> threads = new ArrayList<>();
        Set<Integer> sent = ConcurrentHashMap.newKeySet();
        for (int s = 0; s < senders; s++) {
            Transport sender = newPeer();
            start(sender, "sender-" + s);
            int id = s;
            Thread t = helper("sender-" + s, () -> {
                go.await();
                for (int i = 0; i < perSender; i++) {
                    if (sender.send(to, wrap(sequenced(id * perSender + i, 32)))) {
                        sent.add(id * perSender + i);
                    }
                }
            });
            threads.add(t);
            t.start();
        }
        go.countDown();
        for (Thread t : threads) {
            t.join(timeout().toMillis());
        }
        int received = 0;
        Duration quiet = Duration.ofMillis(Math.min(1000, timeout().toMillis()));
        // The first datagram may take up to the liveness bound; after that, stop once quiet.
        while (received < sent.size() && at.poll(received == 0 ? timeout() : quiet) != null) {
            received++;
        }
        assertTrue(received > 0, "[T6.6] nothing arrived from " + senders + " concurrent senders");
        // Overlapping calls were recorded by the Recorder and are rethrown after the test.
    }

    // ------------------------------------------------------------------ T7 TTL control

    /**
     * Rule T7.1 (docs/tck.md#t71). Needs {@code ttlControl} and {@link #createTtlWitness()}. If
     * this fails, check that the TTL is applied to the socket before the send and restored right
     * after it (under a lock that ordinary sends also take), and the option level/number for the
     * address family (IPv4 {@code IP_TTL}, IPv6 {@code IPV6_UNICAST_HOPS}).
     */
    @Override
    @Test
    public void optional_T7_1_ttlControlSetsTtl() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().ttlControl(), "the transport does not declare ttlControl");
        TtlWitness witness = createTtlWitness();
        assumeTrue(witness != null, "createTtlWitness() returned null: no way to observe TTLs on the wire was supplied");
        try (witness) {
            start(a, "a");
            Endpoint to = witness.endpoint();
            assertTrue(a.send(to, wrap(pattern(20, 71))), "[T7.1] send() to an idle witness returned false");
            int defaultTtl = witness.nextTtl(timeout());
            assertTrue(defaultTtl > 0, "[T7.1] the witness saw no datagram sent without a TTL");
            for (int ttl : new int[] {2, 1, 5, 200}) {
                if (ttl == defaultTtl) {
                    continue;
                }
                assertTrue(a.send(to, wrap(pattern(20, 72 + ttl)), ttl), "[T7.1] send(.., ttl=" + ttl + ") to an idle witness returned false");
                assertEquals(ttl, witness.nextTtl(timeout()), "[T7.1] the datagram sent with ttl=" + ttl + " must carry that TTL on the wire");
                assertTrue(a.send(to, wrap(pattern(20, 73))), "[T7.1] send() to an idle witness returned false");
                assertEquals(defaultTtl, witness.nextTtl(timeout()), "[T7.1] after a send with ttl=" + ttl
                        + ", an ordinary send must carry the default TTL again");
            }
        }
    }

    /**
     * Rule T7.2 (docs/tck.md#t72). Needs {@code ttlControl}. If this fails, check the TTL range
     * check (1..255, IllegalArgumentException) and that the TTL variant applies the same state,
     * size and endpoint checks as {@code send(remote, datagram)}.
     */
    @Override
    @Test
    public void optional_T7_2_ttlSendFollowsSendContract() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().ttlControl(), "the transport does not declare ttlControl");
        Transport b = newPeer();
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        assertThrows(IllegalStateException.class, () -> a.send(to, wrap(pattern(8, 74)), 64), "[T7.2] send with a TTL before start must throw IllegalStateException");
        start(a, "a");
        for (int bad : new int[] {0, -1, 256}) {
            assertThrows(IllegalArgumentException.class, () -> a.send(to, wrap(pattern(8, 75)), bad), "[T7.2] ttl " + bad + " must be rejected with IllegalArgumentException");
        }
        int max = testableMaxSize(a);
        if (max < Integer.MAX_VALUE) {
            assertThrows(IllegalArgumentException.class, () -> a.send(to, wrap(new byte[max + 1]), 64), "[T7.2] an oversized datagram with a TTL must be rejected with IllegalArgumentException");
        }
        byte[] bytes = pattern(50, 76);
        ByteBuffer buffer = wrap(bytes);
        assertTrue(a.send(to, buffer, 64), "[T7.2] send(.., 64) to an idle peer returned false");
        assertEquals(buffer.limit(), buffer.position(), "[T7.2] after send with a TTL the position must equal the limit");
        assertArrayEquals(bytes, await(atB, "[T7.2]", "the datagram sent with ttl 64").bytes(), "[T7.2] content of the datagram sent with ttl 64");
        a.stop();
        assertThrows(IllegalStateException.class, () -> a.send(to, wrap(pattern(8, 77)), 64), "[T7.2] send with a TTL after stop must throw IllegalStateException");
    }

    /**
     * Rule T7.3 (docs/tck.md#t73). If this fails, the transport silently ignores the TTL (or
     * does something else) although it does not declare {@code ttlControl}; keep the SPI's
     * default method, which throws UnsupportedOperationException.
     */
    @Override
    @Test
    public void required_T7_3_ttlSendWithoutCapabilityIsUnsupported() throws Throwable {
        Transport a = newTransport();
        assumeFalse(a.capabilities().ttlControl(), "the transport declares ttlControl: T7.1 and T7.2 apply instead");
        Transport b = newPeer();
        start(a, "a");
        start(b, "b");
        assertThrows(UnsupportedOperationException.class, () -> a.send(addressOf(b), wrap(pattern(8, 78)), 2),
                "[T7.3] send with a TTL must throw UnsupportedOperationException when ttlControl is false");
    }

    // ------------------------------------------------------------------ T8 bad input

    /**
     * Rule T8.1 (docs/tck.md#t81). If this fails, check code that assumes at least one byte
     * (reading a type byte, {@code get(0)}), and receive loops that treat a 0-byte read as the end.
     */
    @Override
    @Test
    public void required_T8_1_zeroLengthDatagramIsHarmless() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        Recorder atB = start(b, "b");
        a.send(addressOf(b), ByteBuffer.allocate(0)); // either result is fine; no exception
        byte[] marker = pattern(24, 81);
        assertTrue(a.send(addressOf(b), wrap(marker)), "[T8.1] send() after a zero-length datagram returned false");
        Recorder.Received got;
        while ((got = atB.poll(timeout())) != null && !Arrays.equals(got.bytes(), marker)) {
            assertEquals(0, got.bytes().length, "[T8.1] the only datagram before the marker may be the zero-length one");
        }
        assertNotNull(got, "[T8.1] a datagram sent after a zero-length one did not arrive within " + timeout());
        sendAndAwait(b, addressOf(a), atA, pattern(24, 82), "[T8.1] a datagram in the other direction after a zero-length one");
        assertEquals(Transport.State.STARTED, b.state(), "[T8.1] a zero-length datagram must not stop the receiver");
    }

    /**
     * Rule T8.2 (docs/tck.md#t82). Random bytes and sizes, including bytes that look like the
     * transport's own framing. If this fails, check for in-band framing that is not escaped,
     * text encodings applied to binary data, or trimming of trailing zeros.
     */
    @Override
    @Test
    public void required_T8_2_arbitraryBytesAreDeliveredUnchanged() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        long seed = new Random().nextLong();
        Random random = new Random(seed);
        int maxSize = Math.min(1500, a.capabilities().maxDatagramSize());
        List<byte[]> inputs = new ArrayList<>();
        inputs.add(new byte[maxSize]); // all zeros
        byte[] ones = new byte[maxSize];
        Arrays.fill(ones, (byte) 0xFF);
        inputs.add(ones);
        inputs.add(new byte[] {0});
        for (int i = 0; i < 60; i++) {
            byte[] bytes = new byte[1 + random.nextInt(maxSize)];
            random.nextBytes(bytes);
            inputs.add(bytes);
        }
        for (byte[] bytes : inputs) {
            sendAndAwait(a, addressOf(b), atB, bytes, "[T8.2] (random seed " + seed + ") a " + bytes.length + "-byte arbitrary datagram");
        }
        assertEquals(Transport.State.STARTED, b.state(), "[T8.2] arbitrary bytes must not stop the receiver");
    }

    /**
     * Rule T8.3 (docs/tck.md#t83). Needs {@link #wireInjector()}. If this fails, check that the
     * receive path's decoder rejects malformed input with a precise exception that the receive
     * loop catches, and that it never closes the transport because of one bad peer.
     */
    @Override
    @Test
    public void optional_T8_3_malformedWireInputIsHarmless() throws Throwable {
        WireInjector injector = wireInjector();
        assumeTrue(injector != null, "wireInjector() returned null: no way to put raw bytes on this transport's wire was supplied");
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        start(b, "b");
        Endpoint target = addressOf(a);
        Random random = new Random(83);
        List<byte[]> hostile = new ArrayList<>(List.of(new byte[0], new byte[] {0}, new byte[] {(byte) 0xFF},
                new byte[1400], filled(1400, (byte) 0xFF), filled(7, (byte) 0x80)));
        for (int i = 0; i < 40; i++) {
            byte[] bytes = new byte[random.nextInt(1400)];
            random.nextBytes(bytes);
            hostile.add(bytes);
        }
        for (byte[] raw : hostile) {
            injector.inject(target, raw);
        }
        sendAndAwait(b, target, atA, pattern(40, 84), "[T8.3] after malformed input, a well-formed datagram");
        assertEquals(Transport.State.STARTED, a.state(), "[T8.3] malformed input must not stop the transport");
        assertNotEquals(Transport.State.STOPPED, b.state(), "[T8.3] the sending peer must still be running");
    }

    private static byte[] filled(int length, byte value) {
        byte[] b = new byte[length];
        Arrays.fill(b, value);
        return b;
    }
}
