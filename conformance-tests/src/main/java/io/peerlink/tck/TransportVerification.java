package io.peerlink.tck;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.SendCallback;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.zip.CRC32;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
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
 * <p>Optional hooks unlock more rules: {@link #createTransportBoundTo(Endpoint)} (restart on a
 * fixed port), {@link #failureInjector()} (failure reporting), {@link #wireInjector()} (malformed
 * input and hostile framing below your framing), {@link #createTtlWitness()} (TTL on the wire).
 * Capabilities the transport declares ({@code ordered}, {@code reliable}, ...) are verified
 * under load. Rules the suite cannot check are {@code untested_} tests, always skipped with the
 * reason. Sends in bulk run on helper threads bounded by {@link #timeout()}, so a blocking
 * {@code send} fails its rule instead of hanging the build.
 *
 * <p>The suite needs a loss-free test path between two transports (loopback, an embedded
 * broker): when nothing else is going on, a datagram that {@code send} accepted must arrive.
 * Losses are tolerated only where the suite floods and the transport is unreliable.
 */
@org.junit.runner.RunWith(JUnitPlatformBridge.class)
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

    /**
     * @return how many datagrams T9.3 sends through a transport that declares {@code reliable};
     *         default 100,000 (a good transport moves them in well under a second)
     */
    protected int reliableDatagrams() {
        return 100_000;
    }

    /**
     * For T1.10: a new transport in CREATED that will bind exactly {@code local} (the endpoint a
     * transport of {@link #createTransport()} was started on), e.g. by passing it as the bind
     * endpoint of your provider's configuration.
     *
     * @param local the endpoint to bind, with the port the earlier transport got
     * @return the transport, or null (the default) to skip T1.10
     * @throws Exception if it cannot be created
     */
    protected Transport createTransportBoundTo(Endpoint local) throws Exception {
        return null;
    }

    /** @return a way to break a started transport underneath it for T1.12, or null (the default) to skip T1.12 */
    protected FailureInjector failureInjector() {
        return null;
    }

    /**
     * For T9.6, with {@code peerAuthentication}: the identity a receiver must report in
     * {@link io.peerlink.spi.ReceiveContext#authenticatedPeer()} for datagrams from {@code sender}.
     *
     * @param sender a STARTED transport of {@link #createPeerTransport()}
     * @return the expected identity, or null (the default) to skip T9.6
     */
    protected String expectedAuthenticatedPeer(Transport sender) {
        return null;
    }

    // ------------------------------------------------------------------ test plumbing

    private final List<Throwable> uncaught = new java.util.concurrent.CopyOnWriteArrayList<>();
    private Thread.UncaughtExceptionHandler previousUncaughtHandler;

    @BeforeEach
    final void resetTckState() {
        errors = new ThreadErrors();
        uncaught.clear();
        // A thread that dies of an exception is invisible to JUnit; catch it for every rule (T8.4).
        previousUncaughtHandler = Thread.getDefaultUncaughtExceptionHandler();
        Thread.setDefaultUncaughtExceptionHandler((thread, e) -> uncaught.add(new AssertionError("an uncaught " + e
                + " ended thread '" + thread.getName() + "' (nothing may escape a transport's threads; see T8.4)", e)));
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
        Thread.setDefaultUncaughtExceptionHandler(previousUncaughtHandler);
        uncaught.forEach(errors::add);
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
        Recorder r = recorder(name).watching(t);
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
        assertTrue(accepted, () -> rule + " send() of " + what + " to an idle peer returned false (nothing should be full); the sender: " + from);
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
     * buffer is full, and the transport must deliver again once the receiver reads. If this
     * fails, check for blocking queue operations ({@code put}, a full {@code write}), blocking
     * socket mode, or waiting for an acknowledgement inside {@code send}; the failure message
     * shows where the sender was stuck.
     */
    @Override
    @Test
    public void required_T6_1_sendNeverBlocks() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        CountDownLatch release = new CountDownLatch(1);
        Recorder afterRelease = recorder("b").watching(b);
        b.start(stalledUntil(release, afterRelease));
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
            String stuck = awaitSender(sender, done::get);
            if (stuck != null) {
                fail("[T6.1] send blocked (" + stuck + "): the sender had completed " + done.get() + " of " + count
                        + " sends to a receiver that is not reading; send must return false instead of waiting. Sender stuck at:"
                        + stackOf(sender));
            }
            assertTrue(accepted.get() > 0, "[T6.1] not a single one of " + count + " sends was accepted");
        } finally {
            release.countDown();
        }
        sendUntilArrives(a, to, afterRelease, pattern(size, 61),
                "[T6.1] after the receiver resumed reading (" + accepted.get() + " of " + count + " flood datagrams accepted), a new datagram");
    }

    /**
     * Waits for a thread that sends until it is done. It is stuck when no send returned for the
     * liveness bound ({@code progress}, the count of sends that returned, unchanged for
     * {@link #timeout()}), not when a sender whose sends keep returning needs longer in total: on
     * a loaded machine thousands of sends share a starved CPU. Ten times the bound still ends a
     * sender that crawls.
     *
     * @return null once {@code t} has finished; otherwise why it is held to be stuck
     */
    private String awaitSender(Thread t, java.util.function.LongSupplier progress) throws InterruptedException {
        long bound = timeout().toNanos();
        long start = System.nanoTime();
        long last = progress.getAsLong();
        long lastChange = start;
        while (true) {
            t.join(50);
            if (!t.isAlive()) {
                return null;
            }
            long now = System.nanoTime();
            long p = progress.getAsLong();
            if (p != last) {
                last = p;
                lastChange = now;
            } else if (now - lastChange > bound) {
                return "stalled: no send returned for " + timeout();
            }
            if (now - start > 10 * bound) {
                return "was still sending after " + timeout().multipliedBy(10) + " (" + p + " sends returned: far too slow)";
            }
        }
    }

    /**
     * Runs {@code body} (which sends) on a helper thread and fails, showing where it is stuck,
     * if it does not finish within the liveness bound: a blocking send must fail the rule, never
     * hang the suite.
     */
    private void bounded(String rule, String what, ThrowingRunnable body) throws Throwable {
        bounded(rule, what, null, body);
    }

    /**
     * As {@link #bounded(String, String, ThrowingRunnable)}, for a body that sends until it is
     * done (no deadline of its own) and counts every send that returned in {@code progress}: it
     * is stuck when no send returned for the liveness bound (see {@link #awaitSender}).
     */
    private void bounded(String rule, String what, java.util.function.LongSupplier progress, ThrowingRunnable body) throws Throwable {
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                body.run();
            } catch (Throwable e) {
                failure.set(e);
            }
        }, "tck-bounded-sender");
        t.setDaemon(true);
        t.start();
        String stuck = null;
        if (progress == null) {
            t.join(timeout().toMillis() + 1000);
            if (t.isAlive()) {
                stuck = "did not finish within " + timeout();
            }
        } else {
            stuck = awaitSender(t, progress);
        }
        if (stuck != null) {
            String where = stackOf(t);
            t.interrupt();
            fail(rule + " " + what + " " + stuck + ": send blocked? Stuck at:" + where);
        }
        if (failure.get() != null) {
            throw failure.get();
        }
    }

    private static String stackOf(Thread thread) {
        StringBuilder where = new StringBuilder();
        for (StackTraceElement e : thread.getStackTrace()) {
            where.append("\n\tat ").append(e);
        }
        return where.toString();
    }

    /** A handler whose first call waits for {@code release} (a receiver that stopped reading), then records. */
    private static DatagramHandler stalledUntil(CountDownLatch release, Recorder then) {
        return new DatagramHandler() {
            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                then.onDatagram(source, datagram);
            }

            @Override
            public void onDatagram(Endpoint source, ByteBuffer datagram, io.peerlink.spi.ReceiveContext context) {
                try {
                    release.await();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
                then.onDatagram(source, datagram, context);
            }

            @Override
            public void onTransportFailure(Throwable failure) {
                then.onTransportFailure(failure);
            }
        };
    }

    /**
     * Sends {@code bytes} again every 100 ms until they arrive: for checks that come right after a
     * flood, where an unreliable transport may still drop the first tries.
     */
    private void sendUntilArrives(Transport from, Endpoint to, Recorder at, byte[] bytes, String what) throws InterruptedException {
        long deadline = System.nanoTime() + timeout().toNanos();
        while (System.nanoTime() < deadline) {
            try {
                from.send(to, wrap(bytes));
            } catch (RuntimeException e) {
                throw new AssertionError(what + ": send() threw " + e, e);
            }
            long until = Math.min(deadline, System.nanoTime() + 100_000_000L);
            Recorder.Received got;
            while ((got = at.poll(Duration.ofNanos(Math.max(1, until - System.nanoTime())))) != null) {
                if (Arrays.equals(got.bytes(), bytes)) {
                    return;
                }
            }
        }
        fail(what + " did not arrive within " + timeout() + ", sent again every 100 ms");
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
        List<Integer> arrived = new ArrayList<>();
        Set<Integer> distinct = new HashSet<>();
        Duration quiet = Duration.ofMillis(Math.min(200, timeout().toMillis()));
        Recorder.Received got;
        // Until every accepted datagram arrived (or the liveness bound), then a short quiet period
        // that shows deliveries beyond what was accepted. Counted by distinct sequence numbers, not
        // by arrivals: duplicates must not end the wait while originals are still on their way, or
        // a late original on a loaded machine would make a duplicating transport look like one that
        // reads the caller's buffer late.
        while ((got = atB.poll(distinct.size() < accepted ? timeout() : quiet)) != null) {
            byte[] bytes = got.bytes();
            int overwrittenBytes = 0;
            for (byte x : bytes) {
                overwrittenBytes += x == (byte) 0xEE ? 1 : 0;
            }
            arrived.add(checkSequenced(bytes, size, overwrittenBytes > bytes.length / 2 || readMidRewrite(bytes, size, count)
                    ? "[T6.2] a datagram arrived holding the bytes the caller wrote into its buffer after send returned: the transport "
                            + "read the caller's buffer after send returned (copy it, or transmit before returning)"
                    : "[T6.2] a datagram arrived corrupted (not by the caller's later writes either): check the send and receive paths"));
            distinct.add(arrived.get(arrived.size() - 1));
        }
        assertFalse(arrived.isEmpty(), "[T6.2] none of " + accepted + " accepted datagrams arrived");
        Set<Integer> seen = new HashSet<>();
        for (int seq : arrived) {
            if (!seen.add(seq)) {
                fail(arrived.size() > accepted
                        ? "[T6.2] datagram " + seq + " arrived twice and " + arrived.size() + " datagrams arrived for " + accepted
                                + " accepted sends: the transport delivered a datagram more than once (a receive loop handing one "
                                + "buffer over twice, or a retransmission without duplicate suppression)"
                        : "[T6.2] datagram " + seq + " arrived twice while others never came: the bytes of a later send replaced an "
                                + "earlier one, i.e. the transport read the caller's buffer after send returned (copy it, or transmit "
                                + "before returning)");
            }
        }
        if (a.capabilities().reliable()) {
            assertEquals(accepted, arrived.size(), "[T6.2] a reliable transport must deliver every accepted datagram");
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

    /**
     * @return true if {@code got} is not a datagram that was sent but every byte of it is either
     *         the caller's fill (0xEE) or the byte at the same position of send {@code s} or
     *         {@code s + 1} for some {@code s}: what a transport sees that reads the caller's
     *         buffer while the caller overwrites it (part old send, part fill, part next send)
     */
    private static boolean readMidRewrite(byte[] got, int size, int count) {
        if (got.length != size) {
            return false;
        }
        int seq = ByteBuffer.wrap(got).getInt(0);
        if (seq >= 0 && seq < count && Arrays.equals(got, sequenced(seq, size))) {
            return false;
        }
        for (int s = 0; s < count; s++) {
            byte[] a = sequenced(s, size);
            byte[] b = s + 1 < count ? sequenced(s + 1, size) : a;
            boolean explained = true;
            for (int i = 0; i < size && explained; i++) {
                explained = got[i] == (byte) 0xEE || got[i] == a[i] || got[i] == b[i];
            }
            if (explained) {
                return true;
            }
        }
        return false;
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
        AtomicLong returned = new AtomicLong();
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
                        returned.incrementAndGet();
                    }
                });
                threads.add(thread);
                thread.start();
            }
        }
        go.countDown();
        joinAll(threads, returned, "[T6.3]");
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

    // ------------------------------------------------------------------ T1 lifecycle: ports, resources, failures

    /**
     * Rule T1.10 (docs/tck.md#t110). Needs {@link #createTransportBoundTo(Endpoint)}. A transport
     * that a peer has talked to is stopped (then another is destroyed); a new transport bound to
     * the same endpoint must start and deliver both ways. If this fails, check that {@code stop}
     * and {@code destroy} close the listening socket and every connection, and (TCP) that the
     * listening socket sets {@code SO_REUSEADDR} so that TIME_WAIT does not block the port.
     */
    @Override
    @Test
    public void optional_T1_10_restartOnFixedPort() throws Throwable {
        Transport first = newTransport();
        Recorder atFirst = start(first, "first");
        Endpoint fixed = first.localEndpoint();
        Transport probe = createTransportBoundTo(fixed);
        assumeTrue(probe != null, "createTransportBoundTo(Endpoint) returned null: no way to bind a chosen port was supplied");
        created.add(probe);
        Transport peer = newPeer();
        Recorder atPeer = start(peer, "peer");
        sendAndAwait(peer, addressOf(first), atFirst, pattern(40, 110), "[T1.10] before the restart, a datagram to " + fixed);
        sendAndAwait(first, addressOf(peer), atPeer, pattern(40, 111), "[T1.10] before the restart, a datagram from " + fixed);
        first.stop();
        for (String after : List.of("stop()", "destroy()")) {
            Transport next = after.equals("stop()") ? probe : createTransportBoundTo(fixed);
            assertNotNull(next, "createTransportBoundTo(Endpoint) returned null the second time");
            created.add(next);
            Recorder atNext = recorder("rebound").watching(next);
            try {
                next.start(atNext);
            } catch (java.io.IOException e) {
                throw new AssertionError("[T1.10] a new transport bound to " + fixed + " could not start after the previous one's "
                        + after + ": " + e + " — " + after + " must close the listening socket and every connection"
                        + " (TCP: set SO_REUSEADDR on the listening socket)", e);
            }
            assertEquals(fixed.port(), next.localEndpoint().port(), "[T1.10] the new transport must be bound to the requested port");
            sendUntilArrives(peer, addressOf(next), atNext, pattern(40, 112), "[T1.10] after " + after + " and a new bind on "
                    + fixed + ", a datagram from the peer that knew the old transport");
            sendAndAwait(next, addressOf(peer), atPeer, pattern(40, 113), "[T1.10] after " + after + " and a new bind on " + fixed
                    + ", a datagram to the peer");
            next.destroy();
        }
    }

    /**
     * Rule T1.11 (docs/tck.md#t111). Two transports exchange datagrams, are stopped, started
     * again and destroyed; after stop and after destroy the process must hold no more sockets,
     * pipes, event descriptors and threads than before (after a warm-up round, waiting up to the
     * liveness bound for them to go). If this fails, the message lists what is left: check that
     * {@code stop} closes the listening socket, every accepted and outgoing connection and the
     * selector, and that it ends (interrupts, wakes, joins) every thread it started.
     */
    @Override
    @Test
    public void required_T1_11_stopAndDestroyReleaseResources() throws Throwable {
        String source = Resources.descriptorSource();
        assumeTrue(source != null, "open descriptors cannot be counted on this platform (no /proc/self/fd, no UnixOperatingSystemMXBean)");
        exerciseAndEnd(true); // warm-up: class loading, lazily created shared state
        exerciseAndEnd(false);
    }

    private void exerciseAndEnd(boolean warmUp) throws Throwable {
        Resources.Snapshot before = Resources.take();
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        Recorder atB = start(b, "b");
        for (int i = 0; i < 3; i++) {
            sendAndAwait(a, addressOf(b), atB, pattern(100, 1110 + i), "[T1.11] a datagram from a to b");
            sendAndAwait(b, addressOf(a), atA, pattern(100, 1120 + i), "[T1.11] a datagram from b to a");
        }
        a.stop();
        b.stop();
        if (!warmUp) {
            expectReleased(before, "stop() of both transports");
        }
        atA = start(a, "a-again");
        atB = start(b, "b-again");
        sendAndAwait(a, addressOf(b), atB, pattern(100, 1130), "[T1.11] after a restart, a datagram from a to b");
        sendAndAwait(b, addressOf(a), atA, pattern(100, 1131), "[T1.11] after a restart, a datagram from b to a");
        a.destroy();
        b.destroy();
        if (!warmUp) {
            expectReleased(before, "destroy() of both (STARTED) transports");
        }
    }

    private void expectReleased(Resources.Snapshot before, String after) throws InterruptedException {
        long deadline = System.nanoTime() + timeout().toNanos();
        String leaked;
        while ((leaked = Resources.leaked(before, Resources.take())) != null && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        if (leaked != null) {
            fail("[T1.11] " + timeout() + " after " + after + ", the process still holds what the transports took: " + leaked
                    + " (counted from " + Resources.descriptorSource() + "). stop and destroy must close the listening socket, "
                    + "every connection and selector, and end every thread they started");
        }
    }

    /**
     * Rule T1.12 (docs/tck.md#t112). Needs {@link #failureInjector()}. The transport is broken
     * underneath; it must call {@code onTransportFailure} once, already STOPPED, and start again
     * afterwards. If this fails, check that the receive (and accept) loop tells "I was stopped"
     * from "my socket died", and reports the latter instead of exiting silently.
     */
    @Override
    @Test
    public void optional_T1_12_failureIsReported() throws Throwable {
        FailureInjector injector = failureInjector();
        assumeTrue(injector != null, "failureInjector() returned null: no way to break this transport underneath was supplied");
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = recorder("a").watching(a).expectingFailure();
        a.start(atA);
        start(b, "b");
        sendAndAwait(b, addressOf(a), atA, pattern(30, 120), "[T1.12] before the failure, a datagram");
        injector.breakUnderneath(a);
        Throwable failure = atA.pollFailure(timeout());
        if (failure == null) {
            fail("[T1.12] the transport was broken underneath (by failureInjector()), but onTransportFailure was not called within "
                    + timeout() + " (state now " + a.state() + "): a transport whose socket dies must move to STOPPED and say so, "
                    + "not end its receive loop silently");
        }
        assertEquals(Transport.State.STOPPED, atA.stateAtFailure(), "[T1.12] when onTransportFailure is called the transport must already be STOPPED");
        assertEquals(Transport.State.STOPPED, a.state(), "[T1.12] a failed transport must be STOPPED");
        assertNull(atA.pollFailure(Duration.ofMillis(Math.min(300, timeout().toMillis()))),
                "[T1.12] onTransportFailure was called more than once for one failure");
        Recorder again = start(a, "a-after-failure");
        sendUntilArrives(b, addressOf(a), again, pattern(30, 121), "[T1.12] after a failure and a new start(), a datagram");
    }

    // ------------------------------------------------------------------ T4 size under stress

    /**
     * Rule T4.3 (docs/tck.md#t43). Datagrams of exactly {@code maxDatagramSize} bytes are sent
     * back to back (at least 4, up to 32 MiB in all), then a few more one at a time. If this
     * fails, check a stream transport's decoder: a frame may arrive split over several reads and
     * several frames in one read; keep the partial frame (compact, do not clear) and read on.
     */
    @Override
    @Test
    public void required_T4_3_maxSizeDatagramsBackToBack() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        int max = testableMaxSize(a);
        int count = Math.max(4, Math.min(64, (32 << 20) / max));
        boolean reliable = a.capabilities().reliable();
        // Pairs first: two datagrams in flight on an otherwise idle path must both arrive, even
        // over an unreliable transport, so a decoder that loses partial frames cannot hide
        // behind the loss tolerated in the burst below.
        for (int pair = 0; pair < 8; pair++) {
            byte[] first = sequenced(1_000_000 + 2 * pair, max);
            byte[] second = sequenced(1_000_001 + 2 * pair, max);
            sendAccepted(a, to, wrap(first), "[T4.3]", "the first of two max-size datagrams to an idle receiver");
            sendAccepted(a, to, wrap(second), "[T4.3]", "the second of two max-size datagrams to an idle receiver");
            Set<Integer> pairSeen = new HashSet<>();
            Recorder.Received got;
            while (pairSeen.size() < 2 && (got = atB.poll(timeout())) != null) {
                pairSeen.add(checkSequenced(got.bytes(), max, "[T4.3] one of two " + max + "-byte datagrams sent back to back arrived "
                        + "corrupted: a stream decoder must reassemble frames split over reads"));
            }
            if (pairSeen.size() < 2) {
                fail("[T4.3] of two " + max + "-byte datagrams sent back to back to an idle receiver (pair " + pair + "), only "
                        + pairSeen.size() + " arrived within " + timeout() + ": a decoder that assumes each read holds whole frames "
                        + "loses the rest of a frame split over reads");
            }
        }
        AtomicInteger sentCount = new AtomicInteger();
        bounded("[T4.3]", "sending " + count + " max-size datagrams back to back", () -> {
            long deadline = System.nanoTime() + timeout().toNanos();
            for (int seq = 0; seq < count && System.nanoTime() < deadline; seq++) {
                byte[] bytes = sequenced(seq, max);
                while (!sendOrFalse(a, to, bytes, "[T4.3]") && System.nanoTime() < deadline) {
                    java.util.concurrent.locks.LockSupport.parkNanos(1_000_000); // full: let the receiver catch up
                }
                sentCount.incrementAndGet();
            }
        });
        int accepted = sentCount.get();
        Set<Integer> seen = new HashSet<>();
        Duration quiet = Duration.ofMillis(Math.min(1000, timeout().toMillis()));
        Recorder.Received got;
        while (seen.size() < accepted && (got = atB.poll(reliable ? timeout() : quiet)) != null) {
            int seq = checkSequenced(got.bytes(), max, "[T4.3] a " + max + "-byte datagram sent back to back with others arrived "
                    + "corrupted: a stream decoder must reassemble frames split over reads and split reads holding several frames");
            assertTrue(seen.add(seq), "[T4.3] max-size datagram " + seq + " arrived twice");
        }
        assertFalse(seen.isEmpty(), "[T4.3] none of " + accepted + " max-size datagrams sent back to back arrived");
        if (reliable) {
            assertEquals(accepted, seen.size(), "[T4.3] only " + seen.size() + " of " + accepted + " max-size datagrams sent back to "
                    + "back arrived at a reliable transport: a decoder that assumes each read holds whole frames loses the rest");
        }
        while (atB.poll(Duration.ofMillis(100)) != null) {
            Thread.onSpinWait(); // let the burst drain before the one-at-a-time sends
        }
        for (int i = 0; i < 4; i++) {
            sendAndAwait(a, to, atB, sequenced(count + i, max), "[T4.3] after max-size datagrams back to back, one more sent to the "
                    + "idle receiver (if only this fails, the decoder lost its framing, e.g. it dropped a partial frame at the end of a read):");
        }
    }

    /** @return send's result for a fresh buffer; an exception becomes a failure naming the rule */
    private static boolean sendOrFalse(Transport from, Endpoint to, byte[] bytes, String rule) {
        try {
            return from.send(to, wrap(bytes));
        } catch (RuntimeException e) {
            throw new AssertionError(rule + " send() of a " + bytes.length + "-byte datagram threw " + e, e);
        }
    }

    // ------------------------------------------------------------------ T8 hostile framing

    /**
     * Rule T8.4 (docs/tck.md#t84). Needs {@link #wireInjector()}. Each input is one injection:
     * length prefixes that are negative, huge or one above {@code maxDatagramSize} (32-bit and
     * 16-bit, big- and little-endian), a frame cut short, an overlong varint. The transport must
     * stay STARTED, report no failure, let no exception escape any thread, deliver nothing larger
     * than {@code maxDatagramSize}, and still deliver a well-formed datagram. If this fails, check
     * that the decoder validates the length before allocating or waiting for it, and that the
     * connection's read loop catches the decoder's exception and closes only that connection.
     */
    @Override
    @Test
    public void optional_T8_4_hostileFramingIsRejected() throws Throwable {
        WireInjector injector = wireInjector();
        assumeTrue(injector != null, "wireInjector() returned null: no way to put raw bytes on this transport's wire was supplied");
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atA = recorder("a").watching(a).expectingFailure();
        a.start(atA);
        start(b, "b");
        Endpoint target = addressOf(a);
        int max = a.capabilities().maxDatagramSize();
        AssertionError notDelivered = null;
        List<byte[]> hostile = new ArrayList<>();
        for (int length : new int[] {Integer.MAX_VALUE, -1, Integer.MIN_VALUE, max + 1, -max}) {
            hostile.add(ByteBuffer.allocate(20).putInt(length).array());
            hostile.add(ByteBuffer.allocate(20).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(length).array());
        }
        hostile.add(new byte[] {(byte) 0xFF, (byte) 0xFF, 1, 2, 3, 4});
        hostile.add(ByteBuffer.allocate(14).putInt(100).put(new byte[10]).array()); // a frame cut short
        hostile.add(ByteBuffer.allocate(4 + 20).putInt(Math.min(max, 60_000)).put(new byte[20]).array());
        byte[] varint = new byte[11];
        Arrays.fill(varint, (byte) 0xFF);
        hostile.add(varint);
        Exception injectionFailed = null;
        for (byte[] raw : hostile) {
            try {
                injector.inject(target, raw);
            } catch (Exception e) {
                injectionFailed = e; // likely because an earlier input broke the transport: checked below
                break;
            }
        }
        if (injectionFailed == null) {
            try {
                sendUntilArrives(b, target, atA, pattern(40, 840), "[T8.4] after hostile framing, a well-formed datagram");
            } catch (AssertionError e) {
                notDelivered = e; // reported after the likelier causes below
            }
        } else {
            Thread.sleep(Math.min(200, timeout().toMillis()));
        }
        Throwable failure = atA.pollFailure(Duration.ZERO);
        if (failure != null) {
            throw new AssertionError("[T8.4] hostile framing made the transport report a failure of its own (" + failure + "): a "
                    + "frame decoder must reject a bad length with an exception that the connection's read loop catches, closing "
                    + "only that connection", failure);
        }
        if (!uncaught.isEmpty()) {
            Throwable first = uncaught.get(0);
            throw new AssertionError("[T8.4] while the transport decoded hostile framing, " + first.getMessage()
                    + " — validate lengths against maxDatagramSize before allocating, and catch what the decoder throws",
                    first.getCause());
        }
        assertEquals(Transport.State.STARTED, a.state(), "[T8.4] hostile framing must not stop the transport");
        if (injectionFailed != null) {
            throw new AssertionError("[T8.4] wireInjector() failed to inject (" + injectionFailed + ") although the transport is still "
                    + "STARTED: check the hook", injectionFailed);
        }
        if (notDelivered != null) {
            throw notDelivered;
        }
    }

    // ------------------------------------------------------------------ T9 declared capabilities

    /**
     * Rule T9.1 (docs/tck.md#t91). Needs {@code ordered}. Three peer transports, each used by
     * two threads, send sequenced datagrams; for every sending thread the sequence must arrive
     * increasing (gaps only where the transport is unreliable). If this fails, check that one
     * connection or queue carries everything from one sender to one destination (no pool of
     * connections, no several writer threads) and that the receive side delivers in read order.
     */
    @Override
    @Test
    public void optional_T9_1_orderedAcrossConcurrentSenders() throws Throwable {
        Transport receiver = newTransport();
        assumeTrue(receiver.capabilities().ordered(), "the transport does not declare ordered");
        Recorder at = start(receiver, "receiver");
        Endpoint to = addressOf(receiver);
        int senders = 3;
        int threadsPerSender = 2;
        int perThread = 2_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicLong accepted = new AtomicLong();
        AtomicLong returned = new AtomicLong();
        List<Thread> threads = new ArrayList<>();
        for (int s = 0; s < senders; s++) {
            Transport sender = newPeer();
            start(sender, "sender-" + s);
            for (int t = 0; t < threadsPerSender; t++) {
                int stream = s * threadsPerSender + t;
                Thread thread = helper("ordered-" + stream, () -> {
                    go.await();
                    for (int i = 0; i < perThread; i++) {
                        if (sender.send(to, wrap(streamed(stream, i)))) {
                            accepted.incrementAndGet();
                        }
                        returned.incrementAndGet();
                    }
                });
                threads.add(thread);
                thread.start();
            }
        }
        go.countDown();
        joinAll(threads, returned, "[T9.1]");
        int[] last = new int[senders * threadsPerSender];
        Arrays.fill(last, -1);
        long received = drainStreams(at, accepted.get(), receiver.capabilities().reliable(), (stream, seq) -> {
            if (seq <= last[stream]) {
                fail("[T9.1] the transport declares ordered, but datagram " + seq + " of sending thread " + stream + " arrived after "
                        + last[stream] + " (" + (seq == last[stream] ? "a duplicate" : "reordered under load") + "): one sender's "
                        + "datagrams to one destination must keep their order (one connection or queue per destination, one writer)");
            }
            last[stream] = seq;
        });
        assertTrue(received > 0, "[T9.1] none of " + accepted.get() + " accepted datagrams arrived");
    }

    /**
     * Rule T9.2 (docs/tck.md#t92). Needs {@code ordered}. The receiver stops reading while one
     * sender floods it past the point where {@code send} returns false, then resumes; the
     * accepted datagrams must arrive in the order sent. If this fails, check what happens when a
     * buffer is full: a datagram parked in an overflow list or retried later overtakes or falls
     * behind the others.
     */
    @Override
    @Test
    public void optional_T9_2_orderedAtBackPressureEdge() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().ordered(), "the transport does not declare ordered");
        Edge edge = floodPastTheEdge(a, "[T9.2]");
        int lastSeq = -1;
        for (int seq : edge.arrived()) {
            if (seq <= lastSeq) {
                fail("[T9.2] the transport declares ordered, but at the back-pressure edge (" + edge.describe() + ") datagram " + seq
                        + " arrived after " + lastSeq + ": a datagram accepted while the buffer was full (or retried later) must "
                        + "not overtake or fall behind the others");
            }
            lastSeq = seq;
        }
    }

    /**
     * Rule T9.3 (docs/tck.md#t93). Needs {@code reliable}. {@link #reliableDatagrams()}
     * datagrams (100,000 by default) are sent, each retried while {@code send} returns false; every
     * accepted one must arrive exactly once, intact. If this fails, check for a queue that drops
     * its oldest entries, a retransmission without duplicate suppression, or a receive path that
     * loses datagrams under load.
     */
    @Override
    @Test
    public void optional_T9_3_reliableDeliversEveryAcceptedDatagramOnce() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().reliable(), "the transport does not declare reliable");
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        int n = reliableDatagrams();
        int size = 16;
        // Liveness bounds, not a throughput target: sending stops when no datagram was accepted for
        // timeout() and receiving when none arrived for timeout(); 10 x timeout() ends each in any case.
        long bound = timeout().toNanos();
        long deadline = System.nanoTime() + 10 * bound;
        AtomicInteger acceptedCount = new AtomicInteger();
        AtomicLong returned = new AtomicLong();
        bounded("[T9.3]", "sending " + n + " datagrams", returned::get, () -> {
            ByteBuffer buffer = ByteBuffer.allocate(size);
            int k = 0;
            long lastAccepted = System.nanoTime();
            while (k < n && System.nanoTime() - lastAccepted < bound && System.nanoTime() < deadline) {
                buffer.clear();
                buffer.put(sequenced(k, size)).flip();
                boolean sent = a.send(to, buffer);
                returned.incrementAndGet();
                if (sent) {
                    acceptedCount.set(++k);
                    lastAccepted = System.nanoTime();
                } else {
                    java.util.concurrent.locks.LockSupport.parkNanos(100_000);
                }
            }
        });
        int accepted = acceptedCount.get();
        assertEquals(n, accepted, "[T9.3] only " + accepted + " of " + n + " datagrams were accepted: " + (System.nanoTime() >= deadline
                ? "sending took more than " + timeout().multipliedBy(10) + " (far too slow)"
                : "for " + timeout() + " send returned false for the next one (retried): the receiver is not draining (liveness bound)"));
        java.util.BitSet seen = new java.util.BitSet(n);
        int distinct = 0;
        Recorder.Received got;
        while (distinct < n && (got = atB.poll(Duration.ofNanos(Math.max(1, Math.min(bound, deadline - System.nanoTime()))))) != null) {
            int seq = checkSequenced(got.bytes(), size, "[T9.3] a datagram arrived corrupted");
            if (seq >= n || seen.get(seq)) {
                fail("[T9.3] datagram " + seq + " arrived twice: a reliable transport delivers every accepted datagram exactly once "
                        + "(a retransmission without duplicate suppression?)");
            }
            seen.set(seq);
            distinct++;
            if (distinct % 1024 == 0 && System.nanoTime() >= deadline) {
                break;
            }
        }
        if (distinct < n) {
            fail("[T9.3] the transport declares reliable, but " + (n - distinct) + " of " + n + " accepted datagrams never arrived "
                    + "(none for " + timeout() + "; first missing: " + seen.nextClearBit(0) + "): every datagram send() accepted must "
                    + "be delivered; return false instead of dropping");
        }
        got = atB.poll(Duration.ofMillis(Math.min(200, timeout().toMillis())));
        if (got != null) {
            fail("[T9.3] after all " + n + " datagrams, another arrived (" + got.bytes().length + " bytes): a duplicate delivery");
        }
    }

    /**
     * Rule T9.4 (docs/tck.md#t94). Needs {@code reliable}. As in T9.2 the receiver stops reading
     * while a sender floods it past the point where {@code send} returns false; once it reads
     * again, every accepted datagram must arrive exactly once and no refused one may arrive. If
     * this fails, check that {@code send} returns false whenever it does not keep the datagram
     * (a full queue, a full socket buffer), never true while dropping it.
     */
    @Override
    @Test
    public void optional_T9_4_reliableAtBufferFullEdge() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().reliable(), "the transport does not declare reliable");
        Edge edge = floodPastTheEdge(a, "[T9.4]");
        Set<Integer> arrived = new HashSet<>();
        for (int seq : edge.arrived()) {
            assertTrue(arrived.add(seq), "[T9.4] datagram " + seq + " arrived twice at the back-pressure edge");
            if (!edge.accepted().get(seq)) {
                fail("[T9.4] datagram " + seq + " arrived although send() returned false for it (" + edge.describe() + "): false "
                        + "means dropped; the sender's ARQ will send it again");
            }
        }
        int missing = edge.accepted().cardinality() - arrived.size();
        if (missing > 0) {
            int first = -1;
            for (int i = edge.accepted().nextSetBit(0); i >= 0; i = edge.accepted().nextSetBit(i + 1)) {
                if (!arrived.contains(i)) {
                    first = i;
                    break;
                }
            }
            fail("[T9.4] the transport declares reliable, but " + missing + " of the " + edge.accepted().cardinality()
                    + " datagrams send() accepted at the back-pressure edge never arrived (first missing: " + first + "; "
                    + edge.describe() + "): send must return false when the buffer is full, never true while dropping");
        }
    }

    /** What happened when a sender flooded a receiver that had stopped reading. */
    private record Edge(java.util.BitSet accepted, int sent, int refused, List<Integer> arrived) {
        String describe() {
            return sent + " sends, " + accepted.cardinality() + " accepted, " + refused + " refused"
                    + (refused == 0 ? " — the edge was never reached: the transport buffered everything" : "");
        }
    }

    /**
     * Floods {@code a}'s peer while its handler is stalled until {@code send} has refused 50
     * datagrams (or {@link #floodDatagrams()} were sent), goes on for 500 sends more, then lets
     * the receiver read and collects what arrives (reliable: until every accepted one did).
     */
    private Edge floodPastTheEdge(Transport a, String rule) throws Throwable {
        Transport b = newPeer();
        start(a, "a");
        CountDownLatch release = new CountDownLatch(1);
        Recorder atB = recorder("b").watching(b);
        b.start(stalledUntil(release, atB));
        Endpoint to = addressOf(b);
        int size = Math.min(256, a.capabilities().maxDatagramSize());
        java.util.BitSet accepted = new java.util.BitSet();
        int[] counts = new int[2]; // sent, refused
        try {
            bounded(rule, "flooding a receiver that is not reading", () -> {
                int after = -1;
                long deadline = System.nanoTime() + timeout().toNanos();
                while (counts[0] < floodDatagrams() && (after < 0 || counts[0] < after) && System.nanoTime() < deadline) {
                    if (sendOrFalse(a, to, sequenced(counts[0], size), rule)) {
                        accepted.set(counts[0]);
                    } else if (++counts[1] == 50) {
                        after = counts[0] + 500;
                    }
                    counts[0]++;
                }
            });
        } finally {
            release.countDown();
        }
        int sent = counts[0];
        int refused = counts[1];
        boolean reliable = a.capabilities().reliable();
        List<Integer> arrived = new ArrayList<>();
        Duration quiet = Duration.ofMillis(Math.min(reliable ? 300 : 1000, timeout().toMillis()));
        long until = System.nanoTime() + timeout().toNanos();
        Recorder.Received got;
        while (System.nanoTime() < until
                && (got = atB.poll(reliable && arrived.size() < accepted.cardinality() ? Duration.ofNanos(Math.max(1, until - System.nanoTime())) : quiet)) != null) {
            arrived.add(checkSequenced(got.bytes(), size, rule + " a datagram arrived corrupted at the back-pressure edge"));
        }
        return new Edge(accepted, sent, refused, arrived);
    }

    /**
     * Rule T9.5 (docs/tck.md#t95). Applies when {@code peerAuthentication} is false (checked on
     * every delivery of every test, too): a delivery's {@code ReceiveContext} is never null and
     * carries no authenticated peer. If this fails, pass {@code ReceiveContext.NONE} (or call the
     * two-argument {@code onDatagram}), or declare {@code peerAuthentication}.
     */
    @Override
    @Test
    public void required_T9_5_noAuthenticatedPeerWithoutPeerAuthentication() throws Throwable {
        Transport a = newTransport();
        assumeFalse(a.capabilities().peerAuthentication(), "the transport declares peerAuthentication: T9.6 applies instead");
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        Recorder.Received got = sendAndAwait(a, addressOf(b), atB, pattern(20, 95), "[T9.5] a datagram");
        assertTrue(got.context().authenticatedPeer().isEmpty(), "[T9.5] a datagram carried authenticatedPeer "
                + got.context().authenticatedPeer() + " although the transport does not declare peerAuthentication");
    }

    /**
     * Rule T9.6 (docs/tck.md#t96). Needs {@code peerAuthentication} and
     * {@link #expectedAuthenticatedPeer(Transport)}: datagrams from a peer carry that peer's
     * authenticated identity. If this fails, check that the receive path passes the identity the
     * transport authenticated (broker login, certificate subject) in the {@code ReceiveContext}.
     */
    @Override
    @Test
    public void optional_T9_6_authenticatedPeerIsReported() throws Throwable {
        Transport a = newTransport();
        assumeTrue(a.capabilities().peerAuthentication(), "the transport does not declare peerAuthentication");
        Transport b = newPeer();
        Recorder atA = start(a, "a");
        start(b, "b");
        String expected = expectedAuthenticatedPeer(b);
        assumeTrue(expected != null, "expectedAuthenticatedPeer(Transport) returned null: the expected identity was not supplied");
        Recorder.Received got = sendAndAwait(b, addressOf(a), atA, pattern(20, 96), "[T9.6] a datagram from an authenticated peer");
        assertEquals(java.util.Optional.of(expected), got.context().authenticatedPeer(),
                "[T9.6] the receiver must report the sender's authenticated identity");
    }

    /**
     * Rule T9.7 (docs/tck.md#t97), not verified: whether datagrams really pass an intermediary
     * ({@code relayed}) cannot be seen from the two ends. It is on you: declare {@code relayed}
     * exactly when they do, since the core prefers direct paths.
     */
    @Override
    @Test
    public void untested_T9_7_relayedDeclaresAnIntermediary() throws Throwable {
        notVerified("whether datagrams pass an intermediary cannot be observed from the two ends");
    }

    /**
     * Rule T9.8 (docs/tck.md#t98), not verified: a {@code reliable} transport must not lose an
     * accepted datagram when a connection or broker session breaks and is re-established; the
     * suite has no generic way to break a connection without stopping the transport.
     */
    @Override
    @Test
    public void untested_T9_8_reliableAcrossConnectionLoss() throws Throwable {
        notVerified("the suite cannot break a transport's connection without stopping the transport");
    }

    /**
     * Rule T3.4 (docs/tck.md#t34), not verified: {@code supports} and {@code send} must not block
     * on name resolution; a lookup that happens to be fast on the test machine looks the same.
     */
    @Override
    @Test
    public void untested_T3_4_noBlockingNameResolution() throws Throwable {
        notVerified("a blocking name lookup that returns quickly here is indistinguishable from none");
    }

    private static void notVerified(String why) {
        org.junit.jupiter.api.Assumptions.abort("not verified by this TCK (" + why + "); see docs/tck.md");
    }

    private interface StreamCheck {
        void accept(int stream, int seq);
    }

    /** [stream:int][seq:int][stream * 31 + seq:int]: small, self-checking. */
    private static byte[] streamed(int stream, int seq) {
        return ByteBuffer.allocate(12).putInt(stream).putInt(seq).putInt(stream * 31 + seq).array();
    }

    /** Receives streamed datagrams until {@code expected} arrived (reliable) or it is quiet; returns how many. */
    private long drainStreams(Recorder at, long expected, boolean reliable, StreamCheck check) throws InterruptedException {
        long received = 0;
        Duration quiet = Duration.ofMillis(Math.min(1000, timeout().toMillis()));
        long deadline = System.nanoTime() + timeout().toNanos();
        Recorder.Received got;
        while (received < expected && System.nanoTime() < deadline
                && (got = at.poll(reliable ? Duration.ofNanos(Math.max(1, deadline - System.nanoTime())) : quiet)) != null) {
            ByteBuffer view = wrap(got.bytes());
            if (got.bytes().length != 12 || view.getInt(8) != view.getInt(0) * 31 + view.getInt(4)) {
                fail("a datagram arrived corrupted (" + got.bytes().length + " bytes)");
            }
            check.accept(view.getInt(0), view.getInt(4));
            received++;
        }
        if (reliable && received < expected) {
            fail("a reliable transport delivered only " + received + " of " + expected + " accepted datagrams within " + timeout());
        }
        return received;
    }

    /** Waits for sender threads that count every send that returned in {@code returned} (see {@link #awaitSender}). */
    private void joinAll(List<Thread> threads, AtomicLong returned, String rule) throws InterruptedException {
        for (Thread t : threads) {
            String stuck = awaitSender(t, returned::get);
            if (stuck != null) {
                fail(rule + " a sender thread " + stuck + " (send blocked?) at:" + stackOf(t));
            }
        }
    }

    // ------------------------------------------------------------------ T10 send completion

    /** Counts the calls a {@link SendCallback} gets. */
    private final class CountingCallback implements SendCallback {
        final AtomicInteger calls = new AtomicInteger();
        final String rule;

        CountingCallback(String rule) {
            this.rule = rule;
        }

        @Override
        public void completed() {
            calls.incrementAndGet();
        }

        @Override
        public void failed(Throwable cause) {
            calls.incrementAndGet();
            if (cause == null) {
                errors.add(new AssertionError(rule + " SendCallback.failed was called with a null cause"));
            }
        }
    }

    /**
     * Rule T10.1 (docs/tck.md#t101). A sender floods a receiver that has stopped reading, with
     * a callback per send; once the receiver reads again, every send that returned true must
     * have called its callback exactly once, every send that returned false never. If this
     * fails, check that the callback travels with the queued datagram, is called when the bytes
     * leave (or fail), and is neither called on refusal nor called again on a later error.
     */
    @Override
    @Test
    public void required_T10_1_callbackExactlyOncePerAcceptedSend() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        CountDownLatch release = new CountDownLatch(1);
        b.start(stalledUntil(release, recorder("b").watching(b)));
        Endpoint to = addressOf(b);
        int count = floodDatagrams();
        int size = Math.min(512, a.capabilities().maxDatagramSize());
        CountingCallback[] callbacks = new CountingCallback[count];
        boolean[] accepted = new boolean[count];
        AtomicInteger returned = new AtomicInteger();
        try {
            bounded("[T10.1]", "flooding a receiver that is not reading", returned::get, () -> {
                for (int i = 0; i < count; i++) {
                    callbacks[i] = new CountingCallback("[T10.1]");
                    try {
                        accepted[i] = a.send(to, wrap(sequenced(i, size)), callbacks[i]);
                    } catch (RuntimeException e) {
                        throw new AssertionError("[T10.1] send(remote, datagram, callback) #" + i + " threw " + e, e);
                    }
                    returned.incrementAndGet();
                }
            });
        } finally {
            release.countDown();
        }
        awaitCallbacks(callbacks, accepted, "[T10.1]", "after the receiver resumed reading");
    }

    private void awaitCallbacks(CountingCallback[] callbacks, boolean[] accepted, String rule, String when) throws InterruptedException {
        long deadline = System.nanoTime() + timeout().toNanos();
        int pending = -1;
        while (System.nanoTime() < deadline) {
            pending = 0;
            for (int i = 0; i < callbacks.length; i++) {
                if (accepted[i] && callbacks[i].calls.get() == 0) {
                    pending++;
                }
            }
            if (pending == 0) {
                break;
            }
            Thread.sleep(10);
        }
        Thread.sleep(Math.min(200, timeout().toMillis())); // room for a second, wrong call
        for (int i = 0; i < callbacks.length; i++) {
            int calls = callbacks[i].calls.get();
            if (accepted[i] && calls == 0) {
                fail(rule + " " + pending + " accepted send(s) never had their callback called within " + timeout() + " " + when
                        + " (first: #" + i + "): every send that returned true must end in exactly one completed() or failed()");
            }
            if (accepted[i] && calls > 1) {
                fail(rule + " the callback of accepted send #" + i + " was called " + calls + " times; exactly once is the contract");
            }
            if (!accepted[i] && calls > 0) {
                fail(rule + " send #" + i + " returned false, yet its callback was called " + calls + " time(s): a refused send must never call back");
            }
        }
    }

    /**
     * Rule T10.2 (docs/tck.md#t102). Sends that throw (not started, null arguments, oversized,
     * unsupported endpoint, after stop) must never call their callback, and a null callback is a
     * {@code NullPointerException}. If this fails, check the argument and state checks run before
     * the callback is attached to anything.
     */
    @Override
    @Test
    public void required_T10_2_refusedSendNeverCallsBack() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(b, "b");
        Endpoint to = addressOf(b);
        List<CountingCallback> refused = new ArrayList<>();
        CountingCallback beforeStart = new CountingCallback("[T10.2]");
        refused.add(beforeStart);
        assertThrows(IllegalStateException.class, () -> a.send(to, wrap(pattern(8, 102)), beforeStart),
                "[T10.2] send(remote, datagram, callback) before start must throw IllegalStateException");
        start(a, "a");
        assertThrows(NullPointerException.class, () -> a.send(to, wrap(pattern(8, 103)), (SendCallback) null),
                "[T10.2] send(remote, datagram, null) must throw NullPointerException");
        CountingCallback nullRemote = new CountingCallback("[T10.2]");
        refused.add(nullRemote);
        assertThrows(NullPointerException.class, () -> a.send(null, wrap(pattern(8, 104)), nullRemote),
                "[T10.2] send(null, datagram, callback) must throw NullPointerException");
        int max = a.capabilities().maxDatagramSize();
        if (max <= 16 * 1024 * 1024) {
            CountingCallback oversized = new CountingCallback("[T10.2]");
            refused.add(oversized);
            assertThrows(IllegalArgumentException.class, () -> a.send(to, wrap(new byte[max + 1]), oversized),
                    "[T10.2] an oversized send with a callback must throw IllegalArgumentException");
        }
        Endpoint unsupported = unsupportedEndpoint();
        if (unsupported != null) {
            CountingCallback elsewhere = new CountingCallback("[T10.2]");
            refused.add(elsewhere);
            assertThrows(IllegalArgumentException.class, () -> a.send(unsupported, wrap(pattern(8, 105)), elsewhere),
                    "[T10.2] a send with a callback to an unsupported endpoint must throw IllegalArgumentException");
        }
        a.stop();
        CountingCallback afterStop = new CountingCallback("[T10.2]");
        refused.add(afterStop);
        assertThrows(IllegalStateException.class, () -> a.send(to, wrap(pattern(8, 106)), afterStop),
                "[T10.2] send(remote, datagram, callback) after stop must throw IllegalStateException");
        Thread.sleep(Math.min(200, timeout().toMillis()));
        for (int i = 0; i < refused.size(); i++) {
            assertEquals(0, refused.get(i).calls.get(), "[T10.2] the callback of refused send #" + i
                    + " (before start, null remote, oversized, unsupported endpoint, after stop) was called: a send that throws must never call back");
        }
    }

    /**
     * Rule T10.3 (docs/tck.md#t103). Sends are accepted while the receiver does not read, then
     * the sender is stopped: every accepted send's callback must still be called exactly once
     * ({@code failed} for what was dropped). If this fails, check that {@code stop} and
     * {@code destroy} drain the send queues and fail each pending callback.
     */
    @Override
    @Test
    public void required_T10_3_pendingCallbacksCompleteOnStop() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        CountDownLatch release = new CountDownLatch(1);
        b.start(stalledUntil(release, recorder("b").watching(b)));
        Endpoint to = addressOf(b);
        int count = floodDatagrams();
        int size = Math.min(512, a.capabilities().maxDatagramSize());
        CountingCallback[] callbacks = new CountingCallback[count];
        boolean[] accepted = new boolean[count];
        int[] sentCount = new int[1];
        AtomicInteger returned = new AtomicInteger();
        try {
            bounded("[T10.3]", "flooding a receiver that is not reading, then stop()", returned::get, () -> {
                int refusedSoFar = 0;
                while (sentCount[0] < count && refusedSoFar < 10) {
                    int i = sentCount[0];
                    callbacks[i] = new CountingCallback("[T10.3]");
                    accepted[i] = a.send(to, wrap(sequenced(i, size)), callbacks[i]);
                    refusedSoFar += accepted[i] ? 0 : 1;
                    sentCount[0]++;
                    returned.incrementAndGet();
                }
                a.stop();
            });
        } finally {
            release.countDown();
        }
        int sent = sentCount[0];
        awaitCallbacks(Arrays.copyOf(callbacks, sent), Arrays.copyOf(accepted, sent), "[T10.3]",
                "after the sender was stopped with datagrams still queued (stop must fail what it drops)");
    }

    /**
     * Rule T10.4 (docs/tck.md#t104), not verified: with {@code sendCompletion},
     * {@code completed()} must mean the next hop acknowledged the datagram; the suite cannot see
     * the next hop's acknowledgements.
     */
    @Override
    @Test
    public void untested_T10_4_completionMeansNextHopAcknowledged() throws Throwable {
        notVerified("the next hop's acknowledgements are invisible to the suite");
    }

    // ------------------------------------------------------------------ T11 batches

    /**
     * Rule T11.1 (docs/tck.md#t111). If this fails, check that {@code sendBatch} sends
     * {@code datagrams[offset, offset + count)} and nothing else, reads each buffer between its
     * position and limit (heap with an array offset, direct, read-only alike), advances each of
     * those positions to its limit, leaves the other array elements alone, and returns how many
     * were handed over (all of them, to an idle peer). The SPI's default implementation does all
     * of this by calling {@code send} per datagram.
     */
    @Override
    @Test
    public void required_T11_1_sendBatchDeliversEachDatagram() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        start(a, "a");
        Recorder atB = start(b, "b");
        int max = a.capabilities().maxDatagramSize();
        int[] sizes = {1000, 1000, 1000, 500, 300, 64};
        ByteBuffer[] batch = new ByteBuffer[sizes.length + 2];
        batch[0] = wrap(pattern(Math.min(max, 40), 1100));
        batch[batch.length - 1] = wrap(pattern(Math.min(max, 41), 1101));
        List<String> expected = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            byte[] bytes = pattern(Math.min(max, sizes[i]), 1110 + i);
            expected.add(java.util.HexFormat.of().formatHex(bytes));
            ByteBuffer d;
            if (i == 1) {
                // a slice with an array offset, positioned past a few bytes that are not sent
                byte[] backing = new byte[bytes.length + 7];
                System.arraycopy(bytes, 0, backing, 5, bytes.length);
                d = ByteBuffer.wrap(backing, 2, bytes.length + 5).slice().position(3).limit(3 + bytes.length);
            } else if (i == 4) {
                d = ByteBuffer.allocateDirect(bytes.length).put(bytes).flip();
            } else if (i == 5) {
                d = wrap(bytes).asReadOnlyBuffer();
            } else {
                d = wrap(bytes);
            }
            batch[i + 1] = d;
        }
        int sent;
        try {
            sent = a.sendBatch(addressOf(b), batch, 1, sizes.length);
        } catch (RuntimeException e) {
            throw new AssertionError("[T11.1] sendBatch of " + sizes.length + " datagrams to an idle peer threw " + e, e);
        }
        assertEquals(sizes.length, sent, () -> "[T11.1] sendBatch to an idle peer must hand over every datagram (nothing should be full); the sender: " + a);
        for (int i = 1; i <= sizes.length; i++) {
            assertEquals(batch[i].limit(), batch[i].position(), "[T11.1] after sendBatch the position of datagrams[" + i + "] must equal its limit");
        }
        assertEquals(0, batch[0].position(), "[T11.1] sendBatch must not touch datagrams before offset");
        assertEquals(0, batch[batch.length - 1].position(), "[T11.1] sendBatch must not touch datagrams after offset + count");
        List<String> got = new ArrayList<>();
        for (int i = 0; i < sizes.length; i++) {
            got.add(java.util.HexFormat.of().formatHex(await(atB, "[T11.1]", "datagram " + (got.size() + 1) + " of the batch").bytes()));
        }
        List<String> want = new ArrayList<>(expected);
        java.util.Collections.sort(got);
        java.util.Collections.sort(want);
        assertEquals(want, got, "[T11.1] the receiver must get exactly the batch's datagrams, each intact");
        Recorder.Received extra = atB.poll(Duration.ofMillis(200));
        assertNull(extra, "[T11.1] a datagram outside [offset, offset + count) arrived");
    }

    /**
     * Rule T11.2 (docs/tck.md#t112). If this fails, check that {@code sendBatch} checks the
     * state, the endpoint, the array range and every datagram (null, size) before it sends the
     * first one: a batch that throws must have sent nothing.
     */
    @Override
    @Test
    public void required_T11_2_sendBatchChecksArgumentsFirst() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        int max = a.capabilities().maxDatagramSize();
        assertThrows(IllegalStateException.class, () -> a.sendBatch(to, new ByteBuffer[] {wrap(pattern(20, 1200))}, 0, 1),
                "[T11.2] sendBatch before start must throw IllegalStateException");
        start(a, "a");
        Set<String> refused = new HashSet<>();
        java.util.function.IntFunction<ByteBuffer> valid = seed -> {
            byte[] bytes = pattern(24, seed);
            refused.add(java.util.HexFormat.of().formatHex(bytes));
            return wrap(bytes);
        };
        assertThrows(NullPointerException.class, () -> a.sendBatch(null, new ByteBuffer[] {valid.apply(1201)}, 0, 1),
                "[T11.2] a null remote must throw NullPointerException");
        assertThrows(NullPointerException.class, () -> a.sendBatch(to, null, 0, 1),
                "[T11.2] a null array must throw NullPointerException");
        assertThrows(NullPointerException.class, () -> a.sendBatch(to, new ByteBuffer[] {valid.apply(1202), null}, 0, 2),
                "[T11.2] a null datagram in the batch must throw NullPointerException before anything is sent");
        assertThrows(IndexOutOfBoundsException.class, () -> a.sendBatch(to, new ByteBuffer[] {valid.apply(1203)}, -1, 1),
                "[T11.2] a negative offset must throw IndexOutOfBoundsException");
        assertThrows(IndexOutOfBoundsException.class, () -> a.sendBatch(to, new ByteBuffer[] {valid.apply(1204)}, 0, 2),
                "[T11.2] offset + count beyond the array must throw IndexOutOfBoundsException");
        assertThrows(IndexOutOfBoundsException.class, () -> a.sendBatch(to, new ByteBuffer[] {valid.apply(1205)}, 0, -1),
                "[T11.2] a negative count must throw IndexOutOfBoundsException");
        if (max <= 16 * 1024 * 1024) {
            ByteBuffer oversized = ByteBuffer.allocate(max + 1);
            assertThrows(IllegalArgumentException.class, () -> a.sendBatch(to, new ByteBuffer[] {valid.apply(1206), oversized}, 0, 2),
                    "[T11.2] a datagram above maxDatagramSize must throw IllegalArgumentException before anything is sent");
        }
        Endpoint unsupported = unsupportedEndpoint();
        if (unsupported != null) {
            assertThrows(IllegalArgumentException.class, () -> a.sendBatch(unsupported, new ByteBuffer[] {valid.apply(1207)}, 0, 1),
                    "[T11.2] an unsupported endpoint must throw IllegalArgumentException");
        }
        byte[] marker = pattern(33, 1208);
        Recorder.Received first = sendAndAwait(a, to, atB, marker, "[T11.2] a datagram sent after the refused batches");
        assertNotNull(first);
        Recorder.Received late;
        while ((late = atB.poll(Duration.ofMillis(300))) != null) {
            assertFalse(refused.contains(java.util.HexFormat.of().formatHex(late.bytes())),
                    "[T11.2] a datagram of a batch that threw arrived: sendBatch must check everything before sending");
        }
        a.stop();
        assertThrows(IllegalStateException.class, () -> a.sendBatch(to, new ByteBuffer[] {wrap(pattern(20, 1209))}, 0, 1),
                "[T11.2] sendBatch after stop must throw IllegalStateException");
    }

    /**
     * Rule T11.3 (docs/tck.md#t113), for transports that declare {@code receiveBursts}. If this
     * fails, check that the receive loop calls {@code handler.onBurstEnd()} after the last
     * datagram it has at hand, before it waits for more input (and after a bounded number of
     * deliveries in a row), on the receive thread, never while {@code onDatagram} runs.
     */
    @Override
    @Test
    public void optional_T11_3_burstEndFollowsDeliveries() throws Throwable {
        Transport a = newTransport();
        Transport b = newPeer();
        assumeTrue(b.capabilities().receiveBursts(), "the transport does not declare receiveBursts");
        start(a, "a");
        Recorder atB = start(b, "b");
        Endpoint to = addressOf(b);
        ByteBuffer[] batch = new ByteBuffer[20];
        for (int i = 0; i < batch.length; i++) {
            batch[i] = wrap(pattern(200, 1300 + i));
        }
        assertEquals(batch.length, a.sendBatch(to, batch, 0, batch.length), "[T11.3] sendBatch to an idle peer");
        for (int i = 0; i < 5; i++) {
            sendAccepted(a, to, wrap(pattern(100, 1400 + i)), "[T11.3]", "a single datagram");
        }
        for (int i = 0; i < batch.length + 5; i++) {
            await(atB, "[T11.3]", "datagram " + (i + 1) + " of 25");
        }
        long deadline = System.nanoTime() + timeout().toNanos();
        while (atB.sinceBurstEnd() > 0 && System.nanoTime() < deadline) {
            Thread.sleep(5);
        }
        assertEquals(0, atB.sinceBurstEnd(), "[T11.3] the transport declares receiveBursts, but " + atB.sinceBurstEnd()
                + " delivered datagram(s) were not followed by onBurstEnd within " + timeout());
        assertTrue(atB.burstEnds() >= 1, "[T11.3] onBurstEnd was never called");
    }

    private static byte[] filled(int length, byte value) {
        byte[] b = new byte[length];
        Arrays.fill(b, value);
        return b;
    }
}
