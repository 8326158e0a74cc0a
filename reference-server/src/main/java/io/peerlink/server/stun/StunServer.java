package io.peerlink.server.stun;

import io.peerlink.protocol.stun.Stun;
import io.peerlink.protocol.stun.StunEncoder;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.protocol.stun.StunMessage;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.StandardProtocolFamily;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicLong;
import io.peerlink.server.log.RateLimitedLogger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An RFC 8489 Binding server on UDP: answers each Binding request with the XOR-MAPPED-ADDRESS
 * of its source, answers requests carrying unknown comprehension-required attributes with 420,
 * and silently drops everything else (garbage, indications, responses).
 *
 * <p>One thread, one blocking {@link DatagramChannel}, one reused receive buffer, one reused
 * send buffer and one reused decoder: the only per-datagram allocation is the source address
 * the JDK returns from {@code receive}. Because every datagram costs the same small constant
 * work whether it is valid or not, a flood of garbage only competes for socket-buffer space and
 * never starves valid requests of answers (clients retransmit per RFC 8489 6.2.1 for what the
 * kernel drops).
 *
 * <p>Reflection: an answer (40-84 bytes) is larger than the smallest request (20 bytes), so a
 * spoofed source could aim answers at a victim. Answers are therefore limited per source IP
 * address and second ({@link SourceRateLimiter}); requests over the limit are dropped
 * unanswered. One request never gets more than one answer.
 */
public final class StunServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StunServer.class);
    private final RateLimitedLogger failures = RateLimitedLogger.of(LOG);
    private static final byte[] SOFTWARE = "PeerLink reference server".getBytes(StandardCharsets.UTF_8);
    private static final byte[] UNKNOWN_ATTRIBUTE = "Unknown Attribute".getBytes(StandardCharsets.UTF_8);

    private final DatagramChannel channel;
    private final InetSocketAddress localAddress;
    private final Thread thread;
    private final AtomicLong answered = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private volatile boolean closed;
    private volatile InetSocketAddress lastAnswered;
    private final AtomicLong rateLimited = new AtomicLong();
    private final SourceRateLimiter limiter;

    private StunServer(DatagramChannel channel, int perSourcePerSecond) throws IOException {
        this.channel = channel;
        this.limiter = new SourceRateLimiter(perSourcePerSecond);
        this.localAddress = (InetSocketAddress) channel.getLocalAddress();
        this.thread = new Thread(this::serve, "peerlink-stun-" + localAddress.getPort());
        this.thread.setDaemon(true);
    }

    /**
     * Binds and starts serving.
     *
     * @param bind the address and port to bind (port 0 for an ephemeral port; 3478 is the STUN default)
     * @return the running server
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static StunServer start(InetSocketAddress bind) {
        return start(bind, 20);
    }

    /**
     * Binds and starts serving.
     *
     * @param bind the address and port to bind (port 0 for an ephemeral port; 3478 is the STUN default)
     * @param perSourcePerSecond answers per source IP address and second (burst twice that)
     * @return the running server
     * @throws UncheckedIOException if the port cannot be bound
     */
    public static StunServer start(InetSocketAddress bind, int perSourcePerSecond) {
        DatagramChannel channel = null;
        try {
            channel = bind.getAddress() != null && bind.getAddress() instanceof java.net.Inet6Address
                    ? DatagramChannel.open(StandardProtocolFamily.INET6)
                    : DatagramChannel.open(StandardProtocolFamily.INET);
            // A large receive buffer absorbs bursts so valid requests are not lost behind garbage.
            channel.setOption(StandardSocketOptions.SO_RCVBUF, 1 << 20);
            channel.bind(bind);
            StunServer server = new StunServer(channel, perSourcePerSecond);
            server.thread.start();
            LOG.info("STUN server listening on udp {}", server.localAddress);
            return server;
        } catch (IOException e) {
            if (channel != null) {
                try {
                    channel.close();
                } catch (IOException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw new UncheckedIOException("cannot bind STUN server to udp " + bind + ": " + e.getMessage(), e);
        }
    }

    private void serve() {
        ByteBuffer in = ByteBuffer.allocateDirect(Stun.MAX_MESSAGE_LENGTH + 1);
        ByteBuffer out = ByteBuffer.allocateDirect(Stun.MAX_MESSAGE_LENGTH);
        StunMessage request = new StunMessage();
        StunEncoder encoder = new StunEncoder();
        byte[] txid = new byte[Stun.TRANSACTION_ID_LENGTH];
        while (!closed) {
            try {
                in.clear();
                InetSocketAddress source = (InetSocketAddress) channel.receive(in);
                in.flip();
                if (!handle(in, source, request, encoder, out, txid)) {
                    dropped.incrementAndGet();
                    continue;
                }
                if (!limiter.tryAcquire(source.getAddress())) {
                    rateLimited.incrementAndGet();
                    dropped.incrementAndGet();
                    continue;
                }
                channel.send(out, source);
                lastAnswered = source;
                answered.incrementAndGet();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                // A send to an unreachable source (ICMP) must not stop the server.
                dropped.incrementAndGet();
                LOG.debug("STUN I/O error, continuing", e);
            } catch (RuntimeException e) {
                dropped.incrementAndGet();
                failures.warn("unexpected failure handling a STUN datagram, continuing", e);
            }
        }
    }

    /** @return true if {@code out} holds a response to send */
    private static boolean handle(ByteBuffer in, InetSocketAddress source, StunMessage request, StunEncoder encoder,
                                  ByteBuffer out, byte[] txid) {
        if (in.remaining() > Stun.MAX_MESSAGE_LENGTH || in.remaining() < Stun.HEADER_LENGTH
                || !Stun.looksLikeStun(in.get(0))) {
            return false;
        }
        try {
            request.decode(in);
        } catch (StunFormatException e) {
            return false;
        }
        if (!request.isBindingRequest()) {
            return false;
        }
        request.copyTransactionId(txid);
        out.clear();
        if (request.unknownRequiredCount() > 0) {
            encoder.writeBindingError(out, txid, Stun.ERROR_UNKNOWN_ATTRIBUTE, UNKNOWN_ATTRIBUTE, request);
        } else {
            encoder.writeBindingSuccess(out, txid, source.getAddress(), source.getPort(), SOFTWARE);
        }
        out.flip();
        return true;
    }

    /** @return the bound address (with the real port when 0 was asked for) */
    public InetSocketAddress localAddress() {
        return localAddress;
    }

    /** @return responses sent so far */
    public long answered() {
        return answered.get();
    }

    /** @return valid requests dropped by the per-source limit so far (also counted in {@link #dropped()}) */
    public long rateLimited() {
        return rateLimited.get();
    }

    /** @return the source address of the last answered request (diagnostics), or {@code null} */
    public InetSocketAddress lastAnswered() {
        return lastAnswered;
    }

    /** @return datagrams dropped so far (garbage, non-requests, send failures) */
    public long dropped() {
        return dropped.get();
    }

    /** Stops serving and releases the port; idempotent. */
    @Override
    public void close() {
        closed = true;
        try {
            channel.close();
            thread.join(2000);
        } catch (IOException e) {
            LOG.debug("closing STUN channel", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
