package io.peerlink.core.internal.rendezvous.protocol;

import io.peerlink.Candidate;
import io.peerlink.CandidateType;
import io.peerlink.DeviceId;
import io.peerlink.Endpoint;
import io.peerlink.UnreachableException;
import io.peerlink.core.internal.rendezvous.Introduction;
import jakarta.json.bind.Jsonb;
import jakarta.json.bind.JsonbBuilder;
import jakarta.json.bind.JsonbConfig;
import jakarta.json.bind.JsonbException;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * JSON (JSON-B/Yasson) encoding of rendezvous {@link Message}s with strict validation: size,
 * JSON shape, known {@code type}, and every field's presence, range and encoding. Decoding
 * never throws anything but {@link ProtocolException}. Thread-safe; share one instance.
 */
public final class RendezvousCodec implements AutoCloseable {
    /** Largest message, in UTF-8 bytes. */
    public static final int MAX_MESSAGE_BYTES = 64 * 1024;
    /** Most candidates in one list. */
    public static final int MAX_CANDIDATES = 32;
    /** Most claims in a hello. */
    public static final int MAX_CLAIMS = 16;
    /** Longest claim key. */
    public static final int MAX_CLAIM_KEY = 64;
    /** Longest claim value, reason or error text. */
    public static final int MAX_TEXT = 512;
    /** Largest request ID: the JSON safe-integer range, so any JSON implementation round-trips it. */
    public static final long MAX_REQUEST_ID = (1L << 53) - 1;

    private static final HexFormat HEX = HexFormat.of();
    private final Jsonb jsonb = JsonbBuilder.create(new JsonbConfig().withNullValues(false));

    /**
     * @param message the message
     * @return its JSON text
     */
    public String encode(Message message) {
        WireFrame f = new WireFrame();
        if (message instanceof Message.Challenge m) {
            f.type = "challenge";
            f.nonce = b64(m.nonce());
            f.serverTime = m.serverTime();
        } else if (message instanceof Message.Hello m) {
            f.type = "hello";
            f.v = m.v();
            f.deviceId = m.deviceId().value();
            f.publicKey = b64(m.publicKey());
            f.signature = b64(m.signature());
            f.claims = new LinkedHashMap<>(m.claims());
            f.candidates = wire(m.candidates());
        } else if (message instanceof Message.Welcome m) {
            f.type = "welcome";
            f.sessionId = m.sessionId();
            f.network = m.network();
            f.keepaliveSeconds = m.keepaliveSeconds();
        } else if (message instanceof Message.Error m) {
            f.type = "error";
            f.code = m.code().name();
            f.message = m.message();
            f.requestId = m.requestId();
        } else if (message instanceof Message.Candidates m) {
            f.type = "candidates";
            f.candidates = wire(m.candidates());
        } else if (message instanceof Message.Connect m) {
            f.type = "connect";
            f.requestId = m.requestId();
            f.to = m.to().value();
        } else if (message instanceof Message.Unreachable m) {
            f.type = "unreachable";
            f.requestId = m.requestId();
            f.to = m.to().value();
            f.reason = m.reason().name();
            f.message = m.detail();
        } else if (message instanceof Message.Incoming m) {
            f.type = "incoming";
            f.requestId = m.requestId();
            f.from = m.from().value();
        } else if (message instanceof Message.Accept m) {
            f.type = "accept";
            f.requestId = m.requestId();
        } else if (message instanceof Message.Reject m) {
            f.type = "reject";
            f.requestId = m.requestId();
            f.reason = m.reason();
        } else if (message instanceof Message.Introduce m) {
            f.type = "introduce";
            f.requestId = m.requestId();
            f.peer = m.peer().value();
            f.peerCandidates = wire(m.peerCandidates());
            f.sessionToken = m.sessionToken();
            f.localConnectionId = HEX.toHexDigits(m.localConnectionId());
            f.remoteConnectionId = HEX.toHexDigits(m.remoteConnectionId());
            f.role = m.role().name();
            f.startInMillis = m.startInMillis();
        } else if (message instanceof Message.Ping m) {
            f.type = "ping";
            f.t = m.t();
        } else if (message instanceof Message.Pong m) {
            f.type = "pong";
            f.t = m.t();
        } else if (message instanceof Message.Presence m) {
            f.type = "presence";
            f.requestId = m.requestId();
            f.of = m.of().value();
        } else if (message instanceof Message.PresenceResult m) {
            f.type = "presenceResult";
            f.requestId = m.requestId();
            f.of = m.of().value();
            f.online = m.online();
        } else {
            throw new IllegalArgumentException("unknown message class " + message.getClass());
        }
        return jsonb.toJson(f);
    }

