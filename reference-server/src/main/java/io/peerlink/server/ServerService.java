package io.peerlink.server;

/**
 * A listener the reference server runs beside its HTTP port (STUN and the resource directory on
 * UDP, the embedded MQTT broker on TCP, ...), contributed as a CDI bean. The server starts every
 * enabled service before Jetty, stops them in reverse order when it closes, and stops those already
 * started if one fails to start. States: created, then {@link #start()} once, then {@link #stop()}
 * (idempotent, also after a failed start). A third-party service is a bean class named in its jar's
 * {@code META-INF/services/io.peerlink.server.ServerService}.
 */
public interface ServerService {

    /** @return a short name for logs and errors, e.g. {@code stun} */
    String name();

    /** @return false to leave this service out (e.g. its port is -1); default true */
    default boolean enabled() {
        return true;
    }

    /**
     * Binds and starts serving.
     *
     * @throws IllegalStateException if it cannot start (port taken, file unreadable); the message says what to fix
     */
    void start();

    /** @return where it listens, for the startup log, e.g. {@code udp 0.0.0.0:3478} */
    String describe();

    /** Stops serving and releases its ports; idempotent. */
    void stop();
}
