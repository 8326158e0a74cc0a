package io.peerlink;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * A link to one peer device: a {@link ReliableChannel} whose sequence space and security session
 * live above the path, so the path can change (relay → direct, NAT rebinding, new IP address)
 * without losing or duplicating a message. Obtained from {@link Device#connect(DeviceId)},
 * {@link Device#connect(Endpoint)} or an {@link IncomingRequest}.
 */
public interface PeerLink extends AutoCloseable {

    /** @return the peer's device ID (authenticated once encryption is on) */
    DeviceId peer();

    /** @return the reliable channel carried by this link */
    ReliableChannel channel();

    /** @return the path datagrams use right now */
    PathInfo path();

    /**
     * Measures the round-trip time over the link with a PING frame.
     *
     * @return completes with the RTT; fails with {@link ChannelClosedException} if the link closes
     */
    CompletionStage<Duration> ping();

    /**
     * @param listener called for each {@link LinkEvent} on the device's callback executor, in
     *        order with the link's messages
     * @throws NullPointerException if listener is null
     */
    void addListener(LinkListener listener);

    /**
     * Closes the channel gracefully and waits at most the close timeout. Idempotent.
     *
     * @throws IllegalStateException if called on the device's event loop thread (only possible
     *         with a callback executor that runs tasks on the submitting thread)
     */
    @Override
    void close();
}
