package io.peerlink.bench.relay;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.DatagramChannel;

/**
 * A loopback UDP middlebox that behaves like a NAT for one client: the client sends to
 * {@link #front()}, the server sees it at {@link #back()}; {@link #rebind()} moves the client to
 * a new outside port and closes the old one, as a NAT does when its mapping expires or its
 * conntrack table is flushed. The same model as core's {@code PathMigrationTest}, with direct
 * buffers and 4 MiB socket buffers so that it keeps up with a bulk transfer.
 */
final class LoopbackNat implements AutoCloseable {
    private static final int BUFFER = 4 << 20;
    private final DatagramChannel front;
    private final InetSocketAddress server;
    private volatile DatagramChannel back;
    private volatile SocketAddress client;
    private volatile boolean running = true;

    LoopbackNat(InetSocketAddress server) throws IOException {
        this.server = server;
        this.front = open();
        this.back = open();
        start("nat-front", this::frontLoop);
        DatagramChannel b = back;
        start("nat-back", () -> backLoop(b));
    }

    private static DatagramChannel open() throws IOException {
        DatagramChannel c = DatagramChannel.open();
        c.setOption(StandardSocketOptions.SO_RCVBUF, BUFFER);
        c.setOption(StandardSocketOptions.SO_SNDBUF, BUFFER);
        return c.bind(new InetSocketAddress("127.0.0.1", 0));
    }

    private static void start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    InetSocketAddress front() throws IOException {
        return (InetSocketAddress) front.getLocalAddress();
    }

    InetSocketAddress back() throws IOException {
        return (InetSocketAddress) back.getLocalAddress();
    }

    /** Moves the client to a new outside port; the old one is closed. */
    void rebind() throws IOException {
        DatagramChannel old = back;
        DatagramChannel fresh = open();
        back = fresh;
        start("nat-back", () -> backLoop(fresh));
        old.close();
    }

    private void frontLoop() {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        while (running) {
            try {
                client = front.receive(buf.clear());
                buf.flip();
                back.send(buf, server);
            } catch (ClosedChannelException e) {
                if (!running) {
                    return;
                }
                // The back channel was closed by a rebind while sending: this datagram is lost, as in a NAT.
            } catch (IOException e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    private void backLoop(DatagramChannel channel) {
        ByteBuffer buf = ByteBuffer.allocateDirect(65_536);
        while (running && channel.isOpen()) {
            try {
                channel.receive(buf.clear());
                buf.flip();
                SocketAddress c = client;
                if (c != null) {
                    front.send(buf, c);
                }
            } catch (IOException e) {
                if (!channel.isOpen()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() throws IOException {
        running = false;
        front.close();
        back.close();
    }
}
