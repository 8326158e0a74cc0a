package io.peerlink.core.internal.device;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.net.SocketException;
import java.util.Arrays;
import java.util.function.Predicate;

/**
 * A loopback UDP middlebox between a client (which sends to {@link #front()}) and a server (which
 * sees the client at {@link #back()}), like a NAT: {@link #rebind()} moves the client to a new
 * outside port, as a NAT does when its mapping expires. A {@link #divert} predicate hands chosen
 * client datagrams to the test instead of forwarding them (an attacker racing the real packet).
 */
final class UdpProxy implements AutoCloseable {
    private final DatagramSocket front;
    private final InetSocketAddress server;
    private volatile DatagramSocket back;
    private volatile SocketAddress client;
    private volatile Predicate<byte[]> divert = d -> false;
    private volatile java.util.function.Consumer<byte[]> diverted = d -> { };
    private volatile boolean running = true;

    UdpProxy(InetSocketAddress server) throws SocketException {
        this.server = server;
        this.front = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        this.back = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        start("proxy-front", this::frontLoop);
        DatagramSocket b = back;
        start("proxy-back", () -> backLoop(b));
    }

    private static void start(String name, Runnable r) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        t.start();
    }

    /** @return where the client sends */
    InetSocketAddress front() {
        return (InetSocketAddress) front.getLocalSocketAddress();
    }

    /** @return where the server sees the client now */
    InetSocketAddress back() {
        return (InetSocketAddress) back.getLocalSocketAddress();
    }

    /**
     * @param which chooses client datagrams not to forward
     * @param to receives them instead
     */
    void divert(Predicate<byte[]> which, java.util.function.Consumer<byte[]> to) {
        this.diverted = to;
        this.divert = which;
    }

    /**
     * Sends a datagram to the client from the address it sends to, as the server's packets come: a
     * packet forged by whoever controls the middlebox.
     *
     * @param datagram what to send
     * @throws IOException if the client has not sent anything yet or the send fails
     */
    void sendToClient(byte[] datagram) throws IOException {
        SocketAddress c = client;
        if (c == null) {
            throw new IOException("no client has sent through the proxy yet");
        }
        front.send(new DatagramPacket(datagram, datagram.length, c));
    }

    /** Moves the client to a new outside port; the old one is closed, as an expired NAT mapping. */
    void rebind() throws SocketException {
        DatagramSocket old = back;
        DatagramSocket fresh = new DatagramSocket(new InetSocketAddress("127.0.0.1", 0));
        back = fresh;
        start("proxy-back", () -> backLoop(fresh));
        old.close();
    }

    private void frontLoop() {
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (running) {
            try {
                p.setLength(buf.length);
                front.receive(p);
                client = p.getSocketAddress();
                byte[] data = Arrays.copyOf(p.getData(), p.getLength());
                if (divert.test(data)) {
                    diverted.accept(data);
                    continue;
                }
                back.send(new DatagramPacket(data, data.length, server));
            } catch (IOException e) {
                if (!running) {
                    return;
                }
            }
        }
    }

    private void backLoop(DatagramSocket socket) {
        byte[] buf = new byte[65536];
        DatagramPacket p = new DatagramPacket(buf, buf.length);
        while (running && !socket.isClosed()) {
            try {
                p.setLength(buf.length);
                socket.receive(p);
                SocketAddress c = client;
                if (c != null) {
                    front.send(new DatagramPacket(p.getData(), p.getLength(), c));
                }
            } catch (IOException e) {
                if (socket.isClosed()) {
                    return;
                }
            }
        }
    }

    @Override
    public void close() {
        running = false;
        front.close();
        back.close();
    }
}
