package io.peerlink.transport.mqtt.moquette;

import io.peerlink.protocol.identity.DeviceIdentity;
import io.peerlink.transport.mqtt.MqttPasswordSource;
import io.peerlink.transport.mqtt.MqttPasswordSourceFactory;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The text form {@code login-token:<audience> <key file>} of {@code mqtt.passwordSource}: a fresh
 * {@link MqttIdentityLogin} token for every connection attempt, signed with the device key in
 * {@code <key file>} (the device's own identity file, e.g. the CDI extension's
 * {@code peerlink.identity}) for the embedded broker's audience ({@link EmbeddedMqttBroker#audience()},
 * by default {@code mqtt://<bind host>:<port>}). The key is read when the first password is
 * asked for, i.e. after the device has loaded or created its identity; it is never created here.
 * Found through {@link java.util.ServiceLoader}.
 */
public final class MqttLoginTokenSourceFactory implements MqttPasswordSourceFactory {
    /** The kind, {@code login-token}. */
    public static final String KIND = "login-token";

    /** For {@link java.util.ServiceLoader}. */
    public MqttLoginTokenSourceFactory() {
    }

    @Override
    public String kind() {
        return KIND;
    }

    /**
     * @param argument {@code <audience> <key file>}, separated by the first space
     * @throws IllegalArgumentException if either part is missing
     */
    @Override
    public MqttPasswordSource create(String argument) {
        int space = argument.indexOf(' ');
        String audience = space < 0 ? "" : argument.substring(0, space);
        String keyFile = space < 0 ? "" : argument.substring(space + 1).strip();
        if (audience.isEmpty() || keyFile.isEmpty()) {
            throw new IllegalArgumentException(KIND + ": expected '" + KIND + ":<broker audience> <device key file>', e.g. '"
                    + KIND + ":mqtt://broker.example:1883 /var/lib/app/device.key', got '" + KIND + ":" + argument + "'");
        }
        Path path = Path.of(keyFile);
        return new MqttPasswordSource() {
            private volatile MqttPasswordSource signer;

            @Override
            public String password() {
                MqttPasswordSource s = signer;
                if (s == null) {
                    if (!Files.isRegularFile(path)) {
                        throw new IllegalStateException("the device key file " + path + " of " + KIND
                                + " does not exist: give the device's identity file (the one its identity is loaded from)");
                    }
                    s = MqttIdentityLogin.passwordSource(DeviceIdentity.loadOrCreate(path), audience);
                    signer = s;
                }
                return s.password();
            }
        };
    }
}
