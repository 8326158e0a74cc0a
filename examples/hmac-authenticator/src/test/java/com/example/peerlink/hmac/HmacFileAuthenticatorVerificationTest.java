package com.example.peerlink.hmac;

import io.peerlink.spi.Authenticator;
import io.peerlink.spi.PluginConfig;
import io.peerlink.tck.AuthenticatorVerification;

import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HMAC authenticator passes the authenticator conformance suite: the suite's devices are
 * enrolled by writing a secrets file (one fresh secret per network) and handing each device the
 * MAC over its ID.
 */
class HmacFileAuthenticatorVerificationTest extends AuthenticatorVerification {

    @TempDir
    Path dir;

    private final Map<String, byte[]> secrets = new LinkedHashMap<>();

    @Override
    protected Authenticator createAuthenticator(List<Enrolment> enrolled) throws Exception {
        SecureRandom random = new SecureRandom();
        for (Enrolment device : enrolled) {
            secrets.computeIfAbsent(device.network(), n -> {
                byte[] secret = new byte[32];
                random.nextBytes(secret);
                return secret;
            });
        }
        StringBuilder file = new StringBuilder("# network secret\n");
        secrets.forEach((network, secret) -> file.append(network).append(' ').append(Base64.getEncoder().encodeToString(secret)).append('\n'));
        Path path = Files.writeString(dir.resolve("hmac-secrets.txt"), file);
        // The way a host configures it: the no-argument constructor, then the SPI's PluginConfig.
        HmacFileAuthenticator authenticator = new HmacFileAuthenticator();
        authenticator.configure(PluginConfig.of("authenticator.hmac-file.",
                Map.of("authenticator.hmac-file." + HmacFileAuthenticator.SECRETS_KEY, path.toString())));
        return authenticator;
    }

    @Override
    protected Map<String, String> credentialsOf(Enrolment device) {
        return Map.of(HmacFileAuthenticator.NETWORK_CLAIM, device.network(),
                HmacFileAuthenticator.HMAC_CLAIM, HmacFileAuthenticator.credential(secrets.get(device.network()), device.deviceId().value()));
    }

    @Override
    protected List<String> secrets() {
        return secrets.values().stream().map(s -> Base64.getEncoder().encodeToString(s)).toList();
    }
}
