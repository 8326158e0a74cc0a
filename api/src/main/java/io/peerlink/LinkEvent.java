package io.peerlink;

/** Something that happened to a {@link PeerLink}. */
public sealed interface LinkEvent {

    /**
     * The link moved to another path.
     *
     * @param from the old path
     * @param to the new path
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
