package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.spi.TransportConfig;

import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Builders for transports and the Mosquitto command-line clients used as independent peers. */
final class Fixtures {

    static final String USER_PASSWORD = "s3cret-for-tests";

    private Fixtures() {
    }

    static TransportConfig.Builder config(Mosquitto broker, String id, MqttVersion version) {
        return TransportConfig.bind(endpoint(broker, id))
                .set(MqttOptions.PROTOCOL_VERSION, version)
                .set(MqttOptions.RECONNECT_MIN_DELAY, Duration.ofMillis(50))
                .set(MqttOptions.RECONNECT_MAX_DELAY, Duration.ofSeconds(1));
    }

    /** A config that logs in as the user {@code id} (password {@link #USER_PASSWORD}). */
    static TransportConfig.Builder login(Mosquitto broker, String id, MqttVersion version) {
        return config(broker, id, version).set(MqttOptions.USERNAME, id).set(MqttOptions.PASSWORD, USER_PASSWORD);
    }

    static Endpoint endpoint(Mosquitto broker, String id) {
        return Endpoint.parse("mqtt://127.0.0.1:" + broker.port() + "/" + id);
    }

    static Transport create(TransportConfig.Builder config) {
        return new MqttTransportProvider().create(config.build());
    }

    /** mosquitto_sub, started and subscribed; read its output with {@link Sub#lines}. */
    static Sub mosquittoSub(Mosquitto broker, String user, String topic, int count, String... extra) throws Exception {
        Mosquitto.requireBinary("/usr/bin/mosquitto_sub", "mosquitto-clients");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/mosquitto_sub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-u", user, "-P", USER_PASSWORD, "-q", "1", "-t", topic, "-C", Integer.toString(count), "-v", "-i", "sub-" + user));
        cmd.addAll(List.of(extra));
        Path out = Files.createTempFile("mosquitto_sub", ".out");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        return new Sub(p, out);
    }

    record Sub(Process process, Path out) {
        /** @return its output once it exited (after -C messages), or fails after the timeout */
        String awaitOutput(Duration timeout) throws Exception {
            try {
                if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                    process.destroyForcibly();
                    throw new AssertionError("mosquitto_sub did not receive everything within " + timeout + "; got:\n" + Files.readString(out));
                }
                return Files.readString(out);
            } finally {
                Files.deleteIfExists(out);
            }
        }
    }

    /** mosquitto_pub of one message; returns its exit code and output. */
    static Mosquitto.Result mosquittoPub(Mosquitto broker, String user, String password, String topic, Path payloadFile, String... extra) throws Exception {
        Mosquitto.requireBinary("/usr/bin/mosquitto_pub", "mosquitto-clients");
        List<String> cmd = new ArrayList<>(List.of("/usr/bin/mosquitto_pub", "-h", "127.0.0.1", "-p", Integer.toString(broker.port()),
                "-q", "1", "-t", topic, "-f", payloadFile.toString()));
        if (user != null) {
            cmd.addAll(List.of("-u", user, "-P", password));
        }
        cmd.addAll(List.of(extra));
        return Mosquitto.exec(cmd);
    }

    /** An SSLContext that trusts only the test CA. */
    static SSLContext trusting(Path caCert) throws Exception {
        Certificate ca;
        try (InputStream in = Files.newInputStream(caCert)) {
            ca = CertificateFactory.getInstance("X.509").generateCertificate(in);
        }
        KeyStore trust = KeyStore.getInstance(KeyStore.getDefaultType());
        trust.load(null, null);
        trust.setCertificateEntry("peerlink-test-ca", ca);
        TrustManagerFactory tmf = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        tmf.init(trust);
        SSLContext context = SSLContext.getInstance("TLS");
        context.init(null, tmf.getTrustManagers(), null);
        return context;
    }
}
