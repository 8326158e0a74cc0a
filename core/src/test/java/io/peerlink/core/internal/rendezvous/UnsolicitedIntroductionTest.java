package io.peerlink.core.internal.rendezvous;

import io.peerlink.DeviceId;
import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.RendezvousCodec;
import io.peerlink.protocol.rendezvous.Role;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A server (or a {@code ws://} man in the middle) sends introductions the device never asked for
 * or accepted: the client refuses each with {@code UNKNOWN_REQUEST} and the application hears
 * nothing, while a genuine introduction after an accepted request still arrives. The server here
 * is a scripted WebSocket endpoint on a plain socket (RFC 6455 framing by hand), so the test
 * controls every message.
 */
class UnsolicitedIntroductionTest {
    private static final RendezvousCodec CODEC = new RendezvousCodec();
    private static final String TOKEN = "AAECAwQFBgcICQoLDA0ODw";

    @Test
    void introductionsNotAskedForOrAcceptedAreRefusedAndGenuineOnesArrive() throws Exception {
        DeviceIdentity device = DeviceIdentity.ephemeral();
        DeviceId stranger = DeviceIdentity.ephemeral().id();
        DeviceId friend = DeviceIdentity.ephemeral().id();
        BlockingQueue<Introduction> delivered = new LinkedBlockingQueue<>();
        try (ServerSocket listen = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            URI uri = URI.create("ws://127.0.0.1:" + listen.getLocalPort() + Handshake.PATH);
            try (RendezvousClient client = new RendezvousClient(uri, device, Map.of(), new RendezvousClient.Listener() {
                @Override
                public void onIncoming(DeviceId from, IncomingDecision decision) {
                    decision.accept();
                }

                @Override
                public void onIntroduction(Introduction introduction) {
                    delivered.add(introduction);
                }
            })) {
                client.start();
                try (Socket s = listen.accept()) {
                    s.setSoTimeout(10_000);
                    WebSocketPeer ws = new WebSocketPeer(s);
                    byte[] nonce = new byte[32];
                    ws.send(new Message.Challenge(nonce, 0));
                    Message.Hello hello = (Message.Hello) ws.receive();
                    assertEquals("127.0.0.1", hello.server(), "the hello names the server the device dialed");
                    assertTrue(DeviceIdentity.verify(hello.publicKey(), Handshake.signedPayload(nonce, hello.deviceId(), "127.0.0.1"),
                            hello.signature()));
                    ws.send(new Message.Welcome("s", "lab", 60));
                    client.registered().toCompletableFuture().get(10, TimeUnit.SECONDS);

                    // 1. A RESPONDER introduction out of the blue.
                    ws.send(new Message.Introduce(500, stranger, List.of(), TOKEN, 1L, 2L, Role.RESPONDER, 0));
                    assertRefused(ws, 500);
                    // 2. An INITIATOR introduction for a connect the device never sent.
                    ws.send(new Message.Introduce(1, stranger, List.of(), TOKEN, 1L, 2L, Role.INITIATOR, 0));
                    assertRefused(ws, 1);
                    // 3. The device accepts an incoming request from friend; an introduction naming someone else is refused...
                    ws.send(new Message.Incoming(600, friend));
                    assertEquals(new Message.Accept(600), ws.receiveNonPing());
                    ws.send(new Message.Introduce(600, stranger, List.of(), TOKEN, 1L, 2L, Role.RESPONDER, 0));
                    assertRefused(ws, 600);
                    // ...the genuine one is delivered...
                    ws.send(new Message.Introduce(600, friend, List.of(), TOKEN, 3L, 4L, Role.RESPONDER, 0));
                    Introduction genuine = delivered.poll(5, TimeUnit.SECONDS);
                    assertNotNull(genuine, "the accepted introduction must arrive");
                    assertEquals(friend, genuine.peer());
                    // ...and only once: a replay of it is refused.
                    ws.send(new Message.Introduce(600, friend, List.of(), TOKEN, 3L, 4L, Role.RESPONDER, 0));
                    assertRefused(ws, 600);
                    assertTrue(delivered.isEmpty(), "nothing but the genuine introduction reached the application: " + delivered);
                }
            }
        }
    }

    private static void assertRefused(WebSocketPeer ws, long requestId) throws Exception {
        Message m = ws.receiveNonPing();
        Message.Error e = assertInstanceOf(Message.Error.class, m);
        assertEquals(ErrorCode.UNKNOWN_REQUEST, e.code(), e.message());
        assertEquals(requestId, e.requestId());
    }

    /** The server end of one WebSocket connection, text frames only, just enough for this script. */
    private static final class WebSocketPeer {
        private final DataInputStream in;
        private final OutputStream out;

        WebSocketPeer(Socket s) throws Exception {
            in = new DataInputStream(s.getInputStream());
            out = s.getOutputStream();
            String request = readHead(s.getInputStream());
            Matcher key = Pattern.compile("(?i)sec-websocket-key:\\s*(\\S+)").matcher(request);
            assertTrue(key.find(), request);
            String accept = Base64.getEncoder().encodeToString(MessageDigest.getInstance("SHA-1").digest(
                    (key.group(1) + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11").getBytes(StandardCharsets.US_ASCII)));
            out.write(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Accept: " + accept + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.flush();
        }

        private static String readHead(InputStream in) throws IOException {
            ByteArrayOutputStream head = new ByteArrayOutputStream();
            while (!head.toString(StandardCharsets.US_ASCII).endsWith("\r\n\r\n")) {
                int b = in.read();
                if (b < 0) {
                    throw new IOException("closed during the upgrade");
                }
                head.write(b);
            }
            return head.toString(StandardCharsets.US_ASCII);
        }

        void send(Message m) throws IOException {
            byte[] payload = CODEC.encode(m).getBytes(StandardCharsets.UTF_8);
            out.write(0x81);
            if (payload.length < 126) {
                out.write(payload.length);
            } else {
                out.write(126);
                out.write(payload.length >> 8);
                out.write(payload.length & 0xff);
            }
            out.write(payload);
            out.flush();
        }

        Message receive() throws Exception {
            while (true) {
                int b0 = in.readUnsignedByte();
                int b1 = in.readUnsignedByte();
                long len = b1 & 0x7f;
                if (len == 126) {
                    len = in.readUnsignedShort();
                } else if (len == 127) {
                    len = in.readLong();
                }
                byte[] mask = new byte[4];
                in.readFully(mask);
                byte[] payload = new byte[(int) len];
                in.readFully(payload);
                for (int i = 0; i < payload.length; i++) {
                    payload[i] ^= mask[i % 4];
                }
                if ((b0 & 0x0f) == 0x1) {
                    return CODEC.decode(new String(payload, StandardCharsets.UTF_8));
                }
                if ((b0 & 0x0f) == 0x8) {
                    throw new AssertionError("the client closed the connection");
                }
            }
        }

        Message receiveNonPing() throws Exception {
            while (true) {
                Message m = receive();
                if (!(m instanceof Message.Ping) && !(m instanceof Message.Pong)) {
                    return m;
                }
            }
        }
    }
}
