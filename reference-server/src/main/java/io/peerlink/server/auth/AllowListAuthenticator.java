package io.peerlink.server.auth;

import io.peerlink.DeviceId;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.spi.PluginConfig;
import io.peerlink.spi.PluginConfigException;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * {@code allow-list}: admits exactly the devices listed in a file, each into its network.
 * Lines are {@code deviceId [network]} (network defaults to {@code default}); blank lines and
 * text after {@code #} are ignored. The file is named by the setting {@code authenticator.allow-list.file}
 * (the SPI's {@link PluginConfig}; {@code --allow-list} on the command line). It is read at start, where a bad line stops the server
 * with its line number, and again by {@link #reload()} when it changes (the reference server checks
 * its modification time every second), where a bad file keeps the previous list. Unknown devices are denied with a reason that names their ID, so an
 * operator can copy it into the file.
 */
public final class AllowListAuthenticator implements Authenticator {
    /** The network of a line without one. */
    public static final String DEFAULT_NETWORK = "default";
    private volatile Map<DeviceId, String> allowed;
    private volatile Path file;

    /** Used by {@link java.util.ServiceLoader}; {@link #configure(PluginConfig)} loads the file. */
    public AllowListAuthenticator() {
    }

    /** @param allowed device to network, for tests and embedding */
    public AllowListAuthenticator(Map<DeviceId, String> allowed) {
        this.allowed = Map.copyOf(allowed);
    }

    @Override
    public String name() {
        return "allow-list";
    }

    /**
     * Reads the file named by {@code file} ({@code authenticator.allow-list.file}); none is an empty list.
     *
     * @throws PluginConfigException naming the key when the file is unreadable or malformed
     */
    @Override
    public void configure(PluginConfig config) {
        if (allowed != null) {
            return;
        }
        file = config.path("file").orElse(null);
        // No file: an empty allow-list. Secure by default: the server runs and serves, but admits
        // no device until the operator lists some (or chooses open mode for a trusted lab).
        try {
            allowed = file == null ? Map.of() : parse(file);
        } catch (IllegalStateException e) {
            throw new PluginConfigException(config.fullKey("file"), e.getMessage(), e);
        }
    }

    /**
     * @param file the allow-list
     * @return device to network
     * @throws IllegalStateException naming the file and line of the first problem
     */
    public static Map<DeviceId, String> parse(Path file) {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalStateException("cannot read allow-list " + file + ": " + e, e);
        }
        Map<DeviceId, String> out = new HashMap<>();
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i);
            int hash = line.indexOf('#');
            String content = (hash >= 0 ? line.substring(0, hash) : line).strip();
            if (content.isEmpty()) {
                continue;
            }
            String[] parts = content.split("\\s+");
            if (parts.length > 2) {
                throw new IllegalStateException(file + " line " + (i + 1) + ": expected 'deviceId [network]', got '" + content + "'");
            }
            try {
                out.put(DeviceId.parse(parts[0]), parts.length == 2 ? parts[1] : DEFAULT_NETWORK);
            } catch (IllegalArgumentException e) {
                throw new IllegalStateException(file + " line " + (i + 1) + ": " + e.getMessage(), e);
            }
        }
        return Map.copyOf(out);
    }

    /** @return the file the list was read from, or null (empty list, or given in memory) */
    public Path file() {
        return file;
    }

    /**
     * Reads the file again and replaces the list at once; on a bad file the old list stays.
     *
     * @return the new list, device to network
     * @throws IllegalStateException naming the file and line of the first problem
     */
    public Map<DeviceId, String> reload() {
        Path f = file;
        if (f == null) {
            return allowed;
        }
        Map<DeviceId, String> next = parse(f);
        allowed = next;
        return next;
    }

    @Override
    public AuthResult authenticate(AuthRequest request) {
        Objects.requireNonNull(request, "request");
        Map<DeviceId, String> current = allowed;
        if (current == null) {
            throw new IllegalStateException("allow-list authenticator used before configure()");
        }
        String network = current.get(request.deviceId());
        return network == null
                ? new AuthResult.Denied("device " + request.deviceId() + " is not on this server's allow-list")
                : new AuthResult.Admitted(network);
    }
}
