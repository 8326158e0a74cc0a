package io.peerlink;

/** Something that happened to a {@link PeerLink}. */
public sealed interface LinkEvent {

    /**
     * The link moved to another path: this device chose it ({@link PeerLink#switchPath}, a
     * failed path replaced, a relay upgraded to a direct path) or the peer moved to it and this
     * device validated it.
     *
     * @param from the old path, as it was when it was replaced
     * @param to the new path, now {@link PathState#ACTIVE}
     */
    record PathChanged(PathInfo from, PathInfo to) implements LinkEvent {
    }

    /**
     * The link closed.
     *
     * @param reason how
     */
    record Closed(CloseReason reason) implements LinkEvent {
    }
}
