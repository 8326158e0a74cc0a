package io.peerlink.natlab.tools;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A UDP forwarder that corrupts a share of the datagrams it forwards, both ways: the lab's stand-in
 * for {@code tc netem corrupt} on machines without {@code sch_netem}. It listens at LISTEN; each
 * client source gets its own upstream socket towards TARGET, so answers find their way back. A
 * corrupted datagram has one random bit of one random byte flipped and is sent with a valid UDP
 * checksum (netem's corruption would mostly be caught by the receiving kernel's checksum and turn
 * into loss; this reaches the application, which is the harder case).
 *
 * <pre>CorruptingForwarder LISTEN_IP:PORT TARGET_IP:PORT PROBABILITY SEED</pre>
 * Prints "forwarding LISTEN_IP:PORT" when ready and "stats forwarded=N corrupted=M" every second.
 */
public final class CorruptingForwarder {
    private CorruptingForwarder() {
    }

    private static InetSocketAddress parse(String hostPort) {
        int colon = hostPort.lastIndexOf(':');
        return new InetSocketAddress(hostPort.substring(0, colon), Integer.parseInt(hostPort.substring(colon + 1)));
    }

    public static void main(String[] args) throws IOException {
        InetSocketAddress listen = parse(args[0]);
        InetSocketAddress target = parse(args[1]);
        double probability = Double.parseDouble(args[2]);
        SplittableRandom random = new SplittableRandom(Long.parseLong(args[3]));
        Selector selector = Selector.open();
        DatagramChannel front = DatagramChannel.open().bind(listen);
        front.configureBlocking(false);
        front.register(selector, SelectionKey.OP_READ);
        Map<SocketAddress, DatagramChannel> upstreamByClient = new HashMap<>();
        ByteBuffer buf = ByteBuffer.allocate(65536);
        long forwarded = 0;
        long corrupted = 0;
        long nextStats = System.nanoTime();
        InetSocketAddress bound = (InetSocketAddress) front.getLocalAddress();
        System.out.println("forwarding " + bound.getAddress().getHostAddress() + ":" + bound.getPort());
        System.out.flush();
        while (true) {
            selector.select(200);
            Iterator<SelectionKey> keys = selector.selectedKeys().iterator();
            while (keys.hasNext()) {
                SelectionKey key = keys.next();
                keys.remove();
                DatagramChannel ch = (DatagramChannel) key.channel();
                SocketAddress from;
                while ((from = ch.receive(buf.clear())) != null) {
                    buf.flip();
                    if (buf.remaining() > 0 && random.nextDouble() < probability) {
                        int i = random.nextInt(buf.remaining());
                        buf.put(i, (byte) (buf.get(i) ^ (1 << random.nextInt(8))));
                        corrupted++;
                    }
                    forwarded++;
                    if (ch == front) {
                        DatagramChannel up = upstreamByClient.get(from);
                        if (up == null) {
                            up = DatagramChannel.open().bind(new InetSocketAddress(listen.getAddress(), 0));
                            up.configureBlocking(false);
                            up.register(selector, SelectionKey.OP_READ, from);
                            upstreamByClient.put(from, up);
                        }
                        up.send(buf, target);
                    } else {
                        front.send(buf, (SocketAddress) key.attachment());
                    }
                }
            }
            if (System.nanoTime() >= nextStats) {
                System.out.println("stats forwarded=" + forwarded + " corrupted=" + corrupted);
                System.out.flush();
                nextStats = System.nanoTime() + 1_000_000_000L;
            }
        }
    }
}
