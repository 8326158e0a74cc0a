package com.example.peerlink.tcpframed;

import java.nio.ByteBuffer;

/**
 * Splits a TCP byte stream into frames {@code length:int32 bytes}. One per connection, not
 * thread-safe. A read may end anywhere — inside a length prefix, inside a frame, after several
 * frames — so the decoder keeps what is left of a partial frame for the next read, and it checks
 * every length against the maximum before it waits for (or could allocate) that many bytes.
 */
final class FrameDecoder {

    /** Receives each whole frame; the buffer is valid only during the call. */
    @FunctionalInterface
    interface Sink {
        /** @param frame the frame's bytes between position and limit */
        void frame(ByteBuffer frame);
    }

    /** A length prefix outside 0..max: the peer does not speak this framing, or is hostile. */
    static final class FramingException extends java.io.IOException {
        private static final long serialVersionUID = 1L;

        FramingException(String message) {
            super(message);
        }
    }

    private final int max;
    private final ByteBuffer buffer;

    /** @param max the largest frame accepted, in bytes */
    FrameDecoder(int max) {
        this.max = max;
        this.buffer = ByteBuffer.allocate(4 + max); // one whole frame always fits after compact()
    }

    /** @return the buffer to read the stream into; always has room */
    ByteBuffer readBuffer() {
        return buffer;
    }

    /**
     * Hands every whole frame read so far to the sink and keeps a partial one.
     *
     * @param sink receives the frames, in order
     * @throws FramingException at the first length prefix outside 0..max (close the connection)
     */
    void decode(Sink sink) throws FramingException {
        buffer.flip();
        try {
            while (buffer.remaining() >= 4) {
                int length = buffer.getInt(buffer.position());
                if (length < 0 || length > max) {
                    throw new FramingException("frame length " + length + " outside 0.." + max);
                }
                if (buffer.remaining() < 4 + length) {
                    break; // partial frame: keep it and read on
                }
                int start = buffer.position() + 4;
                sink.frame(buffer.slice(start, length));
                buffer.position(start + length);
            }
        } finally {
            buffer.compact();
        }
    }
}
