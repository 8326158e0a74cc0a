package io.peerlink.core.internal.channel;

import java.nio.ByteBuffer;

/**
 * A datagram path under a channel; swappable at run time ({@link ChannelEngine#setPath}), and
 * probed without switching by {@link ChannelEngine#sendPathChallenge}. The channel calls it on its
 * loop thread only.
 */
public interface DatagramPath {
    /**
     * Sends one datagram without blocking.
     *
     * @param datagram the bytes between position and limit; consumed before this method returns
     * @return true if handed on, false if dropped (the channel's ARQ recovers)
     */
    boolean send(ByteBuffer datagram);

    /** @return largest datagram this path carries (the channel uses min(this, options.maxDatagramSize())) */
    int maxDatagramSize();

    /**
     * @return true if the transport under this path is reliable and congestion-controlled (a TCP
     *         relay): the channel then uses a {@link FixedWindowController} instead of NewReno
     */
    default boolean reliable() {
        return false;
    }
}
