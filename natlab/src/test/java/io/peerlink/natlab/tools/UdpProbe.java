package io.peerlink.natlab.tools;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A scriptable UDP endpoint for device namespaces. Commands on stdin, one per line:
 * <pre>
 *   OPEN &lt;port&gt;                                   -> OPENED &lt;port&gt;
 *   SEND &lt;localPort&gt; &lt;ip&gt; &lt;port&gt; &lt;ttl&gt; &lt;text&gt;      -> SENT &lt;localPort&gt; &lt;text&gt;   (ttl 0 = the default)
 *   QUIT
 * </pre>
 * Every datagram received on an open port is printed as {@code RECV <localPort> <ip:port> <text>};
 * a failed command prints {@code ERROR <reason>}. Prints {@code READY} at start.
 */
public final class UdpProbe {
    private static final int MAX_DATAGRAM = 1500;

    private final Map<Integer, DatagramChannel> sockets = new ConcurrentHashMap<>();

    private UdpProbe() {
    }

    public static void main(String[] args) throws IOException {
        UdpProbe probe = new UdpProbe();
        System.out.println("READY");
        BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
        String line;
        while ((line = in.readLine()) != null) {
            if (line.equals("QUIT")) {
                break;
            }
            try {
                System.out.println(probe.execute(line));
            } catch (RuntimeException | IOException e) {
                System.out.println("ERROR " + e);
            }
        }
        System.exit(0);
    }

    private String execute(String line) throws IOException {
        String[] words = line.split(" ", 6);
        if (words.length == 2 && words[0].equals("OPEN")) {
            int port = Integer.parseInt(words[1]);
            DatagramChannel channel = DatagramChannel.open();
            channel.bind(new InetSocketAddress(port));
            if (sockets.putIfAbsent(port, channel) != null) {
                channel.close();
                throw new IllegalStateException("port " + port + " already open");
            }
            Thread receiver = new Thread(() -> receive(port, channel), "recv-" + port);
            receiver.setDaemon(true);
            receiver.start();
            return "OPENED " + port;
        }
        if (words.length == 6 && words[0].equals("SEND")) {
            int localPort = Integer.parseInt(words[1]);
            DatagramChannel channel = sockets.get(localPort);
            if (channel == null) {
                throw new IllegalStateException("port " + localPort + " is not open");
            }
            InetSocketAddress target = Addresses.parse(words[2] + ":" + words[3]);
            int ttl = Integer.parseInt(words[4]);
            ByteBuffer payload = ByteBuffer.wrap(words[5].getBytes(StandardCharsets.UTF_8));
            if (ttl == 0) {
                channel.send(payload, target);
            } else {
                // Serialised per socket: a concurrent send must not go out with the opener's TTL.
                synchronized (channel) {
                    int normal = Ttl.get(channel);
                    Ttl.set(channel, ttl);
                    try {
                        channel.send(payload, target);
                    } finally {
                        Ttl.set(channel, normal);
                    }
                }
            }
            return "SENT " + localPort + " " + words[5];
        }
        throw new IllegalArgumentException("unknown command '" + line + "'");
    }

    private void receive(int port, DatagramChannel channel) {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_DATAGRAM);
        while (true) {
            buffer.clear();
            try {
                InetSocketAddress from = (InetSocketAddress) channel.receive(buffer);
                buffer.flip();
                String text = StandardCharsets.UTF_8.decode(buffer).toString().replace('\n', ' ');
                System.out.println("RECV " + port + " " + Addresses.format(from) + " " + text);
            } catch (IOException e) {
                System.out.println("ERROR receive on " + port + ": " + e);
                return;
            }
        }
    }
}
