package io.peerlink.tck.selftest;

import io.peerlink.DeviceId;
import io.peerlink.spi.AccessPolicy;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;
import io.peerlink.tck.AccessPolicyVerification;
import io.peerlink.tck.AuthenticatorVerification;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Authenticators and access policies for testing {@link AuthenticatorVerification} and
 * {@link AccessPolicyVerification}: a correct one of each, and the same with one deliberate bug.
 * Not named {@code *Test}: {@link AdmissionVerificationSelfTest} runs them through EngineTestKit.
 */
final class AdmissionFakes {

    private AdmissionFakes() {
    }

    /** Bugs admission plug-ins have. */
    enum AuthFlaw {
        UNSTABLE_NAME, NO_NULL_CHECK, WRONG_NETWORK, ADMITS_UNKNOWN, NULL_FOR_UNKNOWN, TRUSTS_CLAIMED_IDENTITY,
        TRUSTS_GROUP_CLAIM, THROWS_ON_MALFORMED_TOKEN, LEAKS_SECRET_IN_REASON, SHARES_ONE_MAC
    }

    /**
     * Enrolled devices present {@code token = base64(HMAC-SHA256(network secret, device ID))}
     * (and, for show, {@code device = their ID}).
     */
    static final class TokenAuthenticator implements Authenticator {
        private static final AtomicInteger NAMES = new AtomicInteger();
        private final Set<AuthFlaw> flaws;
        private final Map<DeviceId, String> networks = new HashMap<>();
        private final Map<String, byte[]> secrets = new HashMap<>();
        private final Mac shared;

        TokenAuthenticator(List<AuthenticatorVerification.Enrolment> enrolled, Set<AuthFlaw> flaws) {
            this.flaws = flaws;
            SecureRandom random = new SecureRandom();
            for (AuthenticatorVerification.Enrolment e : enrolled) {
                networks.put(e.deviceId(), e.network());
                secrets.computeIfAbsent(e.network(), n -> {
                    byte[] s = new byte[32];
                    random.nextBytes(s);
                    return s;
                });
            }
            shared = newMac();
        }

