package io.peerlink;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * A link to one peer device: a {@link ReliableChannel} whose sequence space and security session
 * live above the path, so the path can change (relay → direct, NAT rebinding, new IP address)
 * without losing or duplicating a message. Obtained from {@link Device#connect(DeviceId)},
 * {@link Device#connect(Endpoint)} or an {@link IncomingRequest}.
 */
public interface PeerLink {

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
     * Closes the link gracefully, without blocking: new sends are refused, everything already
     * accepted by {@link ReliableChannel#send} is delivered and acknowledged, then the peer is told.
     * Same as {@code channel().close()}. May be called from any thread, including inside a
     * callback of this link. Idempotent.
     *
     * <p>Maximum time: {@link ChannelOptions#closeTimeout()} (default 10 s). If the peer has not
     * acknowledged everything by then, the link is aborted: the stage completes with
     * {@link CloseReason#ABORTED} ("graceful close did not finish within ...") and every send
     * still pending fails with {@link ChannelClosedException}, so no accepted message is dropped
     * silently.
     *
     * @return completes, on the device's callback executor, with how the link closed:
     *         {@link CloseReason#NORMAL} if everything was delivered
     */
    CompletionStage<CloseReason> close();

    /**
     * Closes the link at once: tells the peer, fails every pending send with
     * {@link ChannelClosedException} (reason {@link CloseReason#ABORTED}), discards buffered data.
     * Never blocks. Idempotent.
     */
    void abort();
}
