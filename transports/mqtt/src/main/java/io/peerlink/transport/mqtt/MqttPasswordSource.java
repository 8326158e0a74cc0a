package io.peerlink.transport.mqtt;

/**
 * Supplies the CONNECT password anew for every connection attempt, for brokers that want a fresh
 * proof each time (e.g. a signed, time-limited login token); set with
 * {@link MqttOptions#PASSWORD_SOURCE}. Called on the thread that connects (the caller of
 * {@code start}, then the transport's reconnect thread); must not block for long.
 */
@FunctionalInterface
public interface MqttPasswordSource {

    /** @return the password for the next CONNECT; empty for none */
    String password();

    /** @return the default source, which stands for "use {@link MqttOptions#PASSWORD}" */
    static MqttPasswordSource fixed() {
        return FixedPassword.INSTANCE;
    }
}

/** Marker for {@link MqttPasswordSource#fixed()}. */
final class FixedPassword implements MqttPasswordSource {
    static final FixedPassword INSTANCE = new FixedPassword();

    private FixedPassword() {
    }

    @Override
    public String password() {
        throw new IllegalStateException("the fixed password comes from " + MqttOptions.PASSWORD.name());
    }
}
