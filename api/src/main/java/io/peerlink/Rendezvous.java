package io.peerlink;

import java.net.URI;
import java.util.concurrent.CompletionStage;

/**
 * A device's control connection to a rendezvous server: it authenticates the device, publishes
 * its candidates, keeps it present, and introduces it to peers. The connection reconnects with
 * backoff by itself; {@link #state()} says where it is. After an introduction the server is out
 * of the data path.
 */
public interface Rendezvous {

    /** Connection state of the control connection. */
    enum State {
        /** Connecting or authenticating. */
        CONNECTING,
        /** Authenticated and registered; peers can reach this device. */
        REGISTERED,
        /** Lost; reconnecting after a backoff. */
        RECONNECTING,
        /** Closed by {@link Device#close()}. */
        CLOSED
    }

    /** @return the server's control URI, e.g. {@code ws://192.0.2.1:8080/peerlink/v1} */
    URI server();

    /** @return the current state */
    State state();

    /**
     * Adds a listener of state changes: called with each new {@link State} as it is entered, in
     * order, on the device's callback executor (never the event loop), one call at a time per
     * device. A listener added late does not get the current state: read {@link #state()}.
     *
     * @param listener the listener
     * @throws NullPointerException if listener is null
     */
    void onStateChange(java.util.function.Consumer<State> listener);

    /**
     * @return completes when the device is registered (at once if it is); fails with
     *         {@link PeerLinkException} if admission is refused, the device closes, or a
     *         connection attempt before the first registration fails (the message names the
     *         cause, e.g. connection refused or a server key that does not match the pin)
     */
    CompletionStage<Void> registered();

    /**
     * Asks whether a peer is online, without connecting.
     *
     * @param peer the peer
     * @return completes with true if the peer has a live control connection and this device may
     *         reach it
     * @throws NullPointerException if peer is null
     */
    CompletionStage<Boolean> isOnline(DeviceId peer);
}
