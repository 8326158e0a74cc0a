package io.peerlink.protocol.rendezvous;

import io.peerlink.Candidate;

import java.util.Base64;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** Field validation shared by the message records; every failure is a {@link FieldException} naming the field. */
final class Check {
    private Check() {
    }

    static <T> T present(T value, String field) {
        if (value == null) {
            throw new FieldException(field, "is missing");
        }
        return value;
    }

    static String text(String value, String field) {
        present(value, field);
        if (value.length() > RendezvousCodec.MAX_TEXT) {
            throw new FieldException(field, "is longer than " + RendezvousCodec.MAX_TEXT + " characters");
        }
        return value;
    }

    static String optionalText(String value, String field) {
        return value == null ? "" : text(value, field);
    }

    static long range(long value, long min, long max, String field) {
        if (value < min || value > max) {
            throw new FieldException(field, "must be " + min + ".." + max + ", got " + value);
        }
        return value;
    }

    static long requestId(long value) {
        return range(value, 0, RendezvousCodec.MAX_REQUEST_ID, "requestId");
    }

    static byte[] length(byte[] value, int length, String field) {
        present(value, field);
        if (value.length != length) {
            throw new FieldException(field, "must decode to " + length + " bytes, got " + value.length);
        }
        return value;
    }

    static List<Candidate> candidates(List<Candidate> value, String field) {
        if (value == null) {
            return List.of();
        }
        if (value.size() > RendezvousCodec.MAX_CANDIDATES) {
            throw new FieldException(field, "has " + value.size() + " entries, at most " + RendezvousCodec.MAX_CANDIDATES + " allowed");
        }
        for (int i = 0; i < value.size(); i++) {
            present(value.get(i), field + "[" + i + "]");
        }
        return List.copyOf(value);
    }

    /** @return the list, or null if absent or empty (so an introduction without relays is encoded without the field) */
    static List<RelayServer> relays(List<RelayServer> value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.size() > RendezvousCodec.MAX_RELAYS) {
            throw new FieldException("relays", "has " + value.size() + " entries, at most " + RendezvousCodec.MAX_RELAYS + " allowed");
        }
        for (int i = 0; i < value.size(); i++) {
            present(value.get(i), "relays[" + i + "]");
        }
        return List.copyOf(value);
    }

    static Map<String, String> claims(Map<String, String> claims) {
        if (claims == null) {
            return Map.of();
        }
        if (claims.size() > RendezvousCodec.MAX_CLAIMS) {
            throw new FieldException("claims", "has " + claims.size() + " entries, at most " + RendezvousCodec.MAX_CLAIMS + " allowed");
        }
        for (Map.Entry<String, String> e : claims.entrySet()) {
            if (e.getKey() == null || e.getKey().isEmpty() || e.getKey().length() > RendezvousCodec.MAX_CLAIM_KEY) {
                throw new FieldException("claims", "keys must be 1.." + RendezvousCodec.MAX_CLAIM_KEY + " characters");
            }
            if (e.getValue() == null || e.getValue().length() > RendezvousCodec.MAX_TEXT) {
                throw new FieldException("claims." + RendezvousCodec.clip(e.getKey()),
                        "must be a string of at most " + RendezvousCodec.MAX_TEXT + " characters");
            }
        }
        // Sorted by key: the encoding is then canonical (Map.copyOf's iteration order depends on
        // the order the entries came in, so a decoded hello re-encoded differently; found by
        // ProtocolFuzzTest#rendezvousJson).
        return Collections.unmodifiableSortedMap(new TreeMap<>(claims));
    }

    static String sessionToken(String value) {
        present(value, "sessionToken");
        byte[] raw;
        try {
            raw = Base64.getUrlDecoder().decode(value);
        } catch (IllegalArgumentException e) {
            throw new FieldException("sessionToken", "is not base64url");
        }
        if (raw.length != 16) {
            throw new FieldException("sessionToken", "must be 128 bits, got " + raw.length * 8);
        }
        return value;
    }

    /** A ticket: 1..{@link RendezvousCodec#MAX_TICKET} characters of base64url without padding. */
    static String ticket(String value, String field) {
        present(value, field);
        if (value.isEmpty() || value.length() > RendezvousCodec.MAX_TICKET) {
            throw new FieldException(field, "must be 1.." + RendezvousCodec.MAX_TICKET + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (!(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_')) {
                throw new FieldException(field, "is not base64url without padding");
            }
        }
        return value;
    }
}
