package io.peerlink.gateway.internal;

import io.socket.socketio.server.SocketIoSocket;

import org.json.JSONObject;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

/**
 * The arguments of one incoming Socket.IO event, validated. Gateways send one JSON object, an
 * optional binary attachment and (for every event except heartbeats without reply) an
 * acknowledgement callback. Anything else is refused with {@link ProtocolError} before any
 * state changes.
 */
record EventArgs(JSONObject body, Optional<byte[]> attachment,
                 Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ack) {

    static final int MAX_ID_LENGTH = 128;

    static EventArgs parse(String event, Object[] args, int maxJsonBytes, int maxAttachmentBytes) {
        SocketIoSocket.ReceivedByLocalAcknowledgementCallback ack = null;
        int n = args.length;
        if (n > 0 && args[n - 1] instanceof SocketIoSocket.ReceivedByLocalAcknowledgementCallback a) {
            ack = a;
            n--;
        }
        Optional<SocketIoSocket.ReceivedByLocalAcknowledgementCallback> ackOpt = Optional.ofNullable(ack);
        if (n < 1 || n > 2) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST,
                    event + ": expected a JSON object and an optional binary attachment, got " + n + " arguments", ackOpt);
        }
        if (!(args[0] instanceof JSONObject body)) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": first argument must be a JSON object, got "
                    + describe(args[0]), ackOpt);
        }
        int jsonBytes = body.toString().getBytes(StandardCharsets.UTF_8).length;
        if (jsonBytes > maxJsonBytes) {
            throw new ProtocolError(ProtocolError.PAYLOAD_TOO_LARGE, event + ": JSON argument has " + jsonBytes
                    + " bytes, limit " + maxJsonBytes, ackOpt);
        }
        byte[] attachment = null;
        if (n == 2) {
            if (!(args[1] instanceof byte[] b)) {
                throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": second argument must be binary, got "
                        + describe(args[1]), ackOpt);
            }
            if (b.length > maxAttachmentBytes) {
                throw new ProtocolError(ProtocolError.PAYLOAD_TOO_LARGE, event + ": attachment has " + b.length
                        + " bytes, limit " + maxAttachmentBytes, ackOpt);
            }
            attachment = b;
        }
        return new EventArgs(body, Optional.ofNullable(attachment), ackOpt);
    }

    /** A required string field that is a valid identifier: 1..128 chars of [A-Za-z0-9._:-]. */
    String id(String event, String field) {
        Object v = body.opt(field);
        if (!(v instanceof String s)) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": field '" + field + "' must be a string", ack);
        }
        if (s.isEmpty() || s.length() > MAX_ID_LENGTH || !s.chars().allMatch(EventArgs::idChar)) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": field '" + field
                    + "' must be 1-128 characters of A-Z a-z 0-9 . _ : -", ack);
        }
        return s;
    }

    String string(String event, String field, int maxLength) {
        Object v = body.opt(field);
        if (!(v instanceof String s) || s.isEmpty() || s.length() > maxLength) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": field '" + field
                    + "' must be a non-empty string of at most " + maxLength + " characters", ack);
        }
        return s;
    }

    JSONObject object(String event, String field, boolean required) {
        Object v = body.opt(field);
        if (v == null && !required) {
            return new JSONObject();
        }
        if (!(v instanceof JSONObject o)) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": field '" + field + "' must be a JSON object", ack);
        }
        return o;
    }

    long version(String event, String field) {
        Object v = body.opt(field);
        if (!(v instanceof Number num) || num.doubleValue() != Math.rint(num.doubleValue()) || num.longValue() < 0) {
            throw new ProtocolError(ProtocolError.BAD_REQUEST, event + ": field '" + field
                    + "' must be a non-negative integer", ack);
        }
        return num.longValue();
    }

    private static boolean idChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_'
                || c == ':' || c == '-';
    }

    private static String describe(Object o) {
        if (o == null || o == JSONObject.NULL) {
            return "null";
        }
        return o instanceof byte[] ? "binary" : o.getClass().getSimpleName();
    }
}
