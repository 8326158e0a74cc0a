package io.peerlink.transport.mqtt;

import io.peerlink.testkit.Mosquitto;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The text form of {@code mqtt.tls} ({@link MqttTls#parse}), used when options are given by name. */
class MqttTlsParseTest {
    @TempDir
    Path dir;

    @Test
    void systemAndHostnameVerificationSettings() {
        assertSame(MqttTls.SYSTEM_DEFAULT, MqttTls.parse("system"));
        assertFalse(MqttTls.parse("system, hostnameVerification=false").hostnameVerification());
        assertTrue(MqttTls.parse("system,hostnameVerification=true").hostnameVerification());
    }

    @Test
    void aCaFileIsTrustedWithHostnameVerification() throws Exception {
        Mosquitto.Tls tls = Mosquitto.generateTls(dir);
        MqttTls parsed = MqttTls.parse("ca=" + tls.caCert());
        assertTrue(parsed.hostnameVerification());
        assertTrue(parsed.toString().contains("TLS context"), parsed.toString());
        assertFalse(MqttTls.parse("ca=" + tls.caCert() + ",hostnameVerification=false").hostnameVerification());
    }

    @Test
    void otherFormsAreRefusedSayingWhatIsExpected() throws Exception {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MqttTls.parse("trust-all")).getMessage()
                .contains("expected 'system' or 'ca=<PEM file>'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MqttTls.parse("system,verify=no")).getMessage()
                .contains("unknown TLS setting 'verify=no'"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MqttTls.parse("ca=" + dir.resolve("missing.pem"))).getMessage()
                .contains("cannot read the CA file"));
        Path empty = Files.writeString(dir.resolve("empty.pem"), "not a certificate\n");
        assertThrows(IllegalArgumentException.class, () -> MqttTls.parse("ca=" + empty));
    }
}
