package io.peerlink.bridge.internal;

/**
 * A CoRE Link Format document (RFC 6690) that does not parse: the message says what was
 * expected and {@link #offset()} where.
 */
public final class LinkFormatException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;
    private final int offset;

    LinkFormatException(String message, int offset) {
        super(message + " at offset " + offset);
        this.offset = offset;
    }

    /** @return the character offset in the document where parsing failed */
    public int offset() {
        return offset;
    }
}
