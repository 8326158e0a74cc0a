package io.peerlink.natlab.tools;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A UDP reflector for the core namespace, in the spirit of a STUN server with CHANGE-REQUEST.
 *
 * <p>Arguments: {@code role=ip:port ...}, one socket per role. A request is the ASCII text
 * {@code <cmd> <nonce>} sent to any socket: {@code WHOAMI} is answered from that socket,
 * {@code FROM <role>} from the named role's socket (to test filtering). The answer is
 * {@code MAPPED <nonce> <observed-ip>:<observed-port>}. Anything else is logged to stderr and
 * ignored. Prints {@code READY} once every socket is bound.
 */
public final class UdpReflector {
    /** Requests are tiny; anything longer is hostile or a bug and is rejected, not truncated. */
    static final int MAX_REQUEST = 200;

    private final Map<String, DatagramChannel> sockets = new LinkedHashMap<>();

    private UdpReflector() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length == 0) {
            throw new IllegalArgumentException("usage: UdpReflector role=ip:port ...");
        }
        UdpReflector reflector = new UdpReflector();
        for (String arg : args) {
            int eq = arg.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("expected role=ip:port, got '" + arg + "'");
            }
            DatagramChannel channel = DatagramChannel.open();
            channel.bind(Addresses.parse(arg.substring(eq + 1)));
            reflector.sockets.put(arg.substring(0, eq), channel);
        }
        for (Map.Entry<String, DatagramChannel> socket : reflector.sockets.entrySet()) {
            Thread thread = new Thread(() -> reflector.serve(socket.getKey(), socket.getValue()), "reflect-" + socket.getKey());
            thread.start();
        }
        System.out.println("READY " + reflector.sockets.keySet());
    }

    private void serve(String role, DatagramChannel channel) {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_REQUEST + 1);
        while (true) {
            buffer.clear();
            SocketAddress from;
            try {
                from = channel.receive(buffer);
            } catch (IOException e) {
                System.err.println(role + ": receive failed: " + e);
                return;
            }
            buffer.flip();
            try {
                handle(channel, (InetSocketAddress) from, buffer);
            } catch (IllegalArgumentException | IOException e) {
                System.err.println(role + ": rejected request from " + from + ": " + e.getMessage());
            }
        }
    }

    private void handle(DatagramChannel receivedOn, InetSocketAddress from, ByteBuffer request) throws IOException {
        if (request.remaining() > MAX_REQUEST) {
            throw new IllegalArgumentException("request longer than " + MAX_REQUEST + " bytes");
        }
        String text;
        try {
            text = StandardCharsets.US_ASCII.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .decode(request).toString();
        } catch (CharacterCodingException e) {
            throw new IllegalArgumentException("request is not ASCII");
        }
        String[] words = text.strip().split(" ");
        DatagramChannel replyFrom;
        String nonce;
        if (words.length == 2 && words[0].equals("WHOAMI")) {
            replyFrom = receivedOn;
            nonce = words[1];
        } else if (words.length == 3 && words[0].equals("FROM")) {
            replyFrom = sockets.get(words[1]);
            if (replyFrom == null) {
                throw new IllegalArgumentException("unknown role '" + words[1] + "'");
            }
            nonce = words[2];
        } else {
            throw new IllegalArgumentException("expected 'WHOAMI <nonce>' or 'FROM <role> <nonce>', got '" + text + "'");
        }
        String reply = "MAPPED " + nonce + " " + Addresses.format(from);
        replyFrom.send(ByteBuffer.wrap(reply.getBytes(StandardCharsets.US_ASCII)), from);
    }
}
