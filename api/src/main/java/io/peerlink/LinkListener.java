package io.peerlink;

/** Receives {@link LinkEvent}s; called on the link's event thread and must not block. */
@FunctionalInterface
public interface LinkListener {
    /** @param event what happened */
    void onEvent(LinkEvent event);
}
