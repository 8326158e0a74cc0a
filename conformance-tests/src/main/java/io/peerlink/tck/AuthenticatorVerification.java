package io.peerlink.tck;

import io.peerlink.DeviceId;
import io.peerlink.spi.AuthRequest;
import io.peerlink.spi.AuthResult;
import io.peerlink.spi.Authenticator;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * The conformance suite for {@link Authenticator} implementations. The suite makes up device
 * identities and asks you to enrol them; you build an authenticator that admits exactly those,
 * and say which claims (credentials) a legitimate device presents:
 *
 * <pre>{@code
 * class MyAuthenticatorVerificationTest extends AuthenticatorVerification {
 *     @Override
 *     protected Authenticator createAuthenticator(List<Enrolment> enrolled) {
 *         return new MyAuthenticator(enrolled); // e.g. write them to the file it reads
 *     }
 * }
 * }</pre>
 *
 * <p>Test names carry the rule ({@code required_A2_2_unknownDeviceIsDenied}); the rules are
 * numbered and explained in {@code docs/tck.md}, and every assertion message starts with the
 * rule number, e.g. {@code [A2.2]}.
 */
@org.junit.runner.RunWith(JUnitPlatformBridge.class)
public abstract class AuthenticatorVerification implements AuthenticatorRules {

    /**
     * A device the suite wants admitted.
     *
     * @param deviceId its proven identity (derived from {@code publicKey})
     * @param publicKey its raw 32-byte public key
     * @param network the network it must be admitted into
     */
    public record Enrolment(DeviceId deviceId, byte[] publicKey, String network) {
        /**
         * @param deviceId its proven identity
         * @param publicKey its raw 32-byte public key (copied)
         * @param network the network it must be admitted into
         * @throws NullPointerException if a component is null
         */
        public Enrolment {
            Objects.requireNonNull(deviceId, "deviceId");
            publicKey = Objects.requireNonNull(publicKey, "publicKey").clone();
            Objects.requireNonNull(network, "network");
        }

        /** @return a copy of the public key */
        @Override
        public byte[] publicKey() {
            return publicKey.clone();
        }
    }

    private static final InetSocketAddress FROM = new InetSocketAddress("192.0.2.10", 40_000);
    private final Random random = new Random();
    private final List<Enrolment> enrolled = List.of(newEnrolment("alpha"), newEnrolment("alpha"), newEnrolment("beta"),
            newEnrolment("gamma-net"));
    private final List<String> denialReasons = new ArrayList<>();

    /** Subclasses have a no-argument constructor; JUnit creates one instance per test. */
    protected AuthenticatorVerification() {
    }

    // ------------------------------------------------------------------ what implementers supply

    /**
     * @param enrolled the devices to admit, each into its network; nobody else may be admitted
     * @return a new authenticator, ready to use
     * @throws Exception if it cannot be created
     */
    protected abstract Authenticator createAuthenticator(List<Enrolment> enrolled) throws Exception;

    /**
     * @param device one of the enrolled devices, after {@link #createAuthenticator(List)}
     * @return the claims that device presents to be admitted (its credentials); by default none,
     *         as for an allow-list that admits on the proven identity alone
     */
    protected Map<String, String> credentialsOf(Enrolment device) {
        return Map.of();
    }

    /** @return strings that must never appear in a denial reason (keys, shared secrets); none by default, which skips A2.5 */
    protected List<String> secrets() {
        return List.of();
    }

    /** @return how long to wait for the concurrent callers of A3.1 (a liveness bound); default 10 s */
    protected Duration timeout() {
        return Duration.ofSeconds(10);
    }

    // ------------------------------------------------------------------ plumbing

    private Enrolment newEnrolment(String network) {
        byte[] key = new byte[32];
        random.nextBytes(key);
        return new Enrolment(DeviceId.fromPublicKey(key), key, network);
    }

    private Authenticator create() throws Exception {
        Authenticator a = createAuthenticator(enrolled);
        assertNotNull(a, "createAuthenticator(List) returned null");
        return a;
    }