        private static Mac newMac() {
            try {
                return Mac.getInstance("HmacSHA256");
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        String tokenFor(DeviceId id, String network) {
            return Base64.getEncoder().encodeToString(mac(secrets.get(network), id.value(), newMac()));
        }

        List<String> secretStrings() {
            return secrets.values().stream().map(s -> Base64.getEncoder().encodeToString(s)).toList();
        }

        private static byte[] mac(byte[] secret, String id, Mac mac) {
            try {
                mac.init(new SecretKeySpec(secret, "HmacSHA256"));
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
            mac.update(id.getBytes(StandardCharsets.US_ASCII), 0, 1);
            Thread.yield(); // widens the window a shared Mac is corrupted in (the race is real without it, only rarer)
            return mac.doFinal(id.getBytes(StandardCharsets.US_ASCII));
        }

        @Override
        public String name() {
            return flaws.contains(AuthFlaw.UNSTABLE_NAME) ? "token-" + NAMES.incrementAndGet() : "token";
        }

        @Override
        public AuthResult authenticate(AuthRequest request) {
            if (request == null && flaws.contains(AuthFlaw.NO_NULL_CHECK)) {
                return new AuthResult.Denied("no request");
            }
            Objects.requireNonNull(request, "request");
            if (flaws.contains(AuthFlaw.TRUSTS_GROUP_CLAIM) && request.claims().containsKey("group")) {
                return new AuthResult.Admitted(request.claims().get("group"));
            }
            DeviceId subject = request.deviceId();
            if (flaws.contains(AuthFlaw.TRUSTS_CLAIMED_IDENTITY) && request.claims().containsKey("device")) {
                try {
                    subject = DeviceId.parse(request.claims().get("device"));
                } catch (IllegalArgumentException e) {
                    return new AuthResult.Denied("malformed device claim");
                }
            }
            String network = networks.get(subject);
            if (network == null) {
                if (flaws.contains(AuthFlaw.ADMITS_UNKNOWN)) {
                    return new AuthResult.Admitted("default");
                }
                return flaws.contains(AuthFlaw.NULL_FOR_UNKNOWN) ? null : new AuthResult.Denied("device is not enrolled");
            }
            String token = request.claims().getOrDefault("token", "");
            byte[] presented;
            if (flaws.contains(AuthFlaw.THROWS_ON_MALFORMED_TOKEN)) {
                presented = Base64.getDecoder().decode(token);
            } else {
                try {
                    presented = Base64.getDecoder().decode(token);
                } catch (IllegalArgumentException e) {
                    return new AuthResult.Denied("malformed token");
                }
            }
            byte[] expected = mac(secrets.get(network), subject.value(), flaws.contains(AuthFlaw.SHARES_ONE_MAC) ? shared : newMac());
            if (!MessageDigest.isEqual(expected, presented)) {
                return new AuthResult.Denied(flaws.contains(AuthFlaw.LEAKS_SECRET_IN_REASON)
                        ? "bad token for network " + network + " (secret " + Base64.getEncoder().encodeToString(secrets.get(network)) + ")"
                        : "bad token");
            }
            return new AuthResult.Admitted(flaws.contains(AuthFlaw.WRONG_NETWORK) ? "default" : network);
        }
    }

    /** Runs {@link AuthenticatorVerification} against a {@link TokenAuthenticator} with the given flaws. */
    abstract static class AuthBase extends AuthenticatorVerification {
        private TokenAuthenticator last;

        abstract Set<AuthFlaw> flaws();

        @Override
        protected Authenticator createAuthenticator(List<Enrolment> enrolled) {
            last = new TokenAuthenticator(enrolled, flaws());
            return last;
        }

        @Override
        protected Map<String, String> credentialsOf(Enrolment device) {
            return Map.of("token", last.tokenFor(device.deviceId(), device.network()), "device", device.deviceId().value());
        }

        @Override
        protected List<String> secrets() {
            return last == null ? List.of("never-set") : last.secretStrings();
        }
    }

    static class AuthCorrect extends AuthBase {
        @Override
        Set<AuthFlaw> flaws() {
            return EnumSet.noneOf(AuthFlaw.class);
        }
    }

    /** One verification class per authenticator flaw, selected by name in the self-test. */
    static class AuthFlawed extends AuthBase {
        static volatile AuthFlaw flaw;

        @Override
        Set<AuthFlaw> flaws() {
            return EnumSet.of(flaw);
        }
    }

    /** Bugs access policies have. */
    enum PolicyFlaw {
        UNSTABLE_NAME, COMPARES_WITH_IDENTITY, IGNORES_CASE, PREFIX_MATCH, ONE_WAY, THROWS_ON_EMPTY_NETWORK, SHARED_KEY_BUFFER, ALLOWS_ALL
    }

    /** Same network may connect; with a flaw, the way real policies get it wrong. */
    static final class NetworkPolicy implements AccessPolicy {
        private static final AtomicInteger NAMES = new AtomicInteger();
        private final PolicyFlaw flaw;
        private final StringBuilder key = new StringBuilder();

        NetworkPolicy(PolicyFlaw flaw) {
            this.flaw = flaw;
        }

        @Override
        public String name() {
            return flaw == PolicyFlaw.UNSTABLE_NAME ? "net-" + NAMES.incrementAndGet() : "net";
        }

        @Override
        @SuppressWarnings("StringEquality")
        public boolean mayConnect(DeviceId from, String fromNetwork, DeviceId to, String toNetwork) {
            if (flaw == null) {
                return fromNetwork.equals(toNetwork);
            }
            return switch (flaw) {
                case UNSTABLE_NAME -> fromNetwork.equals(toNetwork);
                case COMPARES_WITH_IDENTITY -> fromNetwork == toNetwork;
                case IGNORES_CASE -> fromNetwork.equalsIgnoreCase(toNetwork);
                case PREFIX_MATCH -> toNetwork.startsWith(fromNetwork) || fromNetwork.startsWith(toNetwork);
                case ONE_WAY -> fromNetwork.equals(toNetwork) && from.compareTo(to) < 0;
                case THROWS_ON_EMPTY_NETWORK -> fromNetwork.charAt(0) == toNetwork.charAt(0) && fromNetwork.equals(toNetwork);
                case SHARED_KEY_BUFFER -> {
                    key.setLength(0);
                    key.append(fromNetwork);
                    Thread.yield(); // the race is real without it, only rarer
                    key.append('\u0001').append(toNetwork);
                    int sep = key.indexOf("\u0001");
                    yield key.substring(0, sep).equals(key.substring(sep + 1));
                }
                case ALLOWS_ALL -> true;
            };
        }
    }

    abstract static class PolicyBase extends AccessPolicyVerification {
        abstract PolicyFlaw flaw();

        @Override
        protected AccessPolicy createPolicy() {
            return new NetworkPolicy(flaw());
        }

        @Override
        protected List<Decision> expectedDecisions() {
            DeviceId a = newDeviceId();
            DeviceId b = newDeviceId();
            return List.of(new Decision(a, "alpha", b, "alpha", true), new Decision(b, "alpha", a, "alpha", true),
                    new Decision(a, "alpha", b, "beta", false), new Decision(a, "beta", b, "gamma", false));
        }

        @Override
        protected boolean isolatesNetworks() {
            return true;
        }

        @Override
        protected boolean symmetric() {
            return true;
        }
    }

    static class PolicyCorrect extends PolicyBase {
        @Override
        PolicyFlaw flaw() {
            return null;
        }
    }

    static class PolicyFlawed extends PolicyBase {
        static volatile PolicyFlaw flaw;

        @Override
        PolicyFlaw flaw() {
            return flaw;
        }
    }
}
