package io.peerlink.natlab.tools;

import io.peerlink.Device;
import io.peerlink.Endpoint;
import io.peerlink.DeviceId;
import io.peerlink.PeerLink;
import io.peerlink.PeerLinks;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A device of the broker-link lab tests, through the public API only: one transport, bound to
 * {@code <bind>} with the options of a properties file ({@code Device.Builder.transport(bind,
 * options)}, so secrets stay off the command line), identity from a key file.
 *
 * <pre>
 * listen  &lt;keyFile&gt; &lt;bind&gt; &lt;optionsFile&gt;
 *     prints READY &lt;deviceId&gt;; accepts one link: ACCEPTED &lt;peerId&gt;; receives one message:
 *     RECEIVED &lt;bytes&gt; &lt;sha256&gt;; answers "ACK " + the message's first line; exits after the link closes
 * connect &lt;keyFile&gt; &lt;bind&gt; &lt;optionsFile&gt; &lt;peerEndpoint&gt; &lt;peerId&gt; &lt;bytes&gt; &lt;canary&gt;
 *     prints LINKED &lt;peerId&gt; &lt;pathKind&gt; &lt;remote&gt;; sends &lt;bytes&gt; random bytes that begin with the
 *     canary line and repeat the canary every 64 KiB: SENT &lt;bytes&gt; &lt;sha256&gt; &lt;millis&gt;; REPLY &lt;text&gt;
 * </pre>
 * Device-level settings come from the options file too and are not passed to the transport:
 * {@code peerlink.rendezvous=<control URI>} ({@code ws://...} or {@code mqtt://broker:port}: the device
 * registers first and prints {@code REGISTERED <millis>}), {@code peerlink.udp=<host:port>} (also a
 * UDP transport, added first). With a rendezvous, {@code connect} takes {@code -} as peer endpoint
 * and links with {@code connect(peerId)}.
 * Errors: one line {@code error <message>}, exit 1.
 */
public final class BrokerLinkPeer {
    private BrokerLinkPeer() {
    }

    public static void main(String[] args) throws Exception {
        try {
            run(args);
            System.exit(0);
        } catch (Exception e) {
            System.out.println("error " + e);
            e.printStackTrace();
            System.exit(1);
        }
    }

    private static void run(String[] args) throws Exception {
        Path key = Path.of(args[1]);
        Endpoint bind = Endpoint.parse(args[2]);
        Map<String, String> options = readOptions(Path.of(args[3]));
        String rendezvous = options.remove("peerlink.rendezvous");
        String udp = options.remove("peerlink.udp");
        Device.Builder builder = PeerLinks.device().identity(key);
        if (udp != null) {
            int colon = udp.lastIndexOf(':');
            builder.udp(new InetSocketAddress(udp.substring(0, colon), Integer.parseInt(udp.substring(colon + 1))));
        }
        builder.transport(bind, options);
        if (rendezvous != null) {
            builder.rendezvous(URI.create(rendezvous));
        }
        long start = System.nanoTime();
        try (Device device = builder.build()) {
            if (rendezvous != null) {
                device.rendezvous().registered().toCompletableFuture().get(60, TimeUnit.SECONDS);
                System.out.println("REGISTERED " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
            }
            if (args[0].equals("listen")) {
                listen(device);
            } else {
                connect(device, args[4].equals("-") ? null : Endpoint.parse(args[4]), DeviceId.parse(args[5]), Integer.parseInt(args[6]), args[7]);
            }
        }
    }

    private static void listen(Device device) throws Exception {
        CompletableFuture<PeerLink> accepted = new CompletableFuture<>();
        LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        device.onIncoming(request -> request.accept().whenComplete((link, e) -> {
            if (e != null) {
                accepted.completeExceptionally(e);
                return;
            }
            link.channel().onMessage((message, delivery) -> {
                byte[] bytes = new byte[message.remaining()];
                message.get(bytes);
                got.add(bytes);
            });
            accepted.complete(link);
        }));
        System.out.println("READY " + device.id());
        PeerLink link = accepted.get(120, TimeUnit.SECONDS);
        System.out.println("ACCEPTED " + link.peer() + " " + link.path().kind() + " " + link.path().remote());
        byte[] message = got.poll(300, TimeUnit.SECONDS);
        if (message == null) {
            throw new IOException("no message within 300 s");
        }
        System.out.println("RECEIVED " + message.length + " " + sha256(message));
        String firstLine = new String(message, 0, Math.min(message.length, 200), StandardCharsets.ISO_8859_1).split("\n", 2)[0];
        link.channel().send(ByteBuffer.wrap(("ACK " + firstLine).getBytes(StandardCharsets.ISO_8859_1)))
                .toCompletableFuture().get(60, TimeUnit.SECONDS);
        link.channel().closed().toCompletableFuture().get(120, TimeUnit.SECONDS);
    }

    private static void connect(Device device, Endpoint peer, DeviceId expected, int size, String canary) throws Exception {
        LinkedBlockingQueue<byte[]> got = new LinkedBlockingQueue<>();
        PeerLink link = (peer == null ? device.connect(expected) : device.connect(peer, expected)).toCompletableFuture().get(60, TimeUnit.SECONDS);
        link.channel().onMessage((message, delivery) -> {
            byte[] bytes = new byte[message.remaining()];
            message.get(bytes);
            got.add(bytes);
        });
        System.out.println("LINKED " + link.peer() + " " + link.path().kind() + " " + link.path().remote());
        byte[] payload = payload(size, canary);
        long start = System.nanoTime();
        link.channel().send(ByteBuffer.wrap(payload)).toCompletableFuture().get(300, TimeUnit.SECONDS);
        long millis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("SENT " + payload.length + " " + sha256(payload) + " " + millis);
        byte[] reply = got.poll(120, TimeUnit.SECONDS);
        if (reply == null) {
            throw new IOException("no reply within 120 s");
        }
        System.out.println("REPLY " + new String(reply, StandardCharsets.ISO_8859_1));
        link.close().toCompletableFuture().get(60, TimeUnit.SECONDS);
    }

    /** Random bytes that begin with the canary and a newline and carry the canary every 64 KiB. */
    static byte[] payload(int size, String canary) {
        byte[] payload = new byte[size];
        new Random(size).nextBytes(payload);
        byte[] c = (canary + "\n").getBytes(StandardCharsets.US_ASCII);
        for (int at = 0; at + c.length <= size; at += 64 * 1024) {
            System.arraycopy(c, 0, payload, at, c.length);
        }
        return payload;
    }

    private static Map<String, String> readOptions(Path file) throws IOException {
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(file)) {
            p.load(in);
        }
        Map<String, String> options = new LinkedHashMap<>();
        for (String name : p.stringPropertyNames()) {
            options.put(name, p.getProperty(name));
        }
        return options;
    }

    static String sha256(byte[] data) throws NoSuchAlgorithmException {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    }
}
