package io.peerlink.cdi;

import io.peerlink.LinkEvent;
import io.peerlink.PeerLink;

import java.util.Objects;

/**
 * A {@link LinkEvent} together with the link it happened to, fired as a CDI event for every link
 * of the injected device. Observe {@link LinkEvent} instead when the link does not matter: both
 * are fired, this one first.
 *
 * @param link the link
 * @param event what happened
 */
public record PeerLinkEvent(PeerLink link, LinkEvent event) {
    /** @throws NullPointerException if an argument is null */
    public PeerLinkEvent {
        Objects.requireNonNull(link, "link");
        Objects.requireNonNull(event, "event");
    }
}
