package io.peerlink.server.auth;

import io.peerlink.DeviceId;
import io.peerlink.server.ServerConfig;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

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
 * text after {@code #} are ignored. The file is read once at start; a bad line stops the server
 * with its line number. Unknown devices are denied with a reason that names their ID, so an
 * operator can copy it into the file.
 */
public final class AllowListAuthenticator implements Authenticator, ServerConfigurable {
    /** The network of a line without one. */
    public static final String DEFAULT_NETWORK = "default";
    private volatile Map<DeviceId, String> allowed;

    /** Used by {@link java.util.ServiceLoader}; {@link #configure(ServerConfig)} loads the file. */
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

    @Override
    public void configure(ServerConfig config) {
        if (allowed != null) {
            return;
        }
        Path file = config.allowListFile();
        // No file: an empty allow-list. Secure by default: the server runs and serves, but admits
        // no device until the operator lists some (or chooses open mode for a trusted lab).
        allowed = file == null ? Map.of() : parse(file);
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
