package io.peerlink.spi;

import java.nio.file.Path;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * The configuration a host (the reference server, or any application) hands to a plug-in: the
 * values under the plug-in's own key prefix, e.g. {@code authenticator.hmac-file.} for an
 * {@link Authenticator} named {@code hmac-file}. A plug-in asks for its keys relative to that
 * prefix ({@code secrets}); the host decides where values come from (the reference server: command
 * line flag, then environment variable, then configuration file; see docs/spi-guide.md).
 * Immutable and thread-safe.
 *
 * <p>Every accessor that fails throws a {@link PluginConfigException} whose message names the full
 * key and says what to do, so the host can print it as one line and stop.
 *
 * <pre>{@code
 * public void configure(PluginConfig config) {
 *     Path secrets = config.requirePath("secrets");        // authenticator.hmac-file.secrets
 *     Duration window = config.duration("window", Duration.ofMinutes(2));
 * }
 * }</pre>
 */
public final class PluginConfig {
    private static final PluginConfig EMPTY = new PluginConfig("", key -> Optional.empty(), null);

    private final String prefix;
    private final Function<String, Optional<String>> lookup;
    private final Path baseDirectory;

    private PluginConfig(String prefix, Function<String, Optional<String>> lookup, Path baseDirectory) {
        this.prefix = prefix;
        this.lookup = lookup;
        this.baseDirectory = baseDirectory;
    }

    /**
     * @param prefix the plug-in's key prefix including its trailing dot, e.g. {@code authenticator.hmac-file.}
     * @param lookup full key to its value, empty when unset; called on every access, must be thread-safe
     * @param baseDirectory relative paths are resolved against it (the configuration file's directory), or null
     *        to resolve them against the working directory
     * @return the configuration
     * @throws NullPointerException if prefix or lookup is null
     */
    public static PluginConfig of(String prefix, Function<String, Optional<String>> lookup, Path baseDirectory) {
        return new PluginConfig(Objects.requireNonNull(prefix, "prefix"), Objects.requireNonNull(lookup, "lookup"),
                baseDirectory);
    }

    /**
     * @param prefix the plug-in's key prefix
     * @param values full key to value (copied)
     * @return a configuration backed by a fixed map, for tests and embedding
     * @throws NullPointerException if an argument is null
     */
    public static PluginConfig of(String prefix, java.util.Map<String, String> values) {
        java.util.Map<String, String> copy = java.util.Map.copyOf(values);
        return of(prefix, key -> Optional.ofNullable(copy.get(key)), null);
    }

    /** @return a configuration without any value (what a plug-in gets when nothing is configured) */
    public static PluginConfig empty() {
        return EMPTY;
    }

    /** @return the prefix every key is read under, e.g. {@code authenticator.hmac-file.} */
    public String prefix() {
        return prefix;
    }

    /**
     * @param key a key relative to the prefix, e.g. {@code secrets}
     * @return the full key, e.g. {@code authenticator.hmac-file.secrets}; what error messages name
     */
    public String fullKey(String key) {
        return prefix + Objects.requireNonNull(key, "key");
    }

    /**
     * @param key a key relative to the prefix
     * @return its value, trimmed, or empty when unset or blank
     * @throws NullPointerException if key is null
     */
    public Optional<String> get(String key) {
        return lookup.apply(fullKey(key)).map(String::strip).filter(v -> !v.isEmpty());
    }

    /**
     * @param key a key relative to the prefix
     * @return its value
     * @throws PluginConfigException if it is unset
     */
    public String require(String key) {
        return get(key).orElseThrow(() -> new PluginConfigException(fullKey(key), "is required but not set"));
    }

    /**
     * @param key a key relative to the prefix
     * @return the value as a path, resolved against the configuration file's directory when relative, or empty
     */
    public Optional<Path> path(String key) {
        return get(key).map(v -> {
            try {
                Path p = Path.of(v);
                return p.isAbsolute() || baseDirectory == null ? p : baseDirectory.resolve(p);
            } catch (java.nio.file.InvalidPathException e) {
                throw new PluginConfigException(fullKey(key), "is not a valid path: '" + v + "'");
            }
        });
    }

    /**
     * @param key a key relative to the prefix
     * @return the value as a path (see {@link #path(String)})
     * @throws PluginConfigException if it is unset or not a path
     */
    public Path requirePath(String key) {
        return path(key).orElseThrow(() -> new PluginConfigException(fullKey(key), "is required but not set (a file path)"));
    }

    /**
     * @param key a key relative to the prefix
     * @param defaultValue used when unset
     * @return the value as an int
     * @throws PluginConfigException if it is set but not an integer
     */
    public int intValue(String key, int defaultValue) {
        Optional<String> v = get(key);
        if (v.isEmpty()) {
            return defaultValue;
        }
        try {
            return Integer.parseInt(v.get());
        } catch (NumberFormatException e) {
            throw new PluginConfigException(fullKey(key), "must be an integer, got '" + v.get() + "'");
        }
    }

    /**
     * @param key a key relative to the prefix
     * @param defaultValue used when unset
     * @return the value as a boolean ({@code true} or {@code false}, any case)
     * @throws PluginConfigException if it is set to anything else
     */
    public boolean booleanValue(String key, boolean defaultValue) {
        Optional<String> v = get(key);
        if (v.isEmpty()) {
            return defaultValue;
        }
        return switch (v.get().toLowerCase(Locale.ROOT)) {
            case "true" -> true;
            case "false" -> false;
            default -> throw new PluginConfigException(fullKey(key), "must be true or false, got '" + v.get() + "'");
        };
    }

    /**
     * @param key a key relative to the prefix
     * @param defaultValue used when unset
     * @return the value as a duration: {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h} or ISO-8601 ({@code PT30S})
     * @throws PluginConfigException if it is set but not a duration
     */
    public Duration duration(String key, Duration defaultValue) {
        Optional<String> v = get(key);
        if (v.isEmpty()) {
            return defaultValue;
        }
        Duration d = parseDuration(v.get());
        if (d == null) {
            throw new PluginConfigException(fullKey(key), "must be a duration such as 500ms, 30s, 5m or 1h, got '" + v.get() + "'");
        }
        return d;
    }

    /**
     * @param text {@code 500ms}, {@code 30s}, {@code 5m}, {@code 1h}, or ISO-8601 such as {@code PT30S}
     * @return the duration, or null if the text is none of these
     */
    public static Duration parseDuration(String text) {
        String t = text.strip().toLowerCase(Locale.ROOT);
        try {
            if (t.startsWith("p")) {
                return Duration.parse(t.toUpperCase(Locale.ROOT));
            }
            if (t.endsWith("ms")) {
                return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
            }
            if (t.isEmpty()) {
                return null;
            }
            long n = Long.parseLong(t.substring(0, t.length() - 1));
            return switch (t.charAt(t.length() - 1)) {
                case 's' -> Duration.ofSeconds(n);
                case 'm' -> Duration.ofMinutes(n);
                case 'h' -> Duration.ofHours(n);
                default -> null;
            };
        } catch (NumberFormatException | DateTimeParseException e) {
            return null;
        }
    }

    @Override
    public String toString() {
        // Values may be secrets: never printed.
        return "PluginConfig[" + prefix + "*]";
    }
}
