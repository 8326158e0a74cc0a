package io.peerlink.transport.mqtt;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ServiceLoader;
import java.util.TreeSet;

/** The text form of {@link MqttOptions#PASSWORD_SOURCE}: {@code file:<path>} or a kind a {@link MqttPasswordSourceFactory} makes. */
final class MqttPasswordSources {
    static final String FILE = "file";

    private MqttPasswordSources() {
    }

    static MqttPasswordSource parse(String text) {
        int colon = text.indexOf(':');
        if (colon <= 0) {
            throw new IllegalArgumentException("expected <kind>:<argument>, e.g. file:/etc/peerlink/mqtt.password, got '" + text + "'");
        }
        String kind = text.substring(0, colon);
        String argument = text.substring(colon + 1);
        if (FILE.equals(kind)) {
            return file(argument);
        }
        TreeSet<String> known = new TreeSet<>();
        known.add(FILE);
        for (MqttPasswordSourceFactory f : ServiceLoader.load(MqttPasswordSourceFactory.class, MqttPasswordSourceFactory.class.getClassLoader())) {
            if (f.kind().equals(kind)) {
                return f.create(argument);
            }
            known.add(f.kind());
        }
        throw new IllegalArgumentException("unknown password source kind '" + kind + "': known are " + String.join(", ", known)
                + (known.contains("login-token") ? "" : " (login-token needs peerlink-mqtt-moquette on the class path)"));
    }

    /**
     * The first line of a file, read at every connection attempt (a rotated password is picked up
     * at the next reconnect); checked once here so that a wrong path fails the build, not the connect.
     */
    private static MqttPasswordSource file(String argument) {
        if (argument.isBlank()) {
            throw new IllegalArgumentException("file: needs the path of a file holding the password, e.g. file:/etc/peerlink/mqtt.password");
        }
        Path path = Path.of(argument);
        read(path);
        return () -> read(path);
    }

    private static String read(Path path) {
        try {
            String text = Files.readString(path, StandardCharsets.UTF_8);
            int end = text.indexOf('\n');
            String line = (end < 0 ? text : text.substring(0, end)).strip();
            if (line.isEmpty()) {
                throw new IllegalArgumentException("the password file " + path + " is empty: write the broker password on its first line");
            }
            return line;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the MQTT password file " + path + ": " + e.getMessage()
                    + " (check the path and that this process may read it)", e);
        }
    }
}
