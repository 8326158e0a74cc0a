package io.peerlink.core.internal.rendezvous.protocol;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.identity.DeviceIdentity;
import io.peerlink.core.internal.rendezvous.Introduction;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RendezvousCodecTest {
    private static final RendezvousCodec CODEC = new RendezvousCodec();
    private static final DeviceIdentity A = DeviceIdentity.ephemeral();
    private static final DeviceId B = DeviceIdentity.ephemeral().id();
    private static final List<Candidate> CANDIDATES = List.of(
            Candidate.of(Endpoint.udp(new InetSocketAddress("192.0.2.10", 40000)), CandidateType.HOST, 65535),
            Candidate.of(Endpoint.udp(new InetSocketAddress("2001:db8::1", 40001)), CandidateType.SERVER_REFLEXIVE, 1));

    @Test
    void everyMessageTypeRoundTrips() throws Exception {
        byte[] nonce = new byte[32];
        nonce[5] = 9;
        List<Message> messages = List.of(
                new Message.Welcome("s1", "lab", 15),
                new Message.Error(ErrorCode.DENIED, "no", null),
                new Message.Error(ErrorCode.UNKNOWN_REQUEST, "gone", 7L),
                new Message.Candidates(CANDIDATES),
                new Message.Connect(3, B),
                new Message.Unreachable(3, B, UnreachableException.Reason.OFFLINE, "not connected"),
                new Message.Incoming(9, A.id()),
                new Message.Accept(9),
                new Message.Reject(9, "busy"),
                new Message.Introduce(3, B, CANDIDATES, "AAECAwQFBgcICQoLDA0ODw", -2L, Long.MAX_VALUE, Introduction.Role.INITIATOR, 42),
                new Message.Ping(123),
                new Message.Pong(123),
                new Message.Presence(4, B),
                new Message.PresenceResult(4, B, true));
        for (Message m : messages) {
            assertEquals(m, CODEC.decode(CODEC.encode(m)), CODEC.encode(m));
        }
        Message.Challenge c = (Message.Challenge) CODEC.decode(CODEC.encode(new Message.Challenge(nonce, 77)));
        assertArrayEquals(nonce, c.nonce());
        assertEquals(77, c.serverTime());

        Message.Hello hello = new Message.Hello(1, A.id(), A.rawPublicKey(), A.sign(Handshake.signedPayload(nonce, A.id())),
                Map.of("network", "lab"), CANDIDATES);
        String json = CODEC.encode(hello);
        assertTrue(json.startsWith("{\"type\":\"hello\",\"v\":1"), json);
        Message.Hello back = (Message.Hello) CODEC.decode(json);
        assertEquals(A.id(), back.deviceId());
        assertArrayEquals(A.rawPublicKey(), back.publicKey());
        assertTrue(DeviceIdentity.verify(back.publicKey(), Handshake.signedPayload(nonce, back.deviceId()), back.signature()));
        assertEquals(Map.of("network", "lab"), back.claims());
        assertEquals(CANDIDATES, back.candidates());
    }

    @Test
    void connectionIdsTravelAsSixteenHexDigits() {
        String json = CODEC.encode(new Message.Introduce(1, B, List.of(), "AAECAwQFBgcICQoLDA0ODw", -1L, 1L, Introduction.Role.RESPONDER, 0));
        assertTrue(json.contains("\"localConnectionId\":\"ffffffffffffffff\""), json);
        assertTrue(json.contains("\"remoteConnectionId\":\"0000000000000001\""), json);
    }

    @Test
    void rejectsBadInputWithTheRightCode() {
        assertCode(ErrorCode.MALFORMED, "");
        assertCode(ErrorCode.MALFORMED, "null");
        assertCode(ErrorCode.MALFORMED, "\"text\"");
        assertCode(ErrorCode.MALFORMED, "{\"type\":");
        // JSON-B coerces a number where a string is expected; the value is then still validated.
        assertCode(ErrorCode.UNKNOWN_TYPE, "{\"type\":5}");
        assertCode(ErrorCode.MALFORMED, "{}");
        assertCode(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"hack\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"connect\",\"requestId\":1}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"connect\",\"requestId\":9007199254740992,\"to\":\"" + B + "\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"hello\",\"v\":1,\"deviceId\":\"" + B + "\",\"publicKey\":\"AAAA\",\"signature\":\"AAAA\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"hello\",\"v\":1,\"deviceId\":\"" + B + "\",\"publicKey\":\"%%%\",\"signature\":\"AAAA\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"unreachable\",\"requestId\":1,\"to\":\"" + B + "\",\"reason\":\"BORED\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"candidates\",\"candidates\":[{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":-1}]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"candidates\",\"candidates\":[" + "{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":1},".repeat(32)
                + "{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":1}]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"introduce\",\"requestId\":1,\"peer\":\"" + B + "\",\"sessionToken\":\"short\","
                + "\"localConnectionId\":\"00\",\"remoteConnectionId\":\"01\",\"role\":\"INITIATOR\",\"startInMillis\":0}");
        assertCode(ErrorCode.TOO_LARGE, "{\"type\":\"ping\",\"t\":1,\"x\":\"" + "y".repeat(RendezvousCodec.MAX_MESSAGE_BYTES) + "\"}");
    }

    @Property(tries = 2000)
    void arbitraryTextNeverEscapesAsAnythingButProtocolException(@ForAll @StringLength(max = 300) String text) {
        decodeOrReject(text);
        decodeOrReject("{\"type\":\"connect\"," + text);
        decodeOrReject("{\"type\":\"introduce\",\"requestId\":1,\"peer\":" + text + "}");
    }

    private static void decodeOrReject(String text) {
        try {
            assertNotNull(CODEC.decode(text));
        } catch (ProtocolException e) {
            assertNotNull(e.code());
        }
    }

    private static void assertCode(ErrorCode code, String text) {
        ProtocolException e = assertThrows(ProtocolException.class, () -> CODEC.decode(text), text);
        assertEquals(code, e.code(), e.getMessage());
    }
}
