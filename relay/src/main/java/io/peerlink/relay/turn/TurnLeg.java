package io.peerlink.relay.turn;

import io.peerlink.protocol.stun.ChannelData;
import io.peerlink.protocol.stun.StunFormatException;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
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

    static TurnLeg open(TurnClient.Protocol protocol, InetSocketAddress server, SSLContext tls) throws IOException {
        return switch (protocol) {
            case UDP -> new Udp(server);
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

    /** Sends one whole frame. */
    abstract void send(ByteBuffer frame) throws IOException;

    /** Blocks for the next whole frame; the returned buffer is valid until the next call. */
    abstract ByteBuffer receive() throws IOException;

    @Override
    public abstract void close();

    static final class Udp extends TurnLeg {
        private final DatagramChannel channel;

        Udp(InetSocketAddress server) throws IOException {
            channel = DatagramChannel.open();
            // As the UDP transport does: a burst of relayed data must not overflow the default buffer.
            channel.setOption(java.net.StandardSocketOptions.SO_RCVBUF, 4 << 20);
            channel.setOption(java.net.StandardSocketOptions.SO_SNDBUF, 4 << 20);
            channel.bind(new InetSocketAddress(server.getAddress().isLoopbackAddress() ? server.getAddress() : null, 0));
            channel.connect(server);
        }

        @Override
        boolean stream() {
            return false;
        }

        @Override
        void send(ByteBuffer frame) throws IOException {
            channel.write(frame);
        }

        /**
         * Reused by the single receive thread: a 64 KiB buffer per datagram was the client's
         * bottleneck. Direct, so the kernel copies straight into it (a heap buffer costs the JDK
         * one more copy through its temporary direct buffer).
         */
        private final ByteBuffer buffer = ByteBuffer.allocateDirect(MAX_FRAME);

        @Override
        ByteBuffer receive() throws IOException {
            channel.read(buffer.clear());
            return buffer.flip();
        }

        @Override
        public void close() {
            try {
                channel.close();
            } catch (IOException ignored) {
                // Closing a datagram channel has nothing to flush.
            }
        }
    }

    static final class Stream extends TurnLeg {
        private final Socket socket;
        private final DataInputStream in;
        private final OutputStream out;

        Stream(Socket socket) throws IOException {
            this.socket = socket;
            socket.setTcpNoDelay(true);
            in = new DataInputStream(socket.getInputStream());
            out = socket.getOutputStream();
        }

        @Override
        boolean stream() {
            return true;
        }

        /** Guarded by {@code out}: frames are copied here, so no array is allocated per frame sent. */
        private final byte[] sendBuffer = new byte[MAX_FRAME + 4];
        /** Reused by the single receive thread. */
        private final byte[] receiveBuffer = new byte[MAX_FRAME + 4];
        private final ByteBuffer received = ByteBuffer.wrap(receiveBuffer);

        @Override
        void send(ByteBuffer frame) throws IOException {
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
        }

        @Override
        ByteBuffer receive() throws IOException {
            in.readFully(receiveBuffer, 0, 4);
            int length;
            try {
                length = ChannelData.streamFrameLength(received.clear());
            } catch (StunFormatException e) {
                throw new IOException("TURN server stream out of sync: " + e.getMessage());
            }
            if (length > MAX_FRAME) {
                throw new EOFException("frame of " + length + " bytes exceeds " + MAX_FRAME);
            }
            in.readFully(receiveBuffer, 4, length - 4);
            return received.clear().limit(length);
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
