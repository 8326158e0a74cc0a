package io.peerlink.transport.mqtt.moquette;

import io.peerlink.protocol.identity.DeviceIdentity;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The login token check faces the network: it accepts only genuine tokens and rejects everything else precisely. */
class MqttIdentityLoginTest {

    private static final DeviceIdentity ALICE = DeviceIdentity.ephemeral();
    private static final String AUDIENCE = "mqtt://broker.test:1883";
    private static final Duration WINDOW = Duration.ofMinutes(2);

    @Provide
    Arbitrary<byte[]> hostilePasswords() {
        String genuine = MqttIdentityLogin.password(ALICE, AUDIENCE, Instant.now());
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(700),
                Arbitraries.strings().withChars("pl1.-_AZaz09=+/").ofMaxLength(200).map(s -> s.getBytes(StandardCharsets.UTF_8)),
                // genuine tokens with one character changed
                Arbitraries.integers().between(0, genuine.length() - 1).flatMap(i -> Arbitraries.chars().alpha().map(c -> {
                    char[] chars = genuine.toCharArray();
                    chars[i] = chars[i] == c ? (c == 'a' ? 'b' : 'a') : c;
                    return new String(chars).getBytes(StandardCharsets.US_ASCII);
                })));
    }

    @Property(tries = 1_500)
    void anythingButAGenuineTokenIsRejectedWithAReason(@ForAll("hostilePasswords") byte[] password) {
        MqttIdentityLogin.LoginRejectedException e = assertThrows(MqttIdentityLogin.LoginRejectedException.class,
                () -> MqttIdentityLogin.verify(ALICE.id().value(), password, AUDIENCE, Instant.now(), WINDOW));
        assertTrue(e.getMessage() != null && !e.getMessage().isEmpty() && e.getMessage().length() < 300, e.getMessage());
    }

    @Property(tries = 200)
    void arbitraryUserNamesAreRejectedWithAReason(@ForAll String username) {
        byte[] genuine = MqttIdentityLogin.password(ALICE, AUDIENCE, Instant.now()).getBytes(StandardCharsets.US_ASCII);
        if (username.trim().equalsIgnoreCase(ALICE.id().value())) {
            return;
        }
        assertThrows(MqttIdentityLogin.LoginRejectedException.class,
                () -> MqttIdentityLogin.verify(username, genuine, AUDIENCE, Instant.now(), WINDOW));
    }

    @Example
    void aGenuineTokenVerifiesWithinTheWindowAndOnlyThere() throws Exception {
        Instant t = Instant.parse("2026-12-02T06:00:00Z");
        String token = MqttIdentityLogin.password(ALICE, AUDIENCE, t);
        byte[] bytes = token.getBytes(StandardCharsets.US_ASCII);
        MqttIdentityLogin.Verified v = MqttIdentityLogin.verify(ALICE.id().value(), bytes, AUDIENCE, t.plusSeconds(119), WINDOW);
        assertEquals(ALICE.id(), v.deviceId());
        MqttIdentityLogin.LoginRejectedException late = assertThrows(MqttIdentityLogin.LoginRejectedException.class,
                () -> MqttIdentityLogin.verify(ALICE.id().value(), bytes, AUDIENCE, t.plusSeconds(121), WINDOW));
        assertTrue(late.getMessage().contains("check the device's clock"), late.getMessage());
        MqttIdentityLogin.LoginRejectedException other = assertThrows(MqttIdentityLogin.LoginRejectedException.class,
                () -> MqttIdentityLogin.verify(ALICE.id().value(), bytes, "mqtt://elsewhere:1883", t, WINDOW));
        assertTrue(other.getMessage().contains("not valid for this broker"), other.getMessage());
        assertNotEquals(token, MqttIdentityLogin.password(ALICE, AUDIENCE, t), "two tokens of the same second differ (nonce)");
    }
}
