package io.peerlink.tck;

import io.peerlink.Endpoint;
import io.peerlink.spi.DatagramHandler;

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
    record Received(Endpoint source, byte[] bytes) {
    }

    private final ThreadErrors errors;
    private final String name;
    private final BlockingQueue<Received> queue = new LinkedBlockingQueue<>();
    private final AtomicInteger inCall = new AtomicInteger();
    private final AtomicLong calls = new AtomicLong();

    private final long dwellNanos;

    Recorder(ThreadErrors errors, String name) {
        this(errors, name, 0);
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
        if (inCall.incrementAndGet() > 1) {
            errors.add(new AssertionError("[T6.6] " + name + ": DatagramHandler.onDatagram was called concurrently "
                    + "from two threads; a transport must call its handler from one thread at a time"));
        }
        try {
            calls.incrementAndGet();
            if (source == null || datagram == null) {
                errors.add(new AssertionError("[T2.1] " + name + ": onDatagram got a null "
                        + (source == null ? "source" : "datagram")));
                return;
            }
            byte[] copy = new byte[datagram.remaining()];
            datagram.get(copy);
            queue.add(new Received(source, copy));
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
    public void onTransportFailure(Throwable failure) {
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

    /** @return how many times onDatagram was called */
    long calls() {
        return calls.get();
    }
}
