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
public interface PeerLink extends AutoCloseable {

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
     * Closes the channel gracefully and waits at most the close timeout. Idempotent.
     *
     * @throws IllegalStateException if called on the device's event loop thread (only possible
     *         with a callback executor that runs tasks on the submitting thread)
     */
    @Override
    void close();
}
