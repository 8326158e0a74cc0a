package io.peerlink.transport.socketio;

import okhttp3.OkHttpClient;

import javax.net.SocketFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.util.concurrent.TimeUnit;

/**
 * The OkHttp client every transport's WebSocket uses, shared like socket.io-client's own default:
 * its sockets have Nagle's algorithm off (TCP_NODELAY). With Nagle on, a small relay frame written
 * while an earlier one is unacknowledged waits for the server's delayed ACK (about 40 ms), which
 * made the round trip of a small message over a PeerLink through the relay ~70 ms on loopback.
 */
final class NoDelayHttp {
    /** No read timeout: a relay connection is idle between datagrams; Engine.IO's ping detects dead ones. */
    static final OkHttpClient CLIENT = new OkHttpClient.Builder()
            .socketFactory(new NoDelaySocketFactory())
            .readTimeout(0, TimeUnit.MILLISECONDS)
            .build();

    private NoDelayHttp() {
    }

    private static final class NoDelaySocketFactory extends SocketFactory {
        private final SocketFactory delegate = SocketFactory.getDefault();

        private static Socket noDelay(Socket s) throws IOException {
            s.setTcpNoDelay(true);
            return s;
        }

        @Override
        public Socket createSocket() throws IOException {
            return noDelay(delegate.createSocket());
        }

        @Override
        public Socket createSocket(String host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(String host, int port, InetAddress localHost, int localPort) throws IOException {
            return noDelay(delegate.createSocket(host, port, localHost, localPort));
        }

        @Override
        public Socket createSocket(InetAddress host, int port) throws IOException {
            return noDelay(delegate.createSocket(host, port));
        }

        @Override
        public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort) throws IOException {
            return noDelay(delegate.createSocket(address, port, localAddress, localPort));
        }
    }
}
