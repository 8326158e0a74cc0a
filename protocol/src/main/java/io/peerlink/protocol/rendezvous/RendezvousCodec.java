package io.peerlink.protocol.rendezvous;

import io.peerlink.DeviceId;
import jakarta.json.Json;
import jakarta.json.JsonException;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbConfig;
import jakarta.json.bind.annotation.JsonbSubtype;
import jakarta.json.bind.annotation.JsonbTypeAdapter;
import jakarta.json.bind.annotation.JsonbTypeDeserializer;
import jakarta.json.bind.annotation.JsonbTypeInfo;
import jakarta.json.bind.config.BinaryDataStrategy;
import jakarta.json.stream.JsonParser;
import jakarta.json.stream.JsonParserFactory;

import java.io.StringReader;
import java.lang.reflect.RecordComponent;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * JSON encoding of rendezvous {@link Message}s. JSON-B (Yasson) maps the message records,
 * their {@code type} tag ({@link JsonbTypeInfo}) and field adapters; the records validate
 * their own fields. Before binding, one streaming pass over the text enforces what JSON-B is
 * lenient about: the size limit, exactly one JSON object and nothing after it, JSON types as
 * the records declare them (no string for a number, no {@code 1.5} or {@code 2^64+7} for a
 * request ID), no duplicate keys, bounded nesting, a known {@code type}, and every primitive
 * field present. The expected JSON type of each field is read from the record components, so
 * the records are the one description of the protocol.
 *
 * <p>Decoding never throws anything but {@link ProtocolException}. Thread-safe; share one instance.
 */
public final class RendezvousCodec implements AutoCloseable {
    /** Largest message, in UTF-8 bytes. */
    public static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** Most candidates in one list. */
    public static final int MAX_CANDIDATES = 32;
    /** Most TURN servers in one introduction. */
    public static final int MAX_RELAYS = 8;
    /** Most claims in a hello. */
    public static final int MAX_CLAIMS = 16;
    /** Longest claim key. */
    public static final int MAX_CLAIM_KEY = 64;
    /** Longest claim value, reason or error text. */
    public static final int MAX_TEXT = 512;
    /** Longest resumption ticket, in characters (protocol 2.1). */
    public static final int MAX_TICKET = 2048;
    /** Largest request ID: the JSON safe-integer range, so any JSON implementation round-trips it. */
    public static final long MAX_REQUEST_ID = (1L << 53) - 1;
    /** Most entries in a {@code link-report}. */
    public static final int MAX_LINKS = 64;
    /** Deepest nesting accepted, counting the message object as 1 (unknown fields included). */
    static final int MAX_DEPTH = 8;

    /** JSON kinds a field may have. */
    private enum Kind { STRING, INT, LONG, BOOLEAN, CANDIDATES, RELAYS, LINKS, CLAIMS }

    private static final Map<String, Class<?>> TYPES;
    private static final Map<String, Kind> FIELDS;
    private static final Map<Class<?>, Set<String>> REQUIRED;
    private static final Map<String, Kind> CANDIDATE_FIELDS;
    private static final Map<String, Kind> RELAY_FIELDS;
    private static final Map<String, Kind> LINK_FIELDS;

    static {
        Map<String, Class<?>> types = new LinkedHashMap<>();
        for (JsonbSubtype s : Message.class.getAnnotation(JsonbTypeInfo.class).value()) {
            types.put(s.alias(), s.type());
        }
        Map<String, Kind> fields = new HashMap<>();
        Map<Class<?>, Set<String>> required = new HashMap<>();
        for (Class<?> type : types.values()) {
            required.put(type, schema(type, fields));
        }
        TYPES = Collections.unmodifiableMap(types);
        FIELDS = Collections.unmodifiableMap(fields);
        REQUIRED = Collections.unmodifiableMap(required);
        Map<String, Kind> candidateFields = new HashMap<>();
        schema(Adapters.WireCandidate.class, candidateFields);
        CANDIDATE_FIELDS = Collections.unmodifiableMap(candidateFields);
        Map<String, Kind> relayFields = new HashMap<>();
        schema(RelayServer.class, relayFields);
        RELAY_FIELDS = Collections.unmodifiableMap(relayFields);
        Map<String, Kind> linkFields = new HashMap<>();
        schema(Message.LinkReport.Link.class, linkFields);
        LINK_FIELDS = Collections.unmodifiableMap(linkFields);
    }

