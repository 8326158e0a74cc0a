package io.peerlink.spi;

import java.util.List;

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

    /**
     * The options this provider's transports read, so that an application can set them by name
     * through the API ({@code Device.Builder.transport(bind, options)}), which cannot name SPI
     * types. The core looks each name up here (an unknown name is an error naming it and these
     * options) and converts a text value to the option's type: itself for {@code String},
     * {@code Integer}, {@code Long}, {@code Boolean}, {@code java.time.Duration} and enums, with
     * {@link #parseOption} for any other type. A value given as an instance of the option's type
     * is used as it is. Added after the first release, so the default declares none.
     *
     * @return the options, with unique names
     */
    default List<TransportConfig.Option<?>> options() {
        return List.of();
    }

    /**
     * Converts the text form of an option of a type the core does not convert itself (see
     * {@link #options()}). The default refuses: such an option can then only be set with a value
     * of its type.
     *
     * @param option one of {@link #options()}
     * @param text the value as text
     * @return a value of {@code option.type()}
     * @throws IllegalArgumentException if the text is not a valid value; the message says what is
     *         expected, the caller adds the option's name
     */
    default Object parseOption(TransportConfig.Option<?> option, String text) {
        throw new IllegalArgumentException("an option of type " + option.type().getName()
                + " has no text form here: pass a " + option.type().getSimpleName() + " instance");
    }
}
