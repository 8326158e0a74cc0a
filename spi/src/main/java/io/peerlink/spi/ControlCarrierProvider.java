package io.peerlink.spi;

import java.util.concurrent.CompletionStage;

/**
 * Opens rendezvous control connections of one URI scheme other than {@code ws}/{@code wss}, e.g.
 * {@code mqtt}: a device configured with {@code rendezvous(URI.create("mqtt://broker:1883"))}
 * registers through the broker. Registered for {@link java.util.ServiceLoader} like
 * {@link TransportProvider}.
 */
public interface ControlCarrierProvider {

    /** @return the control URI scheme this provider serves, e.g. {@code mqtt} */
    String scheme();

    /**
     * Opens one control connection.
     *
     * @param config the bind endpoint is {@code <scheme>://<host>:<port>/<device topic ID>}: the
     *        server's carrier address from the control URI and the device's ID; the options are
     *        those of the device's transport bound to the same host and port, if it has one
     *        (credentials, TLS), else none
     * @param receiver gets the server's messages and the carrier's end; not called before the
     *        returned stage has completed
     * @return completes with the open carrier, or exceptionally with the reason it could not open
     *         (a refused login names the broker's reason)
     * @throws NullPointerException if an argument is null
     * @throws IllegalArgumentException if the bind endpoint or an option is invalid
     */
    CompletionStage<ControlCarrier> open(TransportConfig config, ControlCarrier.Receiver receiver);
}
