package io.peerlink.protocol.rendezvous;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import jakarta.json.bind.adapter.JsonbAdapter;
import jakarta.json.bind.annotation.JsonbPropertyOrder;
import jakarta.json.bind.serializer.DeserializationContext;
import jakarta.json.bind.serializer.JsonbDeserializer;
import jakarta.json.bind.serializer.JsonbSerializer;
import jakarta.json.bind.serializer.SerializationContext;
import jakarta.json.stream.JsonGenerator;
import jakarta.json.stream.JsonParser;

import java.lang.reflect.Type;

import java.util.HexFormat;

/** JSON-B adapters between the API's value types and their wire text. Public only because JSON-B instantiates them. */
public final class Adapters {
    private Adapters() {
    }

    /** A device ID travels as its 52-character text. */
    public static final class DeviceIds implements JsonbAdapter<DeviceId, String> {
        /** For JSON-B. */
        public DeviceIds() {
        }

        @Override
        public String adaptToJson(DeviceId id) {
            return id.value();
        }

        @Override
        public DeviceId adaptFromJson(String text) {
            try {
                return new DeviceId(text);
            } catch (IllegalArgumentException e) {
                throw new FieldException("deviceId", "is not a device ID: " + e.getMessage());
            }
        }
    }

    /**
     * A candidate on the wire.
     *
     * @param type HOST, SERVER_REFLEXIVE, PEER_REFLEXIVE or RELAY
     * @param endpoint endpoint URI, e.g. {@code udp://192.0.2.10:40000}
     * @param priority ICE priority, 0..2^32-1
     */
    @JsonbPropertyOrder({"type", "endpoint", "priority"})
    public record WireCandidate(String type, String endpoint, long priority) {
    }

    /** A candidate travels as {@code {"type":..,"endpoint":..,"priority":..}}. */
    public static final class Candidates implements JsonbAdapter<Candidate, WireCandidate> {
        /** For JSON-B. */
        public Candidates() {
        }

        @Override
        public WireCandidate adaptToJson(Candidate c) {
            return new WireCandidate(c.type().name(), c.endpoint().toString(), c.priority());
        }

        @Override
        public Candidate adaptFromJson(WireCandidate w) {
            CandidateType type;
            try {
                type = CandidateType.valueOf(Check.present(w.type(), "candidate.type"));
            } catch (IllegalArgumentException e) {
                throw new FieldException("candidate.type", "unknown value '" + RendezvousCodec.clip(w.type()) + "'");
            }
            String endpoint = Check.text(w.endpoint(), "candidate.endpoint");
            try {
                return new Candidate(Endpoint.parse(endpoint), type, w.priority());
            } catch (IllegalArgumentException e) {
                throw new FieldException("candidate", e.getMessage());
            }
        }
    }

    /**
     * A connection ID (64 bits) travels as exactly 16 hex digits. A serializer pair rather than an
     * adapter: JSON-B adapters apply to reference types only, and the record keeps a primitive
     * {@code long} so that {@code ==} on two IDs compares values.
     */
    public static final class ConnectionIdWriter implements JsonbSerializer<Long> {
        private static final HexFormat HEX = HexFormat.of();

        /** For JSON-B. */
        public ConnectionIdWriter() {
        }

        @Override
        public void serialize(Long id, JsonGenerator generator, SerializationContext ctx) {
            generator.write(HEX.toHexDigits(id));
        }
    }

    /** Reads 16 hex digits (the codec has checked it is a JSON string). */
    public static final class ConnectionIdReader implements JsonbDeserializer<Long> {
        /** For JSON-B. */
        public ConnectionIdReader() {
        }

        @Override
        public Long deserialize(JsonParser parser, DeserializationContext ctx, Type rtType) {
            String text = parser.getString();
            if (text.length() != 16) {
                throw new FieldException("connectionId", "must be 16 hex digits");
            }
            try {
                return HexFormat.fromHexDigitsToLong(text);
            } catch (IllegalArgumentException e) {
                throw new FieldException("connectionId", "must be 16 hex digits");
            }
        }
    }
}
