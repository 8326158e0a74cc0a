package io.peerlink.relay.turn;

import io.peerlink.protocol.stun.ChannelData;
import io.peerlink.protocol.stun.StunFormatException;
import io.peerlink.transport.udp.BatchedDatagramChannel;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.StandardProtocolFamily;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;

/**
 * The client-to-server leg: one UDP association, or one TCP/TLS connection carrying STUN
 * messages and padded ChannelData frames back to back (RFC 8656 section 12.5).
 */
abstract sealed class TurnLeg implements AutoCloseable {
    /** Largest frame a leg receives. */
    static final int MAX_FRAME = 65_536 + 20;

    /**
     * @param batching on a UDP leg: send batches with {@code sendmmsg} and UDP segmentation offload
     *        and receive with {@code UDP_GRO} where this JVM can ({@link BatchedDatagramChannel})
     */
    static TurnLeg open(TurnClient.Protocol protocol, InetSocketAddress server, SSLContext tls, boolean batching) throws IOException {
        return switch (protocol) {
            case UDP -> new Udp(server, batching);
            case TCP -> new Stream(new Socket(server.getAddress(), server.getPort()));
            case TLS -> {
                SSLContext context = tls != null ? tls : defaultContext();
                // The certificate is checked against the name the caller gave (host string), not a reverse lookup.
                Socket plain = new Socket(server.getAddress(), server.getPort());
                SSLSocket socket = (SSLSocket) context.getSocketFactory().createSocket(plain, server.getHostString(), server.getPort(), true);
                SSLParameters params = socket.getSSLParameters();
                params.setEndpointIdentificationAlgorithm("HTTPS");
                socket.setSSLParameters(params);
                socket.startHandshake();
                yield new Stream(socket);
            }
        };
    }

    private static SSLContext defaultContext() throws IOException {
        try {
            return SSLContext.getDefault();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException("no default TLS context", e);
        }
    }

    /** @return true if ChannelData must be padded to 4 bytes */
    abstract boolean stream();

    /**
     * Sends one whole frame.
     *
     * @return false if a UDP leg's socket buffer had no room and the frame was dropped (as the UDP
     *         transport drops a datagram then); a stream leg waits for room and returns true
     */
    abstract boolean send(ByteBuffer frame) throws IOException;

    /** @return true if {@link #send(ByteBuffer[], int, int)} takes fewer system calls than one per frame */
    boolean batches() {
        return false;
    }

    /**
     * Sends whole frames in order, as {@link #send(ByteBuffer)} one by one would; a UDP leg that
     * {@link #batches()} hands them to the kernel with as few system calls as it can and stops at
     * the first frame for which the socket buffer has no room (the rest are dropped).
     *
     * @return how many frames left; every frame's position is at its limit afterwards
     */
    int send(ByteBuffer[] frames, int offset, int count) throws IOException {
        int sent = 0;
        for (int i = offset; i < offset + count; i++) {
            if (send(frames[i])) {
                sent++;
            }
            frames[i].position(frames[i].limit());
        }
        return sent;
    }

    /**
     * The next whole frame if one is at hand without waiting (received on a UDP leg's socket, or
     * buffered in full on a stream leg), else null; the returned buffer is valid until the next
     * call. Lets the receive thread tell when a burst of frames ends.
     */
    abstract ByteBuffer poll() throws IOException;

    /**
     * Waits until {@link #poll()} may have something: a UDP leg until its socket is readable, a
     * stream leg until more bytes arrived. Call it after {@code poll()} returned null.
     *
     * @throws IOException if the leg failed or closed (a stream at its end: {@link EOFException})
     */
    abstract void await() throws IOException;

    @Override
    public abstract void close();

    /**
     * A non-blocking connected datagram channel and a selector to wait on, as in the UDP
     * transport: the receive thread drains every datagram at hand before it waits, so it can tell
     * its handler where a burst ends. With batching (64-bit Linux and JNA), frames go out through
     * the UDP transport's {@link BatchedDatagramChannel}: a batch of equal-sized ChannelData frames
     * leaves as one {@code sendmmsg} of segmented buffers, and the socket receives with
     * {@code UDP_GRO}, so a segmented burst from the server arrives in one read and is cut back
     * into frames here.
     */
    static final class Udp extends TurnLeg {
        private final InetSocketAddress server;
        private final DatagramChannel channel;
        private final Selector selector;
        /** Null without batching. */
        private final BatchedDatagramChannel batched;

        /**
         * Reused by the single receive thread: a 64 KiB buffer per datagram was the client's
         * bottleneck. Direct, so the kernel copies straight into it (a heap buffer costs the JDK
         * one more copy through its temporary direct buffer).
         */
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_FRAME);
        /** Coalesced receive: bytes [0, coalescedLength) of {@link #buffer} are the last read, cut into segments. */
        private int coalescedLength;
        private int segmentSize;
        private int nextSegment;
        /** Reads with UDP_GRO on, and the frames they held (tests read them). */
        volatile long coalescedReads;
        volatile long coalescedFrames;