    private static AuthRequest request(Enrolment device, InetSocketAddress from, Map<String, String> claims) {
        return new AuthRequest(device.deviceId(), device.publicKey(), from, claims);
    }

    /** Calls authenticate; an exception or null becomes a failure naming the rule. */
    private AuthResult decide(Authenticator a, AuthRequest request, String rule, String what) {
        AuthResult result;
        try {
            result = a.authenticate(request);
        } catch (RuntimeException e) {
            throw new AssertionError(rule + " authenticate() threw " + e + " for " + what
                    + ": decide (Denied with a reason), never throw for a device's input", e);
        }
        assertNotNull(result, rule + " authenticate() returned null for " + what + ": return Admitted or Denied");
        if (result instanceof AuthResult.Denied denied) {
            denialReasons.add(denied.reason());
        }
        return result;
    }

    private void expectDenied(AuthResult result, String rule, String what) {
        if (!(result instanceof AuthResult.Denied denied)) {
            fail(rule + " " + what + " was admitted (" + result + "); it must be denied");
            return;
        }
        assertFalse(denied.reason().isBlank(), rule + " the denial of " + what + " must give a reason (it is sent to the device)");
    }

    /** Admitted into {@code own} or denied; never into another network. */
    private static void expectNotElsewhere(AuthResult result, String own, String rule, String what) {
        if (result instanceof AuthResult.Admitted admitted && !admitted.network().equals(own)) {
            fail(rule + " " + what + " was admitted into network '" + admitted.network() + "' instead of its own '" + own
                    + "': claims are untrusted and must not choose the network");
        }
    }

    // ------------------------------------------------------------------ A1 identity of the plug-in

    /**
     * Rule A1.1 (docs/tck.md#a11). If this fails, return a constant from {@code name()}: the
     * server configuration selects the authenticator by it.
     */
    @Override
    @Test
    public void required_A1_1_nameIsStable() throws Throwable {
        Authenticator a = create();
        String name = a.name();
        assertNotNull(name, "[A1.1] name() must not be null");
        assertFalse(name.isBlank(), "[A1.1] name() must not be blank");
        assertFalse(name.chars().anyMatch(Character::isWhitespace), "[A1.1] name() must not contain whitespace: '" + name + "'");
        assertEquals(name, a.name(), "[A1.1] name() must return the same name every time");
        assertEquals(name, create().name(), "[A1.1] every instance must have the same name");
    }

    /** Rule A1.2 (docs/tck.md#a12). If this fails, add {@code Objects.requireNonNull(request)}. */
    @Override
    @Test
    public void required_A1_2_nullRequestFails() throws Throwable {
        Authenticator a = create();
        assertThrows(NullPointerException.class, () -> a.authenticate(null), "[A1.2] authenticate(null) must throw NullPointerException");
    }

    // ------------------------------------------------------------------ A2 decisions

    /**
     * Rule A2.1 (docs/tck.md#a21). Four devices in three networks. If this fails, check how the
     * enrolment is looked up (by the proven device ID) and which network is returned.
     */
    @Override
    @Test
    public void required_A2_1_enrolledDeviceIsAdmittedIntoItsNetwork() throws Throwable {
        Authenticator a = create();
        for (Enrolment device : enrolled) {
            AuthResult result = decide(a, request(device, FROM, credentialsOf(device)), "[A2.1]", "enrolled device " + device.deviceId());
            assertEquals(new AuthResult.Admitted(device.network()), result,
                    "[A2.1] enrolled device " + device.deviceId() + " presenting its credentials must be admitted into its network");
        }
    }

