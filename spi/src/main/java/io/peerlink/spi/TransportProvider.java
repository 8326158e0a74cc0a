package io.peerlink.spi;

/**
 * Creates transports of one scheme; registered for {@link java.util.ServiceLoader} (in
 * {@code module-info.java} with {@code provides}, or in {@code META-INF/services}).
 */
public interface TransportProvider {

    /** @return the endpoint scheme this provider's transports serve, e.g. {@code udp} */
    String scheme();

    /**
     * @param config bind endpoint (of this provider's scheme) and options
     * @return a transport in state CREATED
     * @throws NullPointerException if config is null
     * @throws IllegalArgumentException if the bind endpoint has another scheme or an option is invalid
     */
    Transport create(TransportConfig config);
}