    /** Adds each component's JSON kind to {@code kinds}; returns the components that must be present (primitives). */
    private static Set<String> schema(Class<?> record, Map<String, Kind> kinds) {
        Set<String> required = new HashSet<>();
        for (RecordComponent c : record.getRecordComponents()) {
            Class<?> t = c.getType();
            Kind kind;
            if (adapted(record, c) || t == String.class || t == DeviceId.class || t == byte[].class
                    || t.isEnum()) {
                kind = Kind.STRING;
            } else if (t == int.class || t == Integer.class) {
                kind = Kind.INT;
            } else if (t == long.class || t == Long.class) {
                kind = Kind.LONG;
            } else if (t == boolean.class || t == Boolean.class) {
                kind = Kind.BOOLEAN;
            } else if (t == List.class) {
                java.lang.reflect.Type element = ((java.lang.reflect.ParameterizedType) c.getGenericType()).getActualTypeArguments()[0];
                kind = element == RelayServer.class ? Kind.RELAYS
                        : element == Message.LinkReport.Link.class ? Kind.LINKS : Kind.CANDIDATES;
            } else if (t == Map.class) {
                kind = Kind.CLAIMS;
            } else {
                throw new IllegalStateException("no JSON kind for " + record.getSimpleName() + "." + c.getName());
            }
            Kind before = kinds.putIfAbsent(c.getName(), kind);
            if (before != null && before != kind) {
                throw new IllegalStateException("field '" + c.getName() + "' has two JSON kinds: " + before + ", " + kind);
            }
            if (t.isPrimitive()) {
                required.add(c.getName());
            }
        }
        return required;
    }

    /** JSON-B annotations on a record component land on its field (their targets do not include record components); an adapted field is a string. */
    private static boolean adapted(Class<?> record, RecordComponent c) {
        try {
            java.lang.reflect.Field f = record.getDeclaredField(c.getName());
            return f.isAnnotationPresent(JsonbTypeAdapter.class) || f.isAnnotationPresent(JsonbTypeDeserializer.class);
        } catch (NoSuchFieldException e) {
            throw new IllegalStateException(e);
        }
    }

    private final JsonParserFactory parsers = Json.createParserFactory(Map.of());
    private final Jsonb jsonb = JsonbBuilder.create(new JsonbConfig()
            .withNullValues(false)
            .withBinaryDataStrategy(BinaryDataStrategy.BASE_64)
            .withAdapters(new Adapters.DeviceIds(), new Adapters.Candidates()));

    /**
     * @param message the message
     * @return its JSON text, {@code type} first
     */
    public String encode(Message message) {
        // The messages of every admission and keepalive (challenge, welcome, ping, pong) are written
        // here directly, byte for byte what JSON-B writes for them (RendezvousCodecTest compares the
        // two): a freshly started server admitting thousands of devices at once otherwise spends much
        // of its CPU in JSON-B code that is not compiled yet. Anything else goes through JSON-B.
        if (message instanceof Message.Ping ping) {
            return "{\"type\":\"ping\",\"t\":" + ping.t() + "}";
        }
        if (message instanceof Message.Pong pong) {
            return "{\"type\":\"pong\",\"t\":" + pong.t() + "}";
        }
        if (message instanceof Message.Challenge c) {
            return "{\"type\":\"challenge\",\"nonce\":\"" + BASE64.encodeToString(c.nonce()) + "\",\"serverTime\":" + c.serverTime() + "}";
        }
        if (message instanceof Message.Welcome w && plain(w.sessionId()) && plain(w.network())) {
            StringBuilder b = new StringBuilder(w.ticket() == null ? 96 : 160 + w.ticket().length())
                    .append("{\"type\":\"welcome\",\"sessionId\":\"").append(w.sessionId())
                    .append("\",\"network\":\"").append(w.network())
                    .append("\",\"keepaliveSeconds\":").append(w.keepaliveSeconds());
            if (w.ticket() != null) {
                b.append(",\"ticket\":\"").append(w.ticket()).append('"'); // base64url, checked by the record
            }
            if (w.resumptionSecret() != null) {
                b.append(",\"resumptionSecret\":\"").append(BASE64.encodeToString(w.resumptionSecret())).append('"');
            }
            return b.append('}').toString();
        }
        return encodeBound(message);
    }

