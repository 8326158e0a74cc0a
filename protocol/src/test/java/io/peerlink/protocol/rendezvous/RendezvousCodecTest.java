package io.peerlink.protocol.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.UnreachableException;
import io.peerlink.protocol.identity.DeviceIdentity;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;

import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class RendezvousCodecTest {
    private static final RendezvousCodec CODEC = new RendezvousCodec();
    private static final DeviceIdentity A = DeviceIdentity.ephemeral();
    private static final DeviceId B = DeviceIdentity.ephemeral().id();
    private static final String TOKEN = "AAECAwQFBgcICQoLDA0ODw";
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
                new Message.Introduce(3, B, CANDIDATES, TOKEN, -2L, Long.MAX_VALUE, Role.INITIATOR, 42),
                new Message.Ping(123),
                new Message.Pong(-123),
                new Message.Presence(4, B),
                new Message.PresenceResult(4, B, true),
                new Message.PeerOffline(B),
                new Message.Introduce(5, B, CANDIDATES, TOKEN, 7L, 8L, Role.RESPONDER, 0, List.of(
                        new RelayServer("turn:198.51.100.1:3479?transport=udp", "1700000000:abc.0123", "c2VjcmV0"),
                        new RelayServer("turns:[2001:db8::1]:5349?transport=tcp", "1700000000:abc.0123", "c2VjcmV0"))),
                new Message.Trickle(5, List.of(Candidate.of(Endpoint.parse("turn://198.51.100.1:50000"), CandidateType.RELAY, 1))),
                new Message.LinkReport(List.of(new Message.LinkReport.Link(B, io.peerlink.PathKind.DIRECT_PRIVATE, 412, 10_000, 9_000),
                        new Message.LinkReport.Link(A.id(), io.peerlink.PathKind.RELAY, 0, 0, 0))),
                new Message.LinkReport(List.of()));
        for (Message m : messages) {
            String json = CODEC.encode(m);
            assertEquals(m, CODEC.decode(json), json);
            assertTrue(json.startsWith("{\"type\":\""), json);
        }
        assertEquals(RendezvousCodec.types().size(), messages.stream().map(Object::getClass).distinct().count() + 3,
                "every type is covered (+ challenge, hello, resume below)");
        Message.Challenge c = (Message.Challenge) CODEC.decode(CODEC.encode(new Message.Challenge(nonce, 77)));
        assertArrayEquals(nonce, c.nonce());
        assertEquals(77, c.serverTime());

        Message.Hello hello = new Message.Hello(Handshake.VERSION, A.id(), A.rawPublicKey(),
                A.sign(Handshake.signedPayload(nonce, A.id(), "192.0.2.1")), "192.0.2.1", Map.of("network", "lab"), CANDIDATES);
        String json = CODEC.encode(hello);
        assertTrue(json.startsWith("{\"type\":\"hello\",\"v\":2,\"deviceId\":\"" + A.id() + "\""), json);
        Message.Hello back = (Message.Hello) CODEC.decode(json);
        assertEquals(A.id(), back.deviceId());
        assertArrayEquals(A.rawPublicKey(), back.publicKey());
        assertTrue(DeviceIdentity.verify(back.publicKey(), Handshake.signedPayload(nonce, back.deviceId(), back.server()), back.signature()));
        assertFalse(DeviceIdentity.verify(back.publicKey(), Handshake.signedPayload(nonce, back.deviceId(), "192.0.2.2"), back.signature()),
                "a hello signed for one server does not verify for another");
        assertEquals(Map.of("network", "lab"), back.claims());
        assertEquals(CANDIDATES, back.candidates());

        // Protocol 2.1: a welcome with a resumption ticket, and the resume that uses it.
        byte[] secret = new byte[32];
        secret[0] = 1;
        Message.Welcome ticketed = (Message.Welcome) CODEC.decode(CODEC.encode(new Message.Welcome("s2", "lab", 15, "AQID-_x", secret)));
        assertEquals("AQID-_x", ticketed.ticket());
        assertArrayEquals(secret, ticketed.resumptionSecret());
        assertNull(((Message.Welcome) CODEC.decode("{\"type\":\"welcome\",\"sessionId\":\"s\",\"network\":\"n\",\"keepaliveSeconds\":5}"))
                .ticket(), "a 2.0 welcome still decodes");
        byte[] proof = Handshake.resumeProof(secret, nonce, A.id(), "192.0.2.1");
        String resumeJson = CODEC.encode(new Message.Resume(Handshake.VERSION, A.id(), "192.0.2.1", "AQID-_x", proof, Map.of(), CANDIDATES));
        assertTrue(resumeJson.startsWith("{\"type\":\"resume\",\"v\":2,\"deviceId\":\"" + A.id() + "\",\"server\":\"192.0.2.1\",\"ticket\":"),
                resumeJson);
        Message.Resume resume = (Message.Resume) CODEC.decode(resumeJson);
        assertArrayEquals(proof, resume.proof());
        assertEquals(CANDIDATES, resume.candidates());
        assertFalse(java.util.Arrays.equals(proof, Handshake.resumeProof(secret, nonce, A.id(), "192.0.2.2")),
                "a proof made for one server does not hold for another");
        ProtocolException badTicket = assertThrows(ProtocolException.class, () -> CODEC.decode(resumeJson.replace("AQID-_x", "AQ/D+x==")));
        assertEquals(ErrorCode.INVALID_FIELD, badTicket.code());
        ProtocolException halfWelcome = assertThrows(ProtocolException.class, () -> CODEC.decode(
                "{\"type\":\"welcome\",\"sessionId\":\"s\",\"network\":\"n\",\"keepaliveSeconds\":5,\"ticket\":\"AQID\"}"));
        assertEquals(ErrorCode.INVALID_FIELD, halfWelcome.code(), "a ticket without its secret is refused");
    }

    @Test
    void wireFormatIsTheDocumentedOne() {
        String json = CODEC.encode(new Message.Introduce(1, B, CANDIDATES.subList(0, 1), TOKEN, -1L, 1L, Role.RESPONDER, 0));
        assertEquals("{\"type\":\"introduce\",\"requestId\":1,\"peer\":\"" + B + "\",\"peerCandidates\":[{\"type\":\"HOST\","
                + "\"endpoint\":\"udp://192.0.2.10:40000\",\"priority\":" + CANDIDATES.get(0).priority() + "}],\"sessionToken\":\""
                + TOKEN + "\",\"localConnectionId\":\"ffffffffffffffff\",\"remoteConnectionId\":\"0000000000000001\","
                + "\"role\":\"RESPONDER\",\"startInMillis\":0}", json);
        assertEquals("{\"type\":\"error\",\"code\":\"DENIED\",\"message\":\"no\"}", CODEC.encode(new Message.Error(ErrorCode.DENIED, "no", null)));
        assertEquals("{\"type\":\"challenge\",\"nonce\":\"" + "A".repeat(43) + "=\",\"serverTime\":5}",
                CODEC.encode(new Message.Challenge(new byte[32], 5)));
    }

    @Test
    void relaysAreCheckedStrictly() throws Exception {
        RelayServer tcp = new RelayServer("turn:198.51.100.1:3479?transport=tcp", "1:x", "y");
        assertEquals(RelayServer.Leg.TCP, tcp.leg());
        assertEquals("198.51.100.1", tcp.host());
        assertEquals(3479, tcp.port());
        assertEquals(RelayServer.Leg.UDP, new RelayServer("turn:198.51.100.1:3479", "1:x", "y").leg());
        assertEquals(RelayServer.Leg.TLS, new RelayServer("turns:[2001:db8::1]:5349?transport=tcp", "1:x", "y").leg());
        String intro = CODEC.encode(new Message.Introduce(1, B, CANDIDATES, TOKEN, 1L, 2L, Role.INITIATOR, 0, List.of(tcp)));
        assertTrue(intro.endsWith(",\"relays\":[{\"uri\":\"turn:198.51.100.1:3479?transport=tcp\",\"username\":\"1:x\",\"credential\":\"y\"}]}"), intro);
        assertEquals(List.of(tcp), ((Message.Introduce) CODEC.decode(intro)).relayServers());
        String head = intro.substring(0, intro.indexOf(",\"relays\""));
        assertCode(ErrorCode.INVALID_FIELD, head + ",\"relays\":[{\"uri\":\"turn:relay.example.org:3479\",\"username\":\"1:x\",\"credential\":\"y\"}]}");
        assertCode(ErrorCode.INVALID_FIELD, head + ",\"relays\":[{\"uri\":\"http://198.51.100.1:3479\",\"username\":\"1:x\",\"credential\":\"y\"}]}");
        assertCode(ErrorCode.INVALID_FIELD, head + ",\"relays\":[{\"uri\":\"turn:198.51.100.1:3479?transport=sctp\",\"username\":\"1:x\",\"credential\":\"y\"}]}");
        assertCode(ErrorCode.INVALID_FIELD, head + ",\"relays\":[{\"uri\":\"turn:198.51.100.1:3479\",\"username\":\"1:x\"}]}");
        assertCode(ErrorCode.MALFORMED, head + ",\"relays\":[{\"uri\":5,\"username\":\"1:x\",\"credential\":\"y\"}]}");
        assertCode(ErrorCode.MALFORMED, head + ",\"relays\":{}}");
        assertCode(ErrorCode.INVALID_FIELD, head + ",\"relays\":[" + String.join(",", java.util.Collections.nCopies(9,
                "{\"uri\":\"turn:198.51.100.1:3479\",\"username\":\"1:x\",\"credential\":\"y\"}")) + "]}");
        assertEquals(List.of(), ((Message.Introduce) CODEC.decode(head + ",\"relays\":[]}")).relayServers());
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"trickle\",\"candidates\":[]}");
    }

    @Test
    void rejectsBadInputWithTheRightCode() {
        assertCode(ErrorCode.MALFORMED, "");
        assertCode(ErrorCode.MALFORMED, "null");
        assertCode(ErrorCode.MALFORMED, "\"text\"");
        assertCode(ErrorCode.MALFORMED, "[]");
        assertCode(ErrorCode.MALFORMED, "{\"type\":");
        assertCode(ErrorCode.MALFORMED, "{\"type\":5}");
        assertCode(ErrorCode.MALFORMED, "{}");
        assertCode(ErrorCode.UNKNOWN_TYPE, "{\"type\":\"hack\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"connect\",\"requestId\":1}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"peer-offline\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"peer-offline\",\"peer\":\"not-an-id\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":null}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"connect\",\"requestId\":9007199254740992,\"to\":\"" + B + "\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"connect\",\"requestId\":1,\"to\":\"not-an-id\"}");
        assertCode(ErrorCode.INVALID_FIELD, hello("\"AAAA\"", "\"AAAA\""));
        assertCode(ErrorCode.INVALID_FIELD, hello("\"%%%\"", "\"AAAA\""));
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"unreachable\",\"requestId\":1,\"to\":\"" + B + "\",\"reason\":\"BORED\"}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"candidates\",\"candidates\":[{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":-1}]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"candidates\",\"candidates\":[{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\"}]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"candidates\",\"candidates\":[" + "{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":1},".repeat(32)
                + "{\"type\":\"HOST\",\"endpoint\":\"udp://1.2.3.4:5\",\"priority\":1}]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"introduce\",\"requestId\":1,\"peer\":\"" + B + "\",\"sessionToken\":\"short\","
                + "\"localConnectionId\":\"00\",\"remoteConnectionId\":\"01\",\"role\":\"INITIATOR\",\"startInMillis\":0}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"introduce\",\"requestId\":1,\"peer\":\"" + B + "\",\"sessionToken\":\"" + TOKEN + "\","
                + "\"localConnectionId\":\"00\",\"remoteConnectionId\":\"0000000000000001\",\"role\":\"INITIATOR\",\"startInMillis\":0}");
        assertCode(ErrorCode.TOO_LARGE, "{\"type\":\"ping\",\"t\":1,\"x\":\"" + "y".repeat(RendezvousCodec.MAX_MESSAGE_BYTES) + "\"}");
    }

    @Test
    void wrongJsonTypesAreMalformedNotCoerced() {
        // JSON-B alone would read "7" as 7 and 7 as "7"; the protocol does not.
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":\"7\"}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":true}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"connect\",\"requestId\":1,\"to\":5}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"peer-offline\",\"peer\":[]}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"presenceResult\",\"requestId\":1,\"of\":\"" + B + "\",\"online\":\"true\"}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"candidates\",\"candidates\":{}}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"candidates\",\"candidates\":[5]}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"hello\",\"claims\":{\"network\":7}}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"hello\",\"claims\":[\"network\"]}");
    }

    @Test
    void overflowingAndFractionalNumbersAreRejectedNotWrapped() {
        BigInteger wrapsToSeven = BigInteger.TWO.pow(64).add(BigInteger.valueOf(7));
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"accept\",\"requestId\":" + wrapsToSeven + "}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":9223372036854775808}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":-9223372036854775809}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"accept\",\"requestId\":1.5}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"accept\",\"requestId\":1.0}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"accept\",\"requestId\":1e3}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":1e999999999}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"welcome\",\"sessionId\":\"s\",\"network\":\"n\",\"keepaliveSeconds\":4294967311}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"accept\",\"requestId\":-1}");
    }

    @Test
    void trailingDataDuplicatesAndDeepNestingAreRejected() {
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1} x");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1}{\"type\":\"ping\",\"t\":2}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1},");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1,\"t\":2}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"type\":\"pong\",\"t\":1}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1,\"x\":" + "[".repeat(50) + "]".repeat(50) + "}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"ping\",\"t\":1,\"x\":" + "[".repeat(20_000) + "]".repeat(20_000) + "}");
    }

    @Test
    void unknownFieldsAndSurroundingWhitespaceAreAccepted() throws Exception {
        assertEquals(new Message.Ping(1), CODEC.decode(" \n{\"t\":1,\"future\":{\"a\":[1,2,{\"b\":null}]},\"type\":\"ping\"}\n "));
        assertEquals(new Message.Error(ErrorCode.DENIED, "x", null), CODEC.decode("{\"type\":\"error\",\"code\":\"DENIED\",\"message\":\"x\",\"requestId\":null}"));
    }

    @Property(tries = 300)
    void introductionsRoundTrip(@ForAll @LongRange(min = 0, max = RendezvousCodec.MAX_REQUEST_ID) long requestId,
                                @ForAll long local, @ForAll long remote, @ForAll @LongRange(min = 0, max = 60_000) long start,
                                @ForAll("candidates") List<Candidate> candidates) throws Exception {
        Message m = new Message.Introduce(requestId, B, candidates, TOKEN, local, remote, Role.INITIATOR, start);
        assertEquals(m, CODEC.decode(CODEC.encode(m)));
    }

    @Property(tries = 300)
    void anyLongSurvivesPingAndAnyOutOfRangeIntegerIsRejected(@ForAll long t, @ForAll @LongRange(min = 1, max = Long.MAX_VALUE) long excess)
            throws Exception {
        assertEquals(new Message.Ping(t), CODEC.decode("{\"type\":\"ping\",\"t\":" + t + "}"));
        BigInteger over = BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.valueOf(excess));
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":" + over + "}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"ping\",\"t\":-" + over.add(BigInteger.ONE) + "}");
    }

    @Provide
    Arbitrary<List<Candidate>> candidates() {
        Arbitrary<Candidate> one = Combinators.combine(
                Arbitraries.integers().between(1, 254), Arbitraries.integers().between(1, 65535),
                Arbitraries.of(CandidateType.class), Arbitraries.longs().between(0, 0xffff_ffffL))
                .as((host, port, type, priority) -> new Candidate(Endpoint.udp(new InetSocketAddress("198.51.100." + host, port)), type, priority));
        return one.list().ofMaxSize(RendezvousCodec.MAX_CANDIDATES);
    }

    @Property(tries = 2000)
    void arbitraryTextNeverEscapesAsAnythingButProtocolException(@ForAll @StringLength(max = 300) String text) {
        decodeOrReject(text);
        decodeOrReject("{\"type\":\"connect\"," + text);
        decodeOrReject("{\"type\":\"introduce\",\"requestId\":1,\"peer\":" + text + "}");
        decodeOrReject("{\"type\":\"hello\",\"claims\":{" + text + "}}");
        decodeOrReject("{\"type\":\"candidates\",\"candidates\":[{" + text + "}]}");
    }

    @Property(tries = 1000)
    void mutatedValidMessagesNeverEscapeAsAnythingButProtocolException(@ForAll("validJson") String json,
                                                                      @ForAll @LongRange(min = 0, max = 10_000) long position,
                                                                      @ForAll char replacement) {
        int at = (int) (position % json.length());
        decodeOrReject(json.substring(0, at) + replacement + json.substring(at + 1));
        decodeOrReject(json.substring(0, at));
        decodeOrReject(json + json.substring(at));
    }

    @Provide
    Arbitrary<String> validJson() {
        return Arbitraries.of(
                CODEC.encode(new Message.Introduce(3, B, CANDIDATES, TOKEN, -2L, 5L, Role.INITIATOR, 42)),
                CODEC.encode(new Message.Candidates(CANDIDATES)),
                CODEC.encode(new Message.Error(ErrorCode.UNKNOWN_REQUEST, "gone", 7L)),
                CODEC.encode(new Message.PresenceResult(4, B, true)),
                CODEC.encode(new Message.LinkReport(List.of(new Message.LinkReport.Link(B, io.peerlink.PathKind.RELAY, 5, 6, 7)))),
                CODEC.encode(new Message.Challenge(new byte[32], 1)));
    }

    @Test
    void linkReportsAreStrictAndBounded() throws Exception {
        String link = "{\"peer\":\"" + B + "\",\"path\":\"DIRECT_PUBLIC\",\"rttMicros\":100,\"bytesSent\":1,\"bytesReceived\":2}";
        assertEquals(new Message.LinkReport(List.of(new Message.LinkReport.Link(B, io.peerlink.PathKind.DIRECT_PUBLIC, 100, 1, 2))),
                CODEC.decode("{\"type\":\"link-report\",\"links\":[" + link + "]}"));
        assertEquals(new Message.LinkReport(List.of()), CODEC.decode("{\"type\":\"link-report\"}"));
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link + "," + link + "]}"); // peer twice
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link.replace("DIRECT_PUBLIC", "WORMHOLE") + "]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link.replace("\"bytesSent\":1", "\"bytesSent\":-1") + "]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link.replace("\"rttMicros\":100", "\"rttMicros\":60000001") + "]}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link.replace(",\"bytesReceived\":2", "") + "]}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"link-report\",\"links\":[" + link.replace("\"bytesSent\":1", "\"bytesSent\":\"1\"") + "]}");
        assertCode(ErrorCode.MALFORMED, "{\"type\":\"link-report\",\"links\":{}}");
        assertCode(ErrorCode.INVALID_FIELD, "{\"type\":\"link-report\",\"links\":[" + link.replace(B.value(), "not-an-id") + "]}");
        StringBuilder many = new StringBuilder("{\"type\":\"link-report\",\"links\":[");
        for (int i = 0; i <= RendezvousCodec.MAX_LINKS; i++) {
            many.append(i == 0 ? "" : ",").append(link.replace(B.value(), DeviceIdentity.ephemeral().id().value()));
        }
        assertCode(ErrorCode.INVALID_FIELD, many + "]}");
    }

    private static String hello(String publicKey, String signature) {
        return "{\"type\":\"hello\",\"v\":2,\"deviceId\":\"" + B + "\",\"publicKey\":" + publicKey + ",\"signature\":" + signature
                + ",\"server\":\"x\"}";
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

    @Test
    void claimsEncodeInOneOrderWhateverOrderTheyArrivedIn() throws Exception {
        // Regression (ProtocolFuzzTest#rendezvousJson, seed "claims-order"): a decoded hello whose
        // claims arrived in another order re-encoded differently.
        String head = "{\"type\":\"hello\",\"v\":2,\"deviceId\":\"" + A.id() + "\",\"publicKey\":\"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\","
                + "\"signature\":\"" + java.util.Base64.getEncoder().encodeToString(new byte[64]) + "\",\"server\":\"127.0.0.1\",\"claims\":";
        String ab = head + "{\"zeta\":\"1\",\"alpha\":\"2\",\"mid\":\"3\"},\"candidates\":[]}";
        String ba = head + "{\"mid\":\"3\",\"alpha\":\"2\",\"zeta\":\"1\"},\"candidates\":[]}";
        String once = CODEC.encode(CODEC.decode(ab));
        assertEquals(once, CODEC.encode(CODEC.decode(ba)));
        assertEquals(once, CODEC.encode(CODEC.decode(once)));
        assertTrue(once.contains("{\"alpha\":\"2\",\"mid\":\"3\",\"zeta\":\"1\"}"), once);
    }

    @Test
    void anIntegerFieldWithAnExponentBeyondIntIsAProtocolError() {
        // Regression (ProtocolFuzzTest#rendezvousJson, seed "huge-exponent"): the parser's
        // isIntegralNumber() threw NumberFormatException out of decode.
        for (String number : new String[] {"18446788e147419103246", "1e2147483648", "1E-99999999999", "1.5", "-0.0e1", "123456789012345678901"}) {
            ProtocolException e = assertThrows(ProtocolException.class,
                    () -> CODEC.decode("{\"type\":\"connect\",\"requestId\":" + number + ",\"to\":\"" + A.id() + "\"}"), number);
            assertEquals(ErrorCode.INVALID_FIELD, e.code(), number);
        }
    }

    /** The hand-written encodings of the admission and keepalive messages are byte for byte JSON-B's. */
    @Property(tries = 300)
    void directEncodingsAreJsonBs(@ForAll long t, @ForAll byte[] nonceSeed, @ForAll("networks") String network,
                                  @ForAll boolean withTicket) {
        byte[] nonce = java.util.Arrays.copyOf(nonceSeed, 32);
        byte[] secret = java.util.Arrays.copyOf(nonceSeed, 32);
        List<Message> messages = List.of(new Message.Ping(t), new Message.Pong(t), new Message.Challenge(nonce, t),
                new Message.Welcome("AAECAwQFBgcICQoL", network, 25, withTicket ? TOKEN + "-_x" : null, withTicket ? secret : null));
        for (Message m : messages) {
            assertEquals(CODEC.encodeBound(m), CODEC.encode(m), m.toString());
        }
    }

    @Provide
    Arbitrary<String> networks() {
        // printable ASCII (written directly), quotes, backslashes, control and non-ASCII characters (left to JSON-B)
        return Arbitraries.strings().withCharRange(' ', '~').withChars('"', '\\', '\n', '\u00e9', '\u2028').ofMinLength(1).ofMaxLength(20);
    }

    /** Pings and pongs in the codec's own form skip the two-pass decode, with the same result; any other form takes it. */
    @Property(tries = 300)
    void pingsAndPongsDecodeAsTheGeneralPathDoes(@ForAll @LongRange(min = 0) long t) throws Exception {
        for (Message m : List.of(new Message.Ping(t), new Message.Pong(t))) {
            String text = CODEC.encode(m);
            if (t < 1_000_000_000_000_000_000L) { // up to 18 digits
                assertEquals(m, RendezvousCodec.pingOrPong(text), text);
            } else {
                assertNull(RendezvousCodec.pingOrPong(text), text);
            }
            assertEquals(m, CODEC.decode(text));
            assertEquals(m, CODEC.decode(text.replace(",", ", ")), "a spaced form decodes too, by the general path");
        }
    }

    @Test
    void pingsAndPongsOutsideTheDirectFormTakeTheGeneralPath() throws Exception {
        for (String text : List.of("{\"type\":\"pong\",\"t\":}", "{\"type\":\"pong\",\"t\":-5}", "{\"type\":\"pong\",\"t\":05}",
                "{\"type\":\"pong\",\"t\":1.5}", "{\"type\":\"pong\",\"t\":\"5\"}", "{\"type\":\"pong\",\"t\":5,\"t\":6}",
                "{\"type\":\"pong\",\"t\":12345678901234567890}", "{\"type\":\"pong\",\"t\":5}x", "{\"type\":\"ping\",\"t\":5 }")) {
            assertNull(RendezvousCodec.pingOrPong(text), text);
        }
        assertEquals(new Message.Pong(-5), CODEC.decode("{\"type\":\"pong\",\"t\":-5}"));
        assertEquals(ErrorCode.MALFORMED, assertThrows(ProtocolException.class,
                () -> CODEC.decode("{\"type\":\"pong\",\"t\":5,\"t\":6}")).code());
        assertEquals(ErrorCode.MALFORMED, assertThrows(ProtocolException.class,
                () -> CODEC.decode("{\"type\":\"pong\",\"t\":\"5\"}")).code());
        assertEquals(ErrorCode.MALFORMED, assertThrows(ProtocolException.class,
                () -> CODEC.decode("{\"type\":\"pong\",\"t\":5}x")).code());
    }
}
