package io.peerlink.core.internal.channel;

/**
 * A channel packet or frame is malformed: truncated, an unknown frame type, a varint or length
 * out of range, or a value that contradicts another field. Thrown only by the codec
 * ({@link FrameCodec}, {@link PacketCodec}); the engine turns it into a PROTOCOL_VIOLATION close.
 * It is checked so no decoder caller can forget it.
 */
public final class FrameFormatException extends Exception {
    private static final long serialVersionUID = 1L;

    /** @param message what is wrong and where */
    public FrameFormatException(String message) {
        // No stack trace: a hostile peer can make us build many of these, and the message says it all.
        super(message, null, false, false);
    }
}
