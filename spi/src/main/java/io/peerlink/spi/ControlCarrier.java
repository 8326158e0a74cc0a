package io.peerlink.spi;

import java.util.concurrent.CompletionStage;

/**
 * One control connection between a device and a rendezvous server over something other than the
 * rendezvous WebSocket (e.g. a pair of MQTT topics through a broker), made by a
 * {@link ControlCarrierProvider}. It carries the rendezvous protocol's JSON text messages unchanged
 * (docs/protocol-rendezvous.md), in order, each one whole.
 *
 * <p>Lifecycle: open (as handed out by the provider) -> closed, once, by {@link #close()} or by the
 * carrier ({@link Receiver#onClosed}); a closed carrier is not reopened: the device asks its
 * provider for a new one.
 */
public interface ControlCarrier {

    /**
     * Queues one message for the server; never blocks.
     *
     * @param text one JSON message
     * @return completes when the carrier handed the message on (for MQTT: the broker acknowledged
     *         it), exceptionally if it could not
     * @throws NullPointerException if text is null
     */
    CompletionStage<Void> send(String text);

    /** Tells the server (best effort) and releases the connection; idempotent; no callback follows. */
    void close();

    /** What a carrier delivers; called on one thread at a time, must return quickly. */
    interface Receiver {
        /** @param text one message from the server */
        void onText(String text);

        /** @param why the carrier closed by itself (the server closed the session, the connection broke) */
        void onClosed(String why);
    }
}
