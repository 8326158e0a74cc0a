package io.peerlink.tck;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;
import io.peerlink.spi.ReceiveContext;
import io.peerlink.spi.Transport;

import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The suite's {@link DatagramHandler}: copies every datagram into a queue and checks, on the
 * transport's thread, what can only be checked there (non-null arguments, no concurrent calls).
 * Violations go to the test's {@link ThreadErrors} and are rethrown when the test ends.
 */
final class Recorder implements DatagramHandler {

    /** One received datagram, copied out of the transport's buffer. */
    record Received(Endpoint source, byte[] bytes, ReceiveContext context) {
    }

    private final ThreadErrors errors;
    private final String name;
    private final BlockingQueue<Received> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger inCall = new AtomicInteger();
    private final AtomicLong calls = new AtomicLong();
    /** Deliveries since the last onBurstEnd (T11.3). */
    private final AtomicLong sinceBurstEnd = new AtomicLong();
    private final AtomicLong burstEnds = new AtomicLong();

    private final long dwellNanos;
    private volatile int maxDatagramSize = Integer.MAX_VALUE;
    private volatile boolean peerAuthentication = true;
    private volatile boolean failureExpected;
    private final BlockingQueue<Throwable> failures = new LinkedBlockingQueue<>();
    private final BlockingQueue<Transport.State> statesAtFailure = new LinkedBlockingQueue<>();
    private volatile Transport transport;

    Recorder(ThreadErrors errors, String name) {
        this(errors, name, 0);
    }

    /**
     * Checks every later delivery against what {@code t} declares (size, peer authentication).
     *
     * @param t the transport this handler is given to
     * @return this
     */
    Recorder watching(Transport t) {
        this.transport = t;
        this.maxDatagramSize = t.capabilities().maxDatagramSize();
        this.peerAuthentication = t.capabilities().peerAuthentication();
        return this;
    }

    /** @return this, now treating {@code onTransportFailure} as the expected outcome (T1.12) */
    Recorder expectingFailure() {
        this.failureExpected = true;
        return this;
    }

    /**
     * @param dwellNanos how long each call lingers before returning; widens the window in which
     *        an overlapping call from a second thread is caught (T6.6)
     */
    Recorder(ThreadErrors errors, String name, long dwellNanos) {
        this.errors = errors;
        this.name = name;
        this.dwellNanos = dwellNanos;
    }

    @Override
    public void onDatagram(Endpoint source, ByteBuffer datagram) {
        record(source, datagram, null);
    }

    @Override
    public void onDatagram(Endpoint source, ByteBuffer datagram, ReceiveContext context) {
        if (context == null) {
            errors.add(new AssertionError("[T9.5] " + name + ": onDatagram(source, datagram, context) got a null context; "
                    + "pass ReceiveContext.NONE when the transport knows nothing more"));
        } else if (!peerAuthentication && context.authenticatedPeer().isPresent()) {
            errors.add(new AssertionError("[T9.5] " + name + ": a datagram carried authenticatedPeer '" + context.authenticatedPeer().get()
                    + "' although the transport does not declare peerAuthentication"));
        }
        record(source, datagram, context);
    }

    private void record(Endpoint source, ByteBuffer datagram, ReceiveContext context) {
        if (inCall.incrementAndGet() > 1) {
            errors.add(new AssertionError("[T6.6] " + name + ": DatagramHandler.onDatagram was called concurrently "
                    + "from two threads; a transport must call its handler from one thread at a time"));
        }
        try {
            calls.incrementAndGet();
            sinceBurstEnd.incrementAndGet();
            if (source == null || datagram == null) {
                errors.add(new AssertionError("[T2.1] " + name + ": onDatagram got a null "
                        + (source == null ? "source" : "datagram")));
                return;
            }
            if (datagram.remaining() > maxDatagramSize) {
                errors.add(new AssertionError("[T4.2] " + name + ": the handler got a datagram of " + datagram.remaining()
                        + " bytes, above the declared maxDatagramSize " + maxDatagramSize
                        + " (a receive path that does not bound frame lengths?)"));
            }
            byte[] copy = new byte[datagram.remaining()];
            datagram.get(copy);
            queue.add(new Received(source, copy, context == null ? ReceiveContext.NONE : context));
            if (dwellNanos > 0) {
                long until = System.nanoTime() + dwellNanos;
                while (System.nanoTime() < until) {
                    Thread.onSpinWait();
                }
            }
        } catch (RuntimeException e) {
            errors.add(new AssertionError(name + ": reading the datagram buffer in onDatagram failed", e));
        } finally {
            inCall.decrementAndGet();
        }
    }

    @Override
    public void onBurstEnd() {
        if (inCall.incrementAndGet() > 1) {
            errors.add(new AssertionError("[T11.3] " + name + ": DatagramHandler.onBurstEnd was called concurrently with "
                    + "onDatagram or itself; call it from the receive thread, between deliveries"));
        }
        try {
            burstEnds.incrementAndGet();
            sinceBurstEnd.set(0);
        } finally {
            inCall.decrementAndGet();
        }
    }

    /** @return datagrams delivered since the last onBurstEnd */
    long sinceBurstEnd() {
        return sinceBurstEnd.get();
    }

    /** @return how many times onBurstEnd was called */
    long burstEnds() {
        return burstEnds.get();
    }

    @Override
    public void onTransportFailure(Throwable failure) {
        Transport t = transport;
        statesAtFailure.add(t == null ? Transport.State.STOPPED : t.state());
        failures.add(failure == null ? new NullPointerException("onTransportFailure(null)") : failure);
        if (failure == null) {
            errors.add(new AssertionError("[T1.12] " + name + ": onTransportFailure was called with null"));
        }
        if (failureExpected) {
            return;
        }
        errors.add(new AssertionError(name + ": the transport reported a failure of its own "
                + "(onTransportFailure) during a test that gives it no reason to fail", failure));
    }

    /** @return the next datagram, or null if none arrives within the timeout */
    Received poll(Duration timeout) throws InterruptedException {
        return queue.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** @return the next datagram, already received, or null */
    Received pollNow() {
        return queue.poll();
    }

    /** @return the next reported transport failure, or null if none is reported within the timeout */
    Throwable pollFailure(Duration timeout) throws InterruptedException {
        return failures.poll(timeout.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** @return the state the transport was in when the next reported failure was reported, or null */
    Transport.State stateAtFailure() {
        return statesAtFailure.poll();
    }

    /** @return how many times onDatagram was called */
    long calls() {
        return calls.get();
    }
}