        Udp(InetSocketAddress server, boolean batching) throws IOException {
            this.server = server;
            StandardProtocolFamily family = server.getAddress() instanceof Inet6Address ? StandardProtocolFamily.INET6 : StandardProtocolFamily.INET;
            channel = DatagramChannel.open(family);
            Selector s = null;
            BatchedDatagramChannel b = null;
            try {
                // As the UDP transport does: a burst of relayed data must not overflow the default buffer.
                channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
                channel.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
                channel.bind(new InetSocketAddress(server.getAddress().isLoopbackAddress() ? server.getAddress() : null, 0));
                channel.connect(server);
                channel.configureBlocking(false);
                s = Selector.open();
                channel.register(s, SelectionKey.OP_READ);
                if (batching) {
                    b = BatchedDatagramChannel.attach(channel, family, buffer);
                }
            } catch (IOException | RuntimeException e) {
                if (s != null) {
                    s.close();
                }
                channel.close();
                throw e;
            }
            selector = s;
            batched = b;
        }

        @Override
        boolean stream() {
            return false;
        }

        @Override
        boolean send(ByteBuffer frame) throws IOException {
            return channel.write(frame) > 0 || !frame.hasRemaining();
        }

        @Override
        boolean batches() {
            return batched != null;
        }

        @Override
        int send(ByteBuffer[] frames, int offset, int count) throws IOException {
            if (batched == null) {
                return super.send(frames, offset, count);
            }
            return batched.send(server, frames, offset, count);
        }

        @Override
        void await() throws IOException {
            try {
                // select(Consumer): nothing is added to (and allocated for) the selected-key set.
                selector.select(IGNORE_KEY);
            } catch (java.nio.channels.ClosedSelectorException e) {
                throw new java.nio.channels.ClosedChannelException();
            }
        }

        /** An empty datagram reads as nothing at hand: it carries no frame either way. */
        @Override
        ByteBuffer poll() throws IOException {
            if (batched == null || !batched.coalescedReceive()) {
                if (channel.read(buffer.clear()) <= 0) {
                    return null;
                }
                return buffer.flip();
            }
            if (nextSegment >= coalescedLength) {
                // The socket is connected: the kernel passes only the server's datagrams.
                int n = batched.receive();
                if (n <= 0) {
                    return null;
                }
                coalescedLength = n;
                segmentSize = batched.segmentSize() > 0 ? batched.segmentSize() : n;
                nextSegment = 0;
                coalescedReads++;
            }
            coalescedFrames++;
            int start = nextSegment;
            nextSegment = Math.min(start + segmentSize, coalescedLength);
            return buffer.limit(nextSegment).position(start);
        }

        @Override
        public void close() {
            // The selector first: a channel still registered with it keeps its port bound.
            try {
                selector.close();
            } catch (IOException ignored) {
                // Nothing to release beyond the descriptor.
            }
            if (batched != null) {
                batched.close();
                return;
            }
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing a datagram channel has nothing to flush.
            }
        }
    }

    private static final java.util.function.Consumer<SelectionKey> IGNORE_KEY = k -> { };

    /**
     * A TCP or TLS connection. Received bytes are read in large chunks into one buffer and cut
     * into frames there (one read per chunk instead of two per frame), which also tells whether
     * the next whole frame is already at hand.
     */
    static final class Stream extends TurnLeg {
        /** Receive buffer: room for a whole largest frame behind a partial one. */
        private static final int RECEIVE_BUFFER = 2 * (MAX_FRAME + 4);

        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;

        Stream(Socket socket) throws IOException {
            this.socket = socket;
            socket.setTcpNoDelay(true);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        @Override
        boolean stream() {
            return true;
        }

        /** Guarded by {@code out}: frames are copied here, so no array is allocated per frame sent. */
        private final byte[] sendBuffer = new byte[MAX_FRAME + 4];
        /** Reused by the single receive thread: bytes {@code [start, end)} are received and not yet returned. */
        private final byte[] receiveBuffer = new byte[RECEIVE_BUFFER];
        private final ByteBuffer received = ByteBuffer.wrap(receiveBuffer);
        private int start;
        private int end;

        @Override
        boolean send(ByteBuffer frame) throws IOException {
            synchronized (out) {
                int n = frame.remaining();
                if (n <= sendBuffer.length) {
                    frame.get(sendBuffer, 0, n);
                    out.write(sendBuffer, 0, n);
                } else {
                    byte[] bytes = new byte[n];
                    frame.get(bytes);
                    out.write(bytes);
                }
                out.flush();
            }
            return true;
        }

        @Override
        void await() throws IOException {
            // Keep room for a whole frame: what is buffered now is less than one (poll said so).
            if (start > 0 && receiveBuffer.length - end < MAX_FRAME + 4) {
                System.arraycopy(receiveBuffer, start, receiveBuffer, 0, end - start);
                end -= start;
                start = 0;
            }
            int n = in.read(receiveBuffer, end, receiveBuffer.length - end);
            if (n < 0) {
                throw new EOFException("TURN server closed the connection");
            }
            end += n;
        }

        @Override
        ByteBuffer poll() throws IOException {
            if (end - start < 4) {
                return null;
            }
            int length = frameLength();
            if (end - start < length) {
                return null;
            }
            received.limit(start + length).position(start);
            start += length;
            return received;
        }

        /** Length of the frame at {@code start}, whose 4-byte header is there. */
        private int frameLength() throws IOException {
            int length;
            try {
                length = ChannelData.streamFrameLength(received.limit(receiveBuffer.length).position(start));
            } catch (StunFormatException e) {
                throw new IOException("TURN server stream out of sync: " + e.getMessage());
            }
            if (length > MAX_FRAME) {
                throw new EOFException("frame of " + length + " bytes exceeds " + MAX_FRAME);
            }
            return length;
        }

        @Override
        public void close() {
            try {
                socket.close();
            } catch (IOException ignored) {
                // Nothing left to deliver.
            }
        }
    }
}
