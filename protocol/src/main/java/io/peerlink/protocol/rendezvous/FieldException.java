package io.peerlink.protocol.rendezvous;

import java.util.Objects;

/**
 * A message field is missing, out of range or badly encoded. Thrown by the message records'
 * constructors and the codec's adapters; {@link RendezvousCodec} turns it into an
 * {@link ErrorCode#INVALID_FIELD} answer that names the field.
 */
public final class FieldException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final String field;

    /**
     * @param field the JSON name of the field, e.g. {@code requestId} or {@code candidates[2].endpoint}
     * @param what what is wrong, e.g. {@code "is missing"}
     */
    public FieldException(String field, String what) {
        super("field '" + field + "' " + what);
        this.field = Objects.requireNonNull(field, "field");
    }

    /** @return the JSON name of the field */
    public String field() {
        return field;
    }
}
