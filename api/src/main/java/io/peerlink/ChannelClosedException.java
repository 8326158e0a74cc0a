package io.peerlink;

import java.util.Objects;

/**
 * An operation was attempted on, or interrupted by, a closed channel. Pending sends of a channel
 * that closes fail with this exception; {@link #reason()} says how the channel ended.
 */
public class ChannelClosedException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    private final transient CloseReason reason;

    /**
     * @param reason how the channel ended
     * @throws NullPointerException if {@code reason} is null
     */
    public ChannelClosedException(CloseReason reason) {
        super("channel closed: " + Objects.requireNonNull(reason, "reason"));
        this.reason = reason;
    }

    /** @return how the channel ended */
    public CloseReason reason() {
        return reason;
    }
}
