package io.peerlink.core.internal.device;

import io.peerlink.Endpoint;
import io.peerlink.spi.TransportConfig;
import io.peerlink.spi.TransportProvider;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Maps the options an application gives by name ({@code Device.Builder.transport(bind, options)},
 * which cannot name SPI types) onto the typed options a provider declares
 * ({@link TransportProvider#options()}). Text is converted to the option's type here for the
 * common types and by the provider for its own; an object of the option's type is used as it is.
 * Every failure is an {@link IllegalArgumentException} whose message names the option and says
 * what is expected.
 */
final class TransportOptionMapper {
    private static final Pattern DURATION = Pattern.compile("(\\d{1,12})\\s*(ms|s|m|h|d)");

    private TransportOptionMapper() {
    }

    /**
     * @param bind the bind endpoint
     * @param provider the provider that will create the transport
     * @param options option name to value (text or an object of the option's type)
     * @return the configuration
     * @throws IllegalArgumentException for an unknown option name or a value that does not convert
     */
    static TransportConfig config(Endpoint bind, TransportProvider provider, Map<String, ?> options) {
        TransportConfig.Builder config = TransportConfig.bind(bind);
        if (options.isEmpty()) {
            return config.build();
        }
        Map<String, TransportConfig.Option<?>> declared = new LinkedHashMap<>();
        for (TransportConfig.Option<?> option : provider.options()) {
            declared.put(option.name(), option);
        }
        for (Map.Entry<String, ?> e : options.entrySet()) {
            TransportConfig.Option<?> option = declared.get(e.getKey());
            if (option == null) {
                throw new IllegalArgumentException("unknown option '" + e.getKey() + "' for " + provider.getClass().getName()
                        + (declared.isEmpty() ? ", which declares no options"
                        : "; its options: " + String.join(", ", declared.keySet())));
            }
            set(config, option, convert(provider, option, e.getValue()));
        }
        return config.build();
    }

    private static <T> void set(TransportConfig.Builder config, TransportConfig.Option<T> option, Object value) {
        config.set(option, option.type().cast(value));
    }

    static Object convert(TransportProvider provider, TransportConfig.Option<?> option, Object value) {
        Class<?> type = option.type();
        if (type.isInstance(value)) {
            return value;
        }
        if (value instanceof Integer i && type == Long.class) {
            return i.longValue();
        }
        if (value instanceof Long l && type == Integer.class && l == l.intValue()) {
            return l.intValue();
        }
        if (!(value instanceof String text)) {
            throw new IllegalArgumentException("option " + option.name() + " takes a " + type.getSimpleName()
                    + " or its text form, not a " + value.getClass().getName());
        }
        try {
            Object converted = fromText(provider, option, text.strip());
            if (!type.isInstance(converted)) {
                throw new IllegalArgumentException(provider.getClass().getName() + ".parseOption returned a "
                        + (converted == null ? "null" : converted.getClass().getName()) + ", not a " + type.getName());
            }
            return converted;
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("option " + option.name() + ": bad value " + shown(option, text) + ": " + e.getMessage(), e);
        }
    }

    /** Secrets stay out of error messages (they end up in logs). */
    private static String shown(TransportConfig.Option<?> option, String text) {
        String name = option.name().toLowerCase(Locale.ROOT);
        return name.contains("password") || name.contains("secret") ? "(hidden, " + text.length() + " characters)" : "'" + text + "'";
    }

    private static Object fromText(TransportProvider provider, TransportConfig.Option<?> option, String text) {
        Class<?> type = option.type();
        if (type == String.class) {
            return text;
        }
        if (type == Integer.class) {
            try {
                return Integer.valueOf(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a decimal integer in " + Integer.MIN_VALUE + ".." + Integer.MAX_VALUE);
            }
        }
        if (type == Long.class) {
            try {
                return Long.valueOf(text);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("expected a decimal integer (long)");
            }
        }
        if (type == Boolean.class) {
            return switch (text.toLowerCase(Locale.ROOT)) {
                case "true" -> Boolean.TRUE;
                case "false" -> Boolean.FALSE;
                default -> throw new IllegalArgumentException("expected true or false");
            };
        }
        if (type == Duration.class) {
            return duration(text);
        }
        if (type.isEnum()) {
            for (Object constant : type.getEnumConstants()) {
                if (((Enum<?>) constant).name().equals(text)) {
                    return constant;
                }
            }
            throw new IllegalArgumentException("expected one of " + Arrays.stream(type.getEnumConstants())
                    .map(c -> ((Enum<?>) c).name()).collect(Collectors.joining(", ")));
        }
        return provider.parseOption(option, text);
    }

    private static Duration duration(String text) {
        Matcher m = DURATION.matcher(text);
        if (m.matches()) {
            long n = Long.parseLong(m.group(1));
            return switch (m.group(2)) {
                case "ms" -> Duration.ofMillis(n);
                case "s" -> Duration.ofSeconds(n);
                case "m" -> Duration.ofMinutes(n);
                case "h" -> Duration.ofHours(n);
                default -> Duration.ofDays(n);
            };
        }
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException("expected a duration such as 30s, 500ms, 2m, 1h, 1d or ISO-8601 PT30S");
        }
    }
}