    /** @return the message as JSON-B writes it (the general path of {@link #encode}; tests compare the two) */
    String encodeBound(Message message) {
        // The runtime type, not Message.class: Yasson writes the type key for the concrete subtype (with the interface it writes {}).
        return jsonb.toJson(message);
    }

    private static final java.util.Base64.Encoder BASE64 = java.util.Base64.getEncoder();

    /** @return true if JSON writes {@code s} as it is between quotes: printable ASCII, no quote, backslash or slash-like escapes */
    private static boolean plain(String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x20 || c > 0x7E || c == '"' || c == '\\' || c == '/' || c == '<' || c == '>' || c == '&' || c == '\'') {
                return false;
            }
        }
        return true;
    }

    /**
     * @param text one WebSocket text message
     * @return the validated message
     * @throws ProtocolException with the code to answer: TOO_LARGE, MALFORMED, UNKNOWN_TYPE or INVALID_FIELD
     */
    public Message decode(String text) throws ProtocolException {
        if (text == null || text.isEmpty()) {
            throw new ProtocolException(ErrorCode.MALFORMED, "empty message");
        }
        // UTF-8 needs at most 3 bytes per UTF-16 char, so only long texts need encoding to be measured.
        if (text.length() > MAX_MESSAGE_BYTES
                || (text.length() > MAX_MESSAGE_BYTES / 3 && text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES)) {
            throw new ProtocolException(ErrorCode.TOO_LARGE, "message exceeds " + MAX_MESSAGE_BYTES + " bytes");
        }
        Message simple = pingOrPong(text);
        if (simple != null) {
            return simple;
        }
        Class<?> type = checkShape(text);
        try {
            Message m = jsonb.fromJson(text, Message.class);
            if (m == null || m.getClass() != type) {
                throw new ProtocolException(ErrorCode.MALFORMED, "not a valid message object");
            }
            return m;
        } catch (RuntimeException e) {
            for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
                if (c instanceof FieldException f) {
                    throw new ProtocolException(ErrorCode.INVALID_FIELD, f.getMessage());
                }
            }
            // The shape was checked, so what remains is a value JSON-B could not convert (base64, enum constant).
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "a field has an invalid value: " + firstLine(e));
        }
    }

    /**
     * The keepalive messages in exactly the form {@link #encode} writes them, {@code {"type":"pong","t":N}}
     * with N a non-negative integer of at most 18 digits, without leading zeros: what the general
     * path would decode them to, without its two passes. Anything else, even the same message
     * spaced or ordered differently, is left to the general path (and its precise errors).
     *
     * @return the ping or pong, or null if {@code text} is not in that form
     */
    static Message pingOrPong(String text) {
        boolean ping = text.startsWith("{\"type\":\"ping\",\"t\":");
        if (!ping && !text.startsWith("{\"type\":\"pong\",\"t\":")) {
            return null;
        }
        int start = 19; // both prefixes are 19 characters
        int end = text.length() - 1;
        int digits = end - start;
        if (digits < 1 || digits > 18 || text.charAt(end) != '}' || (digits > 1 && text.charAt(start) == '0')) {
            return null;
        }
        long t = 0;
        for (int i = start; i < end; i++) {
            char c = text.charAt(i);
            if (c < '0' || c > '9') {
                return null;
            }
            t = t * 10 + (c - '0');
        }
        return ping ? new Message.Ping(t) : new Message.Pong(t);
    }

    /** The streaming pass: returns the record class of the message's {@code type}. */
    private Class<?> checkShape(String text) throws ProtocolException {
        try (JsonParser p = parsers.createParser(new StringReader(text))) {
            if (!p.hasNext() || p.next() != JsonParser.Event.START_OBJECT) {
                throw new ProtocolException(ErrorCode.MALFORMED, "a message must be a JSON object");
            }
            Set<String> present = new HashSet<>();
            String typeName = null;
            JsonParser.Event e;
            while ((e = p.next()) != JsonParser.Event.END_OBJECT) {
                String key = p.getString();
                if (!present.add(key)) {
                    throw new ProtocolException(ErrorCode.MALFORMED, "duplicate key '" + clip(key) + "'");
                }
                JsonParser.Event value = p.next();
                if (key.equals("type")) {
                    if (value != JsonParser.Event.VALUE_STRING) {
                        throw new ProtocolException(ErrorCode.MALFORMED, "field 'type' must be a string");
                    }
                    typeName = p.getString();
                    continue;
                }
                Kind kind = FIELDS.get(key);
                if (value == JsonParser.Event.VALUE_NULL) {
                    present.remove(key); // null is the same as absent
                } else if (kind == null) {
                    skip(p, value, 2); // unknown fields are ignored (forward compatibility), within the depth limit
                } else {
                    check(p, value, kind, key);
                }
            }
            if (p.hasNext()) { // Parsson throws on trailing tokens itself; this catches any other provider
                throw new ProtocolException(ErrorCode.MALFORMED, "data after the message object");
            }
            if (typeName == null) {
                throw new ProtocolException(ErrorCode.MALFORMED, "missing field 'type'");
            }
            Class<?> type = TYPES.get(typeName);
            if (type == null) {
                throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type '" + clip(typeName) + "'");
            }
            for (String field : REQUIRED.get(type)) {
                if (!present.contains(field)) {
                    throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' is missing");
                }
            }
            return type;
        } catch (JsonException | IllegalStateException | java.util.NoSuchElementException e) {
            // JsonParsingException (bad syntax, trailing data), JsonException (I/O), or events out of order.
            throw new ProtocolException(ErrorCode.MALFORMED, "not JSON: " + firstLine(e));
        }
    }

    private static void check(JsonParser p, JsonParser.Event value, Kind kind, String field) throws ProtocolException {
        switch (kind) {
            case STRING -> expect(value, JsonParser.Event.VALUE_STRING, field, "a string");
            case BOOLEAN -> {
                if (value != JsonParser.Event.VALUE_TRUE && value != JsonParser.Event.VALUE_FALSE) {
                    throw wrongType(field, "true or false");
                }
            }
            case INT -> integer(p, value, field, Integer.MIN_VALUE, Integer.MAX_VALUE);
            case LONG -> integer(p, value, field, Long.MIN_VALUE, Long.MAX_VALUE);
            case CLAIMS -> {
                expect(value, JsonParser.Event.START_OBJECT, field, "an object");
                Set<String> keys = new HashSet<>();
                JsonParser.Event e;
                while ((e = p.next()) != JsonParser.Event.END_OBJECT) {
                    String key = p.getString();
                    if (!keys.add(key)) {
                        throw new ProtocolException(ErrorCode.MALFORMED, "duplicate key '" + clip(key) + "' in '" + field + "'");
                    }
                    expect(p.next(), JsonParser.Event.VALUE_STRING, field + "." + clip(key), "a string");
                }
            }
            case CANDIDATES -> objects(p, value, field, MAX_CANDIDATES, CANDIDATE_FIELDS);
            case RELAYS -> objects(p, value, field, MAX_RELAYS, RELAY_FIELDS);
            case LINKS -> objects(p, value, field, MAX_LINKS, LINK_FIELDS);
            default -> throw new IllegalStateException(kind.name());
        }
    }

    /** An array of at most {@code max} objects whose known fields have the given kinds and must all be present. */
    private static void objects(JsonParser p, JsonParser.Event value, String field, int max, Map<String, Kind> fields)
            throws ProtocolException {
        expect(value, JsonParser.Event.START_ARRAY, field, "an array");
        int i = 0;
        JsonParser.Event e;
        while ((e = p.next()) != JsonParser.Event.END_ARRAY) {
            String name = field + "[" + i++ + "]";
            if (i > max) {
                throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' has more than " + max + " entries");
            }
            expect(e, JsonParser.Event.START_OBJECT, name, "an object");
            Set<String> keys = new HashSet<>();
            while ((e = p.next()) != JsonParser.Event.END_OBJECT) {
                String key = p.getString();
                if (!keys.add(key)) {
                    throw new ProtocolException(ErrorCode.MALFORMED, "duplicate key '" + clip(key) + "' in '" + name + "'");
                }
                JsonParser.Event v = p.next();
                Kind k = fields.get(key);
                if (v == JsonParser.Event.VALUE_NULL) {
                    keys.remove(key);
                } else if (k == null) {
                    skip(p, v, 4);
                } else {
                    check(p, v, k, name + "." + key);
                }
            }
            for (String required : fields.keySet()) {
                if (!keys.contains(required)) {
                    throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + name + "." + required + "' is missing");
                }
            }
        }
    }

    /** A JSON integer literal of at most 20 digits (anything longer is out of every range checked). */
    private static final java.util.regex.Pattern INTEGER_LITERAL = java.util.regex.Pattern.compile("-?(0|[1-9][0-9]{0,19})");

    private static void integer(JsonParser p, JsonParser.Event value, String field, long min, long max) throws ProtocolException {
        expect(value, JsonParser.Event.VALUE_NUMBER, field, "a number");
        // Only plain integer literals: no fraction, no exponent (1e400000000 would otherwise be
        // expanded). Checked on the literal before any number is made of it: the parser's own
        // isIntegralNumber() builds a BigDecimal, which throws NumberFormatException for an
        // exponent beyond int (found by ProtocolFuzzTest#rendezvousJson).
        if (!INTEGER_LITERAL.matcher(p.getString()).matches()) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' must be an integer without fraction or exponent");
        }
        if (!p.isIntegralNumber()) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' must be an integer without fraction or exponent");
        }
        BigDecimal v = p.getBigDecimal();
        if (v.precision() > 19 || v.compareTo(BigDecimal.valueOf(min)) < 0 || v.compareTo(BigDecimal.valueOf(max)) > 0) {
            throw new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' must be " + min + ".." + max
                    + ", got " + clip(v.toPlainString()));
        }
    }

    private static void expect(JsonParser.Event actual, JsonParser.Event expected, String field, String what) throws ProtocolException {
        if (actual != expected) {
            throw wrongType(field, what);
        }
    }

    private static ProtocolException wrongType(String field, String what) {
        return new ProtocolException(ErrorCode.MALFORMED, "field '" + field + "' must be " + what);
    }

    /** Skips a value whose opening event was {@code first}, found at nesting {@code depth}. */
    private static void skip(JsonParser p, JsonParser.Event first, int depth) throws ProtocolException {
        if (first != JsonParser.Event.START_OBJECT && first != JsonParser.Event.START_ARRAY) {
            return;
        }
        int level = depth;
        while (level >= depth) {
            if (level > MAX_DEPTH) {
                throw new ProtocolException(ErrorCode.MALFORMED, "nested deeper than " + MAX_DEPTH + " levels");
            }
            JsonParser.Event e = p.next();
            if (e == JsonParser.Event.START_OBJECT || e == JsonParser.Event.START_ARRAY) {
                level++;
            } else if (e == JsonParser.Event.END_OBJECT || e == JsonParser.Event.END_ARRAY) {
                level--;
            }
        }
    }

    static String clip(String s) {
        return s == null ? "null" : s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static String firstLine(Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String s = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        int nl = s.indexOf('\n');
        return clip(nl < 0 ? s : s.substring(0, nl));
    }

    /** @return the {@code type} names this codec knows, in protocol order */
    public static Set<String> types() {
        return TYPES.keySet();
    }

    @Override
    public void close() {
        try {
            jsonb.close();
        } catch (Exception e) {
            // Yasson's close releases caches only; nothing to report.
        }
    }
}