    /**
     * Rule A2.2 (docs/tck.md#a22). Devices nobody enrolled ask, with no claims, with claims that
     * name an enrolled network, and from loopback and private addresses. If this fails, check for
     * a default network handed to unknown devices, trust in claims or addresses, or a null result.
     */
    @Override
    @Test
    public void required_A2_2_unknownDeviceIsDenied() throws Throwable {
        Authenticator a = create();
        List<Map<String, String>> claimSets = List.of(Map.of(), Map.of("network", "alpha"), Map.of("network", "alpha", "admin", "true"));
        List<InetSocketAddress> addresses = List.of(FROM, new InetSocketAddress("127.0.0.1", 5000), new InetSocketAddress("10.0.0.2", 5000));
        for (Map<String, String> claims : claimSets) {
            for (InetSocketAddress from : addresses) {
                Enrolment stranger = newEnrolment("none");
                String what = "unknown device " + stranger.deviceId() + " from " + from + " with claims " + claims;
                expectDenied(decide(a, request(stranger, from, claims), "[A2.2]", what), "[A2.2]", what);
            }
        }
    }

    /**
     * Rule A2.3 (docs/tck.md#a23). An unknown device presents an enrolled device's credentials
     * verbatim; an enrolled device presents another network's member's credentials. If this
     * fails, check that credentials are verified against the proven {@code deviceId()} (e.g. a MAC
     * over it), not against an identity the claims name.
     */
    @Override
    @Test
    public void required_A2_3_credentialsAreBoundToTheProvenIdentity() throws Throwable {
        Authenticator a = create();
        for (Enrolment victim : enrolled) {
            Enrolment thief = newEnrolment("none");
            String what = "unknown device " + thief.deviceId() + " presenting the credentials of " + victim.deviceId();
            expectDenied(decide(a, request(thief, FROM, credentialsOf(victim)), "[A2.3]", what), "[A2.3]", what);
        }
        Enrolment alpha = enrolled.get(0);
        Enrolment beta = enrolled.get(2);
        AuthResult borrowed = decide(a, request(alpha, FROM, credentialsOf(beta)), "[A2.3]", "an alpha device with a beta device's credentials");
        expectNotElsewhere(borrowed, alpha.network(), "[A2.3]", "an alpha device presenting a beta device's credentials");
    }

    /**
     * Rule A2.4 (docs/tck.md#a24). An enrolled device adds claims naming another network, and
     * each of its credentials is replaced by hostile values (empty, 10,000 characters, control
     * characters, non-ASCII, cut short). If this fails, check that the network comes from the
     * enrolment (or from what the credential proves), and that parsing a claim rejects bad input
     * with a Denied rather than an exception.
     */
    @Override
    @Test
    public void required_A2_4_claimsCannotChooseTheNetwork() throws Throwable {
        Authenticator a = create();
        for (Enrolment device : enrolled) {
            for (String key : List.of("network", "group", "tenant")) {
                Map<String, String> claims = new HashMap<>(credentialsOf(device));
                String other = device.network().equals("beta") ? "alpha" : "beta";
                claims.put(key, other);
                expectNotElsewhere(decide(a, request(device, FROM, claims), "[A2.4]", device.deviceId() + " claiming " + key + "=" + other),
                        device.network(), "[A2.4]", "device " + device.deviceId() + " claiming " + key + "=" + other);
            }
            Map<String, String> credentials = credentialsOf(device);
            for (String key : credentials.keySet()) {
                String value = credentials.get(key);
                for (String hostile : List.of("", "A".repeat(10_000), "\u0000\u0001\n", "\uD83D\uDD11\u00e9", value.substring(0, value.length() / 2),
                        value + "=")) {
                    Map<String, String> claims = new HashMap<>(credentials);
                    claims.put(key, hostile);
                    String what = "device " + device.deviceId() + " with claim '" + key + "' replaced by a hostile " + hostile.length() + "-char value";
                    expectNotElsewhere(decide(a, request(device, FROM, claims), "[A2.4]", what), device.network(), "[A2.4]", what);
                }
            }
        }
    }