    /**
     * @param text one WebSocket text message
     * @return the validated message
     * @throws ProtocolException with the code to answer: TOO_LARGE, MALFORMED, UNKNOWN_TYPE or INVALID_FIELD
     */
    public Message decode(String text) throws ProtocolException {
        if (text == null) {
            throw new ProtocolException(ErrorCode.MALFORMED, "empty message");
        }
        if (text.length() > MAX_MESSAGE_BYTES
                || (text.length() > MAX_MESSAGE_BYTES / 4 && text.getBytes(StandardCharsets.UTF_8).length > MAX_MESSAGE_BYTES)) {
            throw new ProtocolException(ErrorCode.TOO_LARGE, "message exceeds " + MAX_MESSAGE_BYTES + " bytes");
        }
        String trimmed = text.strip();
        if (!trimmed.startsWith("{")) {
            throw new ProtocolException(ErrorCode.MALFORMED, "a message must be a JSON object");
        }
        WireFrame f;
        try {
            f = jsonb.fromJson(trimmed, WireFrame.class);
        } catch (JsonbException | ClassCastException | IllegalArgumentException | IllegalStateException e) {
            throw new ProtocolException(ErrorCode.MALFORMED, "not a valid message object: " + firstLine(e.getMessage()));
        }
        if (f == null || f.type == null) {
            throw new ProtocolException(ErrorCode.MALFORMED, "missing field 'type'");
        }
        switch (f.type) {
            case "challenge":
                return new Message.Challenge(bytes(f.nonce, "nonce", Handshake.NONCE_LENGTH), require(f.serverTime, "serverTime"));
            case "hello":
                return new Message.Hello(require(f.v, "v"), id(f.deviceId, "deviceId"), bytes(f.publicKey, "publicKey", 32),
                        bytes(f.signature, "signature", 64), claims(f.claims), candidates(f.candidates, "candidates"));
            case "welcome":
                return new Message.Welcome(text(f.sessionId, "sessionId"), text(f.network, "network"),
                        range(require(f.keepaliveSeconds, "keepaliveSeconds"), 1, 3600, "keepaliveSeconds"));
            case "error":
                return new Message.Error(enumValue(ErrorCode.class, f.code, "code"), text(f.message, "message"),
                        f.requestId == null ? null : requestId(f.requestId));
            case "candidates":
                return new Message.Candidates(candidates(f.candidates, "candidates"));
            case "connect":
                return new Message.Connect(requestId(f.requestId), id(f.to, "to"));
            case "unreachable":
                return new Message.Unreachable(requestId(f.requestId), id(f.to, "to"),
                        enumValue(UnreachableException.Reason.class, f.reason, "reason"), f.message == null ? "" : text(f.message, "message"));
            case "incoming":
                return new Message.Incoming(requestId(f.requestId), id(f.from, "from"));
            case "accept":
                return new Message.Accept(requestId(f.requestId));
            case "reject":
                return new Message.Reject(requestId(f.requestId), f.reason == null ? "" : text(f.reason, "reason"));
            case "introduce":
                return new Message.Introduce(requestId(f.requestId), id(f.peer, "peer"), candidates(f.peerCandidates, "peerCandidates"),
                        token(f.sessionToken), connectionId(f.localConnectionId, "localConnectionId"),
                        connectionId(f.remoteConnectionId, "remoteConnectionId"),
                        enumValue(Introduction.Role.class, f.role, "role"),
                        range(require(f.startInMillis, "startInMillis"), 0, 60_000, "startInMillis"));
            case "ping":
                return new Message.Ping(require(f.t, "t"));
            case "pong":
                return new Message.Pong(require(f.t, "t"));
            case "presence":
                return new Message.Presence(requestId(f.requestId), id(f.of, "of"));
            case "presenceResult":
                return new Message.PresenceResult(requestId(f.requestId), id(f.of, "of"), require(f.online, "online"));
            default:
                throw new ProtocolException(ErrorCode.UNKNOWN_TYPE, "unknown message type '" + clip(f.type) + "'");
        }
    }

    private static List<WireFrame.WireCandidate> wire(List<Candidate> candidates) {
        List<WireFrame.WireCandidate> out = new ArrayList<>(candidates.size());
        for (Candidate c : candidates) {
            WireFrame.WireCandidate w = new WireFrame.WireCandidate();
            w.type = c.type().name();
            w.endpoint = c.endpoint().toString();
            w.priority = c.priority();
            out.add(w);
        }
        return out;
    }

