package io.peerlink;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * A link to one peer device: one session (packet numbers, streams, congestion state) over a set
 * of paths. The session lives above the paths, so the active path can change (another transport,
 * NAT rebinding, relay to direct) without losing, duplicating or reordering a message; a change
 * is announced with {@link LinkEvent.PathChanged}. A path carries data only after the peer has
 * answered a PATH_CHALLENGE on it (docs/protocol-channel.md, "Path validation"). Obtained from
 * {@link Device#connect(DeviceId)}, {@link Device#connect(Endpoint)} or an
 * {@link IncomingRequest}.
 */
public interface PeerLink {

    /**
     * @return the peer's device ID, derived from the key that signed its side of the secure
     *         handshake (never a claim; docs/security.md, "Data path")
     */
    DeviceId peer();

    /** @return the reliable channel carried by this link */
    ReliableChannel channel();

    /** @return the path datagrams use right now (state {@link PathState#ACTIVE}); changes over time */
    PathInfo path();

    /** @return every path the link knows, the active one first */
    List<PathInfo> paths();

    /**
     * Adds a path from one of this device's transports to a remote endpoint of the peer and
     * validates it with PATH_CHALLENGE/RESPONSE (retried with backoff). The link keeps its
     * current path.
     *
     * @param local the local endpoint of one of this device's transports
     *        ({@link Device#localEndpoints()})
     * @param remote the peer's endpoint to reach
     * @return completes with the validated path; fails with {@link UnreachableException} if the
     *         peer does not answer, or {@link ChannelClosedException} if the link closes
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if no transport of this device is bound to {@code local}
     *         or it cannot reach {@code remote}
     */
    CompletionStage<PathInfo> addPath(Endpoint local, Endpoint remote);

    /**
     * Moves the link to a path: validates it first if it is not validated yet, then sends
     * everything on it. The peer follows once its own validation of the path succeeds.
     *
     * @param local the local endpoint of one of this device's transports
     * @param remote the peer's endpoint to reach
     * @return completes with the path once active; fails as {@link #addPath}
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException as {@link #addPath}
     */
    CompletionStage<PathInfo> switchPath(Endpoint local, Endpoint remote);

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
