package io.peerlink.gateway.internal;

import io.socket.socketio.server.SocketIoSocket;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.json.JSONArray;
import org.json.JSONObject;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Whatever a gateway sends, validation either accepts it or throws {@link ProtocolError} with a known code. */
class EventArgsProperties {

    private static final List<String> CODES = List.of(ProtocolError.BAD_REQUEST, ProtocolError.PAYLOAD_TOO_LARGE);

    @Provide
    Arbitrary<Object> value() {
        Arbitrary<Object> scalar = Arbitraries.oneOf(
                Arbitraries.strings().ofMaxLength(300).map(s -> (Object) s),
                Arbitraries.integers().map(i -> (Object) i),
                Arbitraries.doubles().map(d -> (Object) d),
                Arbitraries.of(JSONObject.NULL, Boolean.TRUE),
                Arbitraries.bytes().array(byte[].class).ofMaxSize(600).map(b -> (Object) b));
        Arbitrary<Object> object = Arbitraries.maps(Arbitraries.of("deviceId", "values", "baseVersion", "x", "reported"),
                scalar).ofMaxSize(5).map(m -> (Object) new JSONObject(m));
        return Arbitraries.oneOf(scalar, object, scalar.list().ofMaxSize(3).map(l -> (Object) new JSONArray(l)));
    }

    @Property(tries = 2000)
    void parseAcceptsOrRefusesPrecisely(@ForAll("args") List<Object> args) {
        Object[] array = args.toArray();
        try {
            EventArgs a = EventArgs.parse("telemetry", array, 512, 256);
            a.id("telemetry", "deviceId");
            a.object("telemetry", "values", true);
            a.version("telemetry", "baseVersion");
        } catch (ProtocolError e) {
            assertTrue(CODES.contains(e.code), e.code);
            assertTrue(e.getMessage().startsWith("telemetry: "), e.getMessage());
        }
    }

    @Provide
    Arbitrary<List<Object>> args() {
        return value().list().ofMaxSize(4);
    }

    @Property(tries = 300)
    void oversizedJsonIsRefusedWithTheLimitInTheMessage(@ForAll("big") String filler) {
        SocketIoSocket.ReceivedByLocalAcknowledgementCallback ack = reply -> { };
        ProtocolError e = assertThrows(ProtocolError.class, () -> EventArgs.parse("telemetry",
                new Object[] {new JSONObject().put("values", new JSONObject().put("f", filler)), ack}, 512, 256));
        assertEquals(ProtocolError.PAYLOAD_TOO_LARGE, e.code);
        assertTrue(e.getMessage().contains("limit 512"), e.getMessage());
        assertTrue(e.ack.isPresent());
    }

    @Provide
    Arbitrary<String> big() {
        return Arbitraries.strings().ofMinLength(520).ofMaxLength(2000);
    }
}
