package io.peerlink.server;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.protocol.rendezvous.ErrorCode;
import io.peerlink.protocol.rendezvous.Handshake;
import io.peerlink.protocol.rendezvous.Message;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** Hostile and broken control messages from raw WebSockets; a real client keeps being served throughout. */
class ProtocolAbuseTest {
    private static final DeviceIdentity ATTACKER = DeviceIdentity.ephemeral();
    private static final DeviceIdentity VICTIM = DeviceIdentity.ephemeral();
    private static final DeviceIdentity BYSTANDER = DeviceIdentity.ephemeral();
    private static ReferenceServer server;
    private static TestDevice bystander;
    private static Path dir;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("peerlink-abuse");
        Path file = dir.resolve("allow-list");
        Files.writeString(file, ATTACKER.id() + "\n" + VICTIM.id() + "\n" + BYSTANDER.id() + "\n");
        server = ReferenceServer.start(ServerConfig.builder().bindHost("127.0.0.1").httpPort(0).stunPort(-1).coapPort(-1)
                .allowListFile(file).keepalive(Duration.ofSeconds(5)).build());
        bystander = TestDevice.started(server.controlUri(), BYSTANDER);
        bystander.awaitRegistered();
    }

    @AfterAll
    static void stop() throws Exception {
        bystander.close();
        server.close();
        Files.deleteIfExists(dir.resolve("allow-list"));
        Files.deleteIfExists(dir);
    }

    @BeforeEach
    void bystanderIsStillServed() throws Exception {
        // A presence query needs a live, admitted connection: the answer proves the bystander is still served.
        assertFalse(bystander.client.isOnline(DeviceIdentity.ephemeral().id()).toCompletableFuture().get(5, TimeUnit.SECONDS));
    }

    private static RawControlClient raw() throws Exception {
        return new RawControlClient(server.controlUri());
    }

    private static void assertErrorAndClose(RawControlClient c, ErrorCode code) throws Exception {
        Message m = c.nextNonPing();
        Message.Error e = assertInstanceOf(Message.Error.class, m);
        assertEquals(code, e.code(), e.message());
        assertTrue(c.awaitClose() >= 1000, "connection must be closed after " + code);
    }

    @Test
    void forgedSignatureIsRefused() throws Exception {
        try (RawControlClient c = raw()) {
            Message.Hello real = RawControlClient.hello(VICTIM, c.challenge.nonce());
            // Signed by the attacker, claiming the victim's ID and key.
            byte[] forged = ATTACKER.sign(Handshake.signedPayload(c.challenge.nonce(), VICTIM.id(), "127.0.0.1"));
            c.send(new Message.Hello(Handshake.VERSION, VICTIM.id(), real.publicKey(), forged, "127.0.0.1", Map.of(), List.of()));
            assertErrorAndClose(c, ErrorCode.BAD_SIGNATURE);
        }
    }

    @Test
    void publicKeyThatDoesNotDeriveTheDeviceIdIsRefused() throws Exception {
        try (RawControlClient c = raw()) {
            Message.Hello own = RawControlClient.hello(ATTACKER, c.challenge.nonce());
            c.send(new Message.Hello(Handshake.VERSION, VICTIM.id(), own.publicKey(), own.signature(), own.server(), Map.of(), List.of()));
            assertErrorAndClose(c, ErrorCode.KEY_MISMATCH);
        }
    }

    @Test
    void helloReplayedOnAnotherConnectionIsRefused() throws Exception {
        String captured;
        try (RawControlClient first = raw()) {
            captured = RawControlClient.CODEC.encode(RawControlClient.hello(VICTIM, first.challenge.nonce()));
            first.send(captured);
            assertInstanceOf(Message.Welcome.class, first.nextNonPing());
        }
        try (RawControlClient replay = raw()) {
            replay.send(captured);
            assertErrorAndClose(replay, ErrorCode.BAD_SIGNATURE);
        }
    }

    @Test
    void secondHelloOnAnAdmittedConnectionIsRefused() throws Exception {
        try (RawControlClient c = raw()) {
            Message.Hello hello = RawControlClient.hello(ATTACKER, c.challenge.nonce());
            c.send(hello);
            assertInstanceOf(Message.Welcome.class, c.nextNonPing());
            c.send(hello);
            assertErrorAndClose(c, ErrorCode.ALREADY_AUTHENTICATED);
        }
    }

    @Test
    void anythingBeforeHelloIsRefused() throws Exception {
        try (RawControlClient c = raw()) {
            c.send(new Message.Connect(1, VICTIM.id()));
            assertErrorAndClose(c, ErrorCode.NOT_AUTHENTICATED);
        }
        try (RawControlClient c = raw()) {
            c.send("{not json");
            assertErrorAndClose(c, ErrorCode.MALFORMED);
        }
    }

    @Test
    void unsupportedVersionIsRefused() throws Exception {
        try (RawControlClient c = raw()) {
            Message.Hello h = RawControlClient.hello(ATTACKER, c.challenge.nonce());
            c.send(new Message.Hello(1, h.deviceId(), h.publicKey(), h.signature(), h.server(), Map.of(), List.of()));
            assertErrorAndClose(c, ErrorCode.UNSUPPORTED_VERSION);
        }
    }

    @Test
    void malformedUnknownAndInvalidMessagesAfterAdmissionGetErrorsAndTheConnectionStaysOpen() throws Exception {
        try (RawControlClient c = raw()) {
            c.send(RawControlClient.hello(ATTACKER, c.challenge.nonce()));
            assertInstanceOf(Message.Welcome.class, c.nextNonPing());
            String[][] cases = {
                    {"{\"type\":\"connect\",", "MALFORMED"},
                    {"[1,2,3]", "MALFORMED"},
                    {"{\"type\":\"connect\",\"requestId\":\"x\",\"to\":\"y\"}", "MALFORMED"},
                    {"{\"noType\":1}", "MALFORMED"},
                    {"{\"type\":\"teleport\"}", "UNKNOWN_TYPE"},
                    {"{\"type\":\"welcome\",\"sessionId\":\"s\",\"network\":\"n\",\"keepaliveSeconds\":5}", "UNKNOWN_TYPE"},
                    {"{\"type\":\"connect\",\"requestId\":1,\"to\":\"not-a-device-id\"}", "INVALID_FIELD"},
                    {"{\"type\":\"connect\",\"requestId\":-5,\"to\":\"" + VICTIM.id() + "\"}", "INVALID_FIELD"},
                    {"{\"type\":\"candidates\",\"candidates\":[{\"type\":\"HOST\",\"endpoint\":\"nonsense\",\"priority\":1}]}", "INVALID_FIELD"},
                    {"{\"type\":\"accept\",\"requestId\":999}", "UNKNOWN_REQUEST"},
            };
            for (String[] tc : cases) {
                c.send(tc[0]);
                Message.Error e = assertInstanceOf(Message.Error.class, c.nextNonPing(), tc[0]);
                assertEquals(ErrorCode.valueOf(tc[1]), e.code(), tc[0] + " -> " + e.message());
            }
            c.send(new Message.Ping(42));
            assertEquals(new Message.Pong(42), c.nextNonPing(), "the connection keeps working after errors");
            assertFalse(c.closed.isDone());
        }
    }

    @Test
    void oversizedMessageGetsTooLargeAndClose() throws Exception {
        try (RawControlClient c = raw()) {
            c.send(RawControlClient.hello(ATTACKER, c.challenge.nonce()));
            assertInstanceOf(Message.Welcome.class, c.nextNonPing());
            c.send("{\"type\":\"ping\",\"t\":1,\"pad\":\"" + "x".repeat(70 * 1024) + "\"}");
            assertErrorAndClose(c, ErrorCode.TOO_LARGE);
        }
    }

    @Test
    void floodOfMessagesIsRateLimited() throws Exception {
        try (RawControlClient c = raw()) {
            c.send(RawControlClient.hello(ATTACKER, c.challenge.nonce()));
            assertInstanceOf(Message.Welcome.class, c.nextNonPing());
            for (int i = 0; i < 300; i++) {
                c.send(new Message.Ping(i));
            }
            boolean limited = false;
            int pongs = 0;
            for (String text; (text = c.received.poll(2, TimeUnit.SECONDS)) != null; ) {
                Message m = RawControlClient.CODEC.decode(text);
                if (m instanceof Message.Error e && e.code() == ErrorCode.RATE_LIMITED) {
                    limited = true;
                } else if (m instanceof Message.Pong) {
                    pongs++;
                }
            }
            assertTrue(limited, "300 messages at once must hit the limit");
            // The bucket holds a burst of 100 and the hello took one token; on a fast machine the 300
            // pings arrive before a further token refills (50/s), so 99 is the least that is right.
            assertTrue(pongs >= 99 && pongs < 300, "the burst is served, the excess dropped: " + pongs + " pongs");
        }
    }
}