    private static List<Candidate> candidates(List<WireFrame.WireCandidate> wire, String field) throws ProtocolException {
        if (wire == null) {
            return List.of();
        }
        if (wire.size() > MAX_CANDIDATES) {
            throw invalid(field, "has " + wire.size() + " entries, at most " + MAX_CANDIDATES + " allowed");
        }
        List<Candidate> out = new ArrayList<>(wire.size());
        for (int i = 0; i < wire.size(); i++) {
            WireFrame.WireCandidate w = wire.get(i);
            String name = field + "[" + i + "]";
            if (w == null) {
                throw invalid(name, "is null");
            }
            CandidateType type = enumValue(CandidateType.class, w.type, name + ".type");
            String endpointText = text(w.endpoint, name + ".endpoint");
            long priority = require(w.priority, name + ".priority");
            try {
                out.add(new Candidate(Endpoint.parse(endpointText), type, priority));
            } catch (IllegalArgumentException e) {
                throw invalid(name, e.getMessage());
            }
        }
        return out;
    }

    private static Map<String, String> claims(Map<String, String> claims) throws ProtocolException {
        if (claims == null) {
            return Map.of();
        }
        if (claims.size() > MAX_CLAIMS) {
            throw invalid("claims", "has " + claims.size() + " entries, at most " + MAX_CLAIMS + " allowed");
        }
        for (Map.Entry<String, String> e : claims.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().length() > MAX_CLAIM_KEY) {
                throw invalid("claims", "keys must be 1.." + MAX_CLAIM_KEY + " characters");
            }
            if (e.getValue() == null || e.getValue().length() > MAX_TEXT) {
                throw invalid("claims." + clip(e.getKey()), "must be a string of at most " + MAX_TEXT + " characters");
            }
        }
        return claims;
    }

    private static <T> T require(T value, String field) throws ProtocolException {
        if (value == null) {
            throw invalid(field, "is missing");
        }
        return value;
    }

    private static String text(String value, String field) throws ProtocolException {
        require(value, field);
        if (value.length() > MAX_TEXT) {
            throw invalid(field, "is longer than " + MAX_TEXT + " characters");
        }
        return value;
    }

    private static int range(int value, int min, int max, String field) throws ProtocolException {
        if (value < min || value > max) {
            throw invalid(field, "must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    private static long range(long value, long min, long max, String field) throws ProtocolException {
        if (value < min || value > max) {
            throw invalid(field, "must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    private static long requestId(Long value) throws ProtocolException {
        return range(require(value, "requestId"), 0, MAX_REQUEST_ID, "requestId");
    }

    private static DeviceId id(String value, String field) throws ProtocolException {
        require(value, field);
        try {
            return new DeviceId(value);
        } catch (IllegalArgumentException e) {
            throw invalid(field, e.getMessage());
        }
    }

    private static byte[] bytes(String value, String field, int length) throws ProtocolException {
        require(value, field);
        byte[] out;
        try {
            out = Base64.getDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw invalid(field, "is not base64");
        }
        if (out.length != length) {
            throw invalid(field, "must decode to " + length + " bytes, got " + out.length);
        }
        return out;
    }

    private static String token(String value) throws ProtocolException {
        require(value, "sessionToken");
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw invalid("sessionToken", "is not base64url");
        }
        if (raw.length != 16) {
            throw invalid("sessionToken", "must be 128 bits, got " + raw.length * 8);
        }
        return value;
    }

    private static long connectionId(String value, String field) throws ProtocolException {
        require(value, field);
        if (value.length() != 16) {
            throw invalid(field, "must be 16 hex digits");
        }
        try {
            return HexFormat.fromHexDigitsToLong(value);
        } catch (IllegalArgumentException e) {
            throw invalid(field, "must be 16 hex digits");
        }
    }

    private static <E extends Enum<E>> E enumValue(Class<E> type, String value, String field) throws ProtocolException {
        require(value, field);
        try {
            return Enum.valueOf(type, value);
        } catch (IllegalArgumentException e) {
            throw invalid(field, "unknown value '" + clip(value) + "'");
        }
    }

    private static ProtocolException invalid(String field, String what) {
        return new ProtocolException(ErrorCode.INVALID_FIELD, "field '" + field + "' " + what);
    }

    private static String b64(byte[] bytes) {
        return Base64.getEncoder().encodeToString(bytes);
    }

    private static String clip(String s) {
        return s.length() <= 40 ? s : s.substring(0, 40) + "...";
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unparseable";
        }
        int nl = s.indexOf('\n');
        return clip(nl < 0 ? s : s.substring(0, nl));
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