    /**
     * Rule A2.5 (docs/tck.md#a25). Needs {@link #secrets()}. Runs the denials of A2.2 to A2.4 and
     * checks no reason contains a secret. If this fails, keep reasons to what the device may know
     * ("not enrolled", "bad credential"), never the expected value.
     */
    @Override
    @Test
    public void optional_A2_5_denialReasonKeepsSecrets() throws Throwable {
        create(); // secrets may be made while the authenticator is created
        Assumptions.assumeTrue(!secrets().isEmpty(), "secrets() returned no secrets to look for");
        required_A2_2_unknownDeviceIsDenied();
        required_A2_3_credentialsAreBoundToTheProvenIdentity();
        required_A2_4_claimsCannotChooseTheNetwork();
        assertFalse(denialReasons.isEmpty(), "[A2.5] no denial to inspect");
        for (String reason : denialReasons) {
            for (String secret : secrets()) {
                assertFalse(reason.contains(secret), "[A2.5] a denial reason discloses a secret: '" + reason + "'");
            }
        }
    }

    // ------------------------------------------------------------------ A3 threading

    /**
     * Rule A3.1 (docs/tck.md#a31). Eight threads ask 2,000 times each, mixing enrolled and
     * unknown devices; every answer must equal the sequential answer for the same request. If this
     * fails, check for shared mutable state in {@code authenticate}: a shared {@code Mac} or
     * {@code MessageDigest}, an unsynchronised cache.
     */
    @Override
    @Test
    public void required_A3_1_concurrentCallsAgreeWithSequentialOnes() throws Throwable {
        Authenticator a = create();
        List<AuthRequest> requests = new ArrayList<>();
        for (Enrolment device : enrolled) {
            requests.add(request(device, FROM, credentialsOf(device)));
        }
        for (int i = 0; i < 4; i++) {
            Enrolment stranger = newEnrolment("none");
            requests.add(request(stranger, FROM, credentialsOf(enrolled.get(i % enrolled.size()))));
        }
        List<AuthResult> expected = new ArrayList<>();
        for (AuthRequest r : requests) {
            expected.add(decide(a, r, "[A3.1]", "request for " + r.deviceId()));
        }
        int threads = 8;
        int perThread = 2_000;
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> firstProblem = new AtomicReference<>();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int offset = t;
            Thread caller = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < perThread && firstProblem.get() == null; i++) {
                        int k = (i + offset) % requests.size();
                        AuthResult got = a.authenticate(requests.get(k));
                        if (!expected.get(k).equals(got)) {
                            firstProblem.compareAndSet(null, new AssertionError("[A3.1] under " + threads + " concurrent callers, the request for "
                                    + requests.get(k).deviceId() + " got " + got + " where a single caller got " + expected.get(k)
                                    + ": authenticate must be thread-safe (no shared Mac, digest or unsynchronised cache)"));
                        }
                    }
                } catch (Throwable e) {
                    firstProblem.compareAndSet(null, new AssertionError("[A3.1] authenticate() threw under concurrent callers: " + e, e));
                }
            }, "tck-auth-" + t);
            caller.setDaemon(true);
            callers.add(caller);
            caller.start();
        }
        go.countDown();
        for (Thread caller : callers) {
            caller.join(timeout().toMillis());
            assertFalse(caller.isAlive(), "[A3.1] a caller did not finish within " + timeout() + " (authenticate blocked?)");
        }
        if (firstProblem.get() != null) {
            throw firstProblem.get();
        }
    }

    /**
     * Rule A3.2 (docs/tck.md#a32), not verified: {@code authenticate} runs on the control
     * connection's thread, so loading lists or fetching keys belongs at start (or in a reload),
     * not in each call; a slow call that happens to be fast here looks the same.
     */
    @Override
    @Test
    public void untested_A3_2_noSlowWorkPerRequest() throws Throwable {
        Assumptions.abort("not verified by this TCK (work done per request cannot be told from its speed on one machine); see docs/tck.md");
    }

    /** @return the suite's enrolments, as handed to {@link #createAuthenticator(List)} */
    protected final List<Enrolment> enrolled() {
        return enrolled;
    }
}
