package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Message;
import io.peerlink.protocol.rendezvous.RelayFrame;
import io.peerlink.server.rendezvous.WsRelay;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Relay frames on the wire (docs/protocol-rendezvous.md, "Relay frames"), sent by bare WebSocket
 * clients: a frame reaches only a device the server introduced the sender to, re-addressed with
 * the sender's ID and the datagram unchanged; a frame to a device the sender was not introduced
 * to, a malformed frame and a frame before admission are not relayed.
 */
class WsRelayFramesTest {
    private static final DeviceIdentity X = DeviceIdentity.ephemeral();
    private static final DeviceIdentity Y = DeviceIdentity.ephemeral();
    private static final DeviceIdentity Z = DeviceIdentity.ephemeral();
    private static Path dir;
    private static ReferenceServer server;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("peerlink-wsrelay");
        Path file = dir.resolve("allow-list");
        Files.writeString(file, X.id() + "\n" + Y.id() + "\n" + Z.id() + "\n");
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .allowListFile(file).build());
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        Files.deleteIfExists(dir.resolve("allow-list"));
        Files.deleteIfExists(dir);
    }

    private static RawControlClient admitted(DeviceIdentity id) throws Exception {
        return admitted(server, id);
    }

    private static RawControlClient admitted(ReferenceServer on, DeviceIdentity id) throws Exception {
        RawControlClient c = new RawControlClient(on.controlUri());
        c.send(RawControlClient.hello(id, c.challenge.nonce()));
        assertInstanceOf(Message.Welcome.class, c.nextNonPing());
        c.identity = id;
        return c;
    }

    private static io.peerlink.DeviceId idOf(RawControlClient c) {
        return c.identity.id();
    }

    private static ByteBuffer frame(io.peerlink.DeviceId to, String text) {
        return RelayFrame.encode(to, ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void framesFlowOnlyBetweenIntroducedDevices() throws Exception {
        WsRelay relay = server.wsRelay();
        try (RawControlClient x = admitted(X); RawControlClient y = admitted(Y); RawControlClient z = admitted(Z)) {
            // Not introduced yet: dropped, nothing reaches y.
            long notIntroduced = relay.dropped(WsRelay.Drop.NOT_INTRODUCED);
            x.sendBinary(frame(Y.id(), "before any introduction"));
            assertNull(y.binary.poll(500, TimeUnit.MILLISECONDS), "a frame to a device x was not introduced to");
            assertEquals(notIntroduced + 1, relay.dropped(WsRelay.Drop.NOT_INTRODUCED));

            // x asks for y, y accepts: both are introduced.
            x.send(new Message.Connect(1, Y.id()));
            Message.Incoming in = (Message.Incoming) nextOf(y, Message.Incoming.class);
            y.send(new Message.Accept(in.requestId()));
            assertNotNull(nextOf(x, Message.Introduce.class));
            assertNotNull(nextOf(y, Message.Introduce.class));

            long bytes = relay.relayedBytes();
            x.sendBinary(frame(Y.id(), "sealed datagram"));
            ByteBuffer got = y.binary.poll(5, TimeUnit.SECONDS);
            assertNotNull(got, "the frame reached y");
            assertEquals(X.id(), RelayFrame.peer(got), "re-addressed: from x");
            assertEquals("sealed datagram", StandardCharsets.UTF_8.decode(RelayFrame.payload(got)).toString());
            assertEquals(bytes + "sealed datagram".length(), relay.relayedBytes());
            y.sendBinary(frame(X.id(), "answer"));
            ByteBuffer back = x.binary.poll(5, TimeUnit.SECONDS);
            assertNotNull(back);
            assertEquals(Y.id(), RelayFrame.peer(back));

            // z was introduced to nobody: it can neither send to x nor receive from it.
            z.sendBinary(frame(X.id(), "from a stranger"));
            assertNull(x.binary.poll(500, TimeUnit.MILLISECONDS));
            x.sendBinary(frame(Z.id(), "to a stranger"));
            assertNull(z.binary.poll(500, TimeUnit.MILLISECONDS));

            // A malformed frame is dropped; the connection stays.
            long malformed = relay.dropped(WsRelay.Drop.MALFORMED);
            ByteBuffer bad = frame(Y.id(), "x");
            bad.put(0, (byte) 0x7f);
            x.sendBinary(bad);
            x.sendBinary(ByteBuffer.wrap(new byte[] {1, 2, 3}));
            x.send(new Message.Presence(9, Y.id()));
            assertTrue(((Message.PresenceResult) nextOf(x, Message.PresenceResult.class)).online());
            assertEquals(malformed + 2, relay.dropped(WsRelay.Drop.MALFORMED));
            assertNull(y.binary.poll(300, TimeUnit.MILLISECONDS));
        }
    }

    @Test
    void aDeviceThatDoesNotReadItsRelayFramesIsDisconnectedAndOthersKeepRelaying() throws Exception {
        Path file = dir.resolve("allow-list");
        try (ReferenceServer small = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1)
                .coapPort(-1).allowListFile(file).relayLimits(1L << 40, 1L << 40, 4)
                .limits(ServerConfig.Limits.defaults().withMaxQueuedBytes(64 * 1024)).build())) {
            try (RawControlClient x = admitted(small, X); RawControlClient y = admitted(small, Y); RawControlClient z = admitted(small, Z)) {
                introduce(x, y, 1);
                introduce(x, z, 2);
                y.paused = true; // y stops reading
                ByteBuffer big = RelayFrame.encode(Y.id(), ByteBuffer.allocate(RelayFrame.MAX_PAYLOAD));
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                int sent = 0;
                while (small.connectedDevices() == 3 && System.nanoTime() < deadline) {
                    x.sendBinary(big.duplicate());
                    sent++;
                }
                assertEquals(2, small.connectedDevices(), "the server disconnected y after " + sent + " frames of 16 KiB");
                // x and z are still served, and relay to each other.
                x.sendBinary(frame(Z.id(), "still relaying"));
                ByteBuffer got = z.binary.poll(5, TimeUnit.SECONDS);
                assertNotNull(got);
                assertEquals("still relaying", StandardCharsets.UTF_8.decode(RelayFrame.payload(got)).toString());
            }
        }
    }

    private static void introduce(RawControlClient from, RawControlClient to, long requestId) throws Exception {
        from.send(new Message.Connect(requestId, idOf(to)));
        Message.Incoming in = (Message.Incoming) nextOf(to, Message.Incoming.class);
        to.send(new Message.Accept(in.requestId()));
        assertNotNull(nextOf(from, Message.Introduce.class));
        assertNotNull(nextOf(to, Message.Introduce.class));
    }

    @Test
    void aFrameBeforeAdmissionClosesTheConnection() throws Exception {
        try (RawControlClient c = new RawControlClient(server.controlUri())) {
            c.sendBinary(frame(Y.id(), "who am I"));
            Message.Error e = assertInstanceOf(Message.Error.class, c.nextNonPing());
            assertEquals(ErrorCode.NOT_AUTHENTICATED, e.code());
            assertTrue(c.awaitClose() >= 1000);
        }
    }

    private static Message nextOf(RawControlClient c, Class<? extends Message> type) throws Exception {
        for (int i = 0; i < 20; i++) {
            Message m = c.next();
            if (type.isInstance(m)) {
                return m;
            }
        }
        throw new AssertionError("no " + type.getSimpleName());
    }
}
