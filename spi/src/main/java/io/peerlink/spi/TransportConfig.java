package io.peerlink.spi;

import io.peerlink.Endpoint;

import java.util.HashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Configuration handed to {@link TransportProvider#create}: a bind endpoint plus typed options.
 * Immutable.
 */
public final class TransportConfig {

    /**
     * A typed option key (Californium's {@code Definition<T>} style).
     *
     * @param name dotted name, e.g. {@code udp.receiveBufferSize}
     * @param type value type
     * @param defaultValue used when the option is not set
     * @param <T> value type
     */
    public record Option<T>(String name, Class<T> type, T defaultValue) {
        /**
         * @param name dotted name
         * @param type value type
         * @param defaultValue used when the option is not set
         * @throws NullPointerException if name, type or defaultValue is null
         */
        public Option {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(defaultValue, "defaultValue");
        }
    }

    private final Endpoint bind;
    private final Map<Option<?>, Object> values;

    private TransportConfig(Endpoint bind, Map<Option<?>, Object> values) {
        this.bind = bind;
        this.values = Map.copyOf(values);
    }

    /**
     * @param bind where to bind, e.g. {@code udp://0.0.0.0:0}
     * @return a builder
     * @throws NullPointerException if bind is null
     */
    public static Builder bind(Endpoint bind) {
        return new Builder(Objects.requireNonNull(bind, "bind"));
    }

    /** @return where to bind */
    public Endpoint bindEndpoint() {
        return bind;
    }

    /**
     * @param option the key
     * @param <T> value type
     * @return the value set, or the option's default
     */
    public <T> T get(Option<T> option) {
        Object v = values.get(option);
        return v == null ? option.defaultValue() : option.type().cast(v);
    }

    /** Builds a {@link TransportConfig}. */
    public static final class Builder {
        private final Endpoint bind;
        private final Map<Option<?>, Object> values = new HashMap<>();

        private Builder(Endpoint bind) {
            this.bind = bind;
        }

        /**
         * @param option the key
         * @param value the value
         * @param <T> value type
         * @return this
         * @throws NullPointerException if an argument is null
         */
        public <T> Builder set(Option<T> option, T value) {
            values.put(Objects.requireNonNull(option, "option"), option.type().cast(Objects.requireNonNull(value, "value")));
            return this;
        }

        /** @return the configuration */
        public TransportConfig build() {
            return new TransportConfig(bind, values);
        }
    }
}
