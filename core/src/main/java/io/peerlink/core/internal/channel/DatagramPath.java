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

    /**
     * @return true if {@link #sendBatch} is cheaper than one {@link #send} per datagram (the
     *         transport declares {@code batchSend}): the channel then collects the packets of one
     *         flush and sends them together
     */
    default boolean batches() {
        return false;
    }

    /**
     * Sends {@code datagrams[0, count)} in order without blocking, each consumed before this returns.
     *
     * @param datagrams the datagrams, each between its position and limit
     * @param count how many
     * @return how many were handed on (the rest were dropped; the channel's ARQ recovers)
     */
    default int sendBatch(ByteBuffer[] datagrams, int count) {
        int sent = 0;
        for (int i = 0; i < count; i++) {
            if (send(datagrams[i])) {
                sent++;
            }
        }
        return sent;
    }
}
