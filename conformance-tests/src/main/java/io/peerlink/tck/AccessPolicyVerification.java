package io.peerlink.tck;

import io.peerlink.DeviceId;
import io.peerlink.spi.AccessPolicy;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicReference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The conformance suite for {@link AccessPolicy} implementations. Supply the policy, the
 * decisions you expect from it, and which properties it promises:
 *
 * <pre>{@code
 * class MyPolicyVerificationTest extends AccessPolicyVerification {
 *     @Override
 *     protected AccessPolicy createPolicy() {
 *         return new MyPolicy();
 *     }
 * }
 * }</pre>
 *
 * <p>Test names carry the rule ({@code required_P2_2_decisionsAreValueBased}); the rules are
 * numbered and explained in {@code docs/tck.md}, and every assertion message starts with the
 * rule number, e.g. {@code [P2.2]}.
 */
@org.junit.runner.RunWith(JUnitPlatformBridge.class)
public abstract class AccessPolicyVerification implements AccessPolicyRules {

    /**
     * One decision the policy must make.
     *
     * @param from the requesting device
     * @param fromNetwork its network
     * @param to the target device
     * @param toNetwork its network
     * @param allowed the expected answer of {@code mayConnect}
     */
    public record Decision(DeviceId from, String fromNetwork, DeviceId to, String toNetwork, boolean allowed) {
        /**
         * @param from the requesting device
         * @param fromNetwork its network
         * @param to the target device
         * @param toNetwork its network
         * @param allowed the expected answer of {@code mayConnect}
         * @throws NullPointerException if a component is null
         */
        public Decision {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(fromNetwork, "fromNetwork");
            Objects.requireNonNull(to, "to");
            Objects.requireNonNull(toNetwork, "toNetwork");
        }
    }

    private final Random random = new Random();

    /** Subclasses have a no-argument constructor; JUnit creates one instance per test. */
    protected AccessPolicyVerification() {
    }

    // ------------------------------------------------------------------ what implementers supply

    /**
     * @return a new policy, ready to use
     * @throws Exception if it cannot be created
     */
    protected abstract AccessPolicy createPolicy() throws Exception;

    /** @return decisions the policy must make (P2.1); none by default, which skips P2.1 */
    protected List<Decision> expectedDecisions() {
        return List.of();
    }

    /** @return true if devices of different networks may never connect (P2.3); default false */
    protected boolean isolatesNetworks() {
        return false;
    }

    /** @return true if the policy promises {@code mayConnect(a, b) == mayConnect(b, a)} (P2.4); default false */
    protected boolean symmetric() {
        return false;
    }

    /** @return how long to wait for the concurrent callers of P3.1 (a liveness bound); default 10 s */
    protected Duration timeout() {
        return Duration.ofSeconds(10);
    }

    /**
     * @return a fresh device ID, for building {@link #expectedDecisions()}
     */
    protected final DeviceId newDeviceId() {
        byte[] key = new byte[32];
        random.nextBytes(key);
        return DeviceId.fromPublicKey(key);
    }

    // ------------------------------------------------------------------ plumbing

    private AccessPolicy create() throws Exception {
        AccessPolicy p = createPolicy();
        assertNotNull(p, "createPolicy() returned null");
        return p;
    }

    private static boolean ask(AccessPolicy p, Decision d, String rule) {
        try {
            return p.mayConnect(d.from(), d.fromNetwork(), d.to(), d.toNetwork());
        } catch (RuntimeException e) {
            throw new AssertionError(rule + " mayConnect threw " + e + " for " + d.from().shortForm() + "@'" + shorten(d.fromNetwork()) + "' -> "
                    + d.to().shortForm() + "@'" + shorten(d.toNetwork()) + "': every admitted pair must get an answer", e);
        }
    }

    private static String shorten(String s) {
        return s.length() > 40 ? s.substring(0, 40) + "...(" + s.length() + " chars)" : s;
    }

    /** Decisions to probe with: the expected ones plus same- and cross-network pairs of fresh devices. */
    private List<Decision> probes() {
        List<Decision> out = new ArrayList<>(expectedDecisions());
        for (String[] networks : new String[][] {{"alpha", "alpha"}, {"alpha", "beta"}, {"beta", "alpha"}, {"default", "default"}, {"a", "b"}}) {
            out.add(new Decision(newDeviceId(), networks[0], newDeviceId(), networks[1], false));
        }
        return out;
    }

    private static String copy(String s) {
        return new String(s.toCharArray()); // equal, never the same instance
    }

    // ------------------------------------------------------------------ P1

    /** Rule P1.1 (docs/tck.md#p11). If this fails, return a constant from {@code name()}. */
    @Override
    @Test
    public void required_P1_1_nameIsStable() throws Throwable {
        AccessPolicy p = create();
        String name = p.name();
        assertNotNull(name, "[P1.1] name() must not be null");
        assertFalse(name.isBlank(), "[P1.1] name() must not be blank");
        assertFalse(name.chars().anyMatch(Character::isWhitespace), "[P1.1] name() must not contain whitespace: '" + name + "'");
        assertEquals(name, p.name(), "[P1.1] name() must return the same name every time");
        assertEquals(name, create().name(), "[P1.1] every instance must have the same name");
    }

    // ------------------------------------------------------------------ P2

    /**
     * Rule P2.1 (docs/tck.md#p21). Needs {@link #expectedDecisions()}. If this fails, the policy
     * does not do what you said it does.
     */
    @Override
    @Test
    public void optional_P2_1_expectedDecisionsHold() throws Throwable {
        List<Decision> expected = expectedDecisions();
        assumeTrue(!expected.isEmpty(), "expectedDecisions() returned none");
        AccessPolicy p = create();
        for (Decision d : expected) {
            assertEquals(d.allowed(), ask(p, d, "[P2.1]"), "[P2.1] mayConnect(" + d.from().shortForm() + "@'" + d.fromNetwork() + "', "
                    + d.to().shortForm() + "@'" + d.toNetwork() + "') must be " + d.allowed());
        }
    }

    /**
     * Rule P2.2 (docs/tck.md#p22). Each probe is asked with the suite's strings and IDs, then
     * with equal copies, three times. If this fails, check for {@code ==} on strings or device
     * IDs, or state that changes with each call.
     */
    @Override
    @Test
    public void required_P2_2_decisionsAreValueBased() throws Throwable {
        AccessPolicy p = create();
        for (Decision d : probes()) {
            boolean first = ask(p, d, "[P2.2]");
            for (int i = 0; i < 3; i++) {
                Decision copied = new Decision(new DeviceId(copy(d.from().value())), copy(d.fromNetwork()),
                        new DeviceId(copy(d.to().value())), copy(d.toNetwork()), d.allowed());
                if (ask(p, copied, "[P2.2]") != first) {
                    fail("[P2.2] mayConnect(" + d.from().shortForm() + "@'" + d.fromNetwork() + "', " + d.to().shortForm() + "@'"
                            + d.toNetwork() + "') changed its answer when asked again with equal arguments: compare with equals(), "
                            + "never ==, and keep no state that the calls change");
                }
            }
        }
    }

    /**
     * Rule P2.3 (docs/tck.md#p23). Needs {@link #isolatesNetworks()}. Pairs of different network
     * names that look alike (case, whitespace, prefixes, a NUL, look-alike letters, empty) must
     * never connect. If this fails, compare network names with {@code equals}: no
     * {@code equalsIgnoreCase}, {@code startsWith}, trimming or normalising.
     */
    @Override
    @Test
    public void optional_P2_3_networksAreIsolated() throws Throwable {
        assumeTrue(isolatesNetworks(), "isolatesNetworks() is false: the policy does not promise network isolation");
        AccessPolicy p = create();
        String[][] lookalikes = {{"alpha", "Alpha"}, {"alpha", "alpha "}, {"alpha", " alpha"}, {"alpha", "alph"}, {"alpha", "alphabet"},
            {"alpha", "alpha\u0000"}, {"alpha", "\u0430lpha"}, {"alpha", ""}, {"", "x"}, {"alpha", "alpha/beta"}, {"a.b", "a"}, {"ALPHA", "alpha"}};
        for (String[] pair : lookalikes) {
            for (int direction = 0; direction < 2; direction++) {
                String from = pair[direction];
                String to = pair[1 - direction];
                Decision d = new Decision(newDeviceId(), from, newDeviceId(), to, false);
                if (ask(p, d, "[P2.3]")) {
                    fail("[P2.3] a device of network '" + from + "' may reach one of network '" + to + "': different networks must "
                            + "be isolated; compare names exactly (equals), without case folding, trimming or prefixes");
                }
            }
        }
    }

    /**
     * Rule P2.4 (docs/tck.md#p24). Needs {@link #symmetric()}. If this fails, the decision
     * depends on which side asks.
     */
    @Override
    @Test
    public void optional_P2_4_decisionsAreSymmetric() throws Throwable {
        assumeTrue(symmetric(), "symmetric() is false: the policy does not promise symmetric decisions");
        AccessPolicy p = create();
        for (Decision d : probes()) {
            Decision reverse = new Decision(d.to(), d.toNetwork(), d.from(), d.fromNetwork(), d.allowed());
            assertEquals(ask(p, d, "[P2.4]"), ask(p, reverse, "[P2.4]"), "[P2.4] mayConnect(" + d.from().shortForm() + "@'" + d.fromNetwork()
                    + "', " + d.to().shortForm() + "@'" + d.toNetwork() + "') differs from the reverse direction");
        }
    }

    /**
     * Rule P2.5 (docs/tck.md#p25). Network names an authenticator may hand out (empty, one
     * character, 10,000 characters, control and non-ASCII characters). If this fails, check code
     * that indexes into or splits network names.
     */
    @Override
    @Test
    public void required_P2_5_anyAdmittedInputIsDecided() throws Throwable {
        AccessPolicy p = create();
        List<String> names = List.of("", "x", "n".repeat(10_000), "\u0000", "caf\u00e9", "\uD83D\uDD12", "a:b/c", " ");
        for (String from : names) {
            for (String to : names) {
                ask(p, new Decision(newDeviceId(), from, newDeviceId(), to, false), "[P2.5]");
            }
        }
    }

    // ------------------------------------------------------------------ P3

    /**
     * Rule P3.1 (docs/tck.md#p31). Eight threads ask 5,000 times each; every answer must equal
     * the sequential one. If this fails, check for shared mutable state (an unsynchronised cache).
     */
    @Override
    @Test
    public void required_P3_1_concurrentCallsAgreeWithSequentialOnes() throws Throwable {
        AccessPolicy p = create();
        List<Decision> probes = probes();
        for (int i = 0; i < 40; i++) {
            probes.add(new Decision(newDeviceId(), "n" + (i % 3), newDeviceId(), "n" + (i % 5), false));
        }
        List<Boolean> expected = new ArrayList<>();
        for (Decision d : probes) {
            expected.add(ask(p, d, "[P3.1]"));
        }
        CountDownLatch go = new CountDownLatch(1);
        AtomicReference<Throwable> problem = new AtomicReference<>();
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            int offset = t * 7;
            Thread caller = new Thread(() -> {
                try {
                    go.await();
                    for (int i = 0; i < 5_000 && problem.get() == null; i++) {
                        int k = (i + offset) % probes.size();
                        Decision d = probes.get(k);
                        boolean got = p.mayConnect(d.from(), d.fromNetwork(), d.to(), d.toNetwork());
                        if (got != expected.get(k)) {
                            problem.compareAndSet(null, new AssertionError("[P3.1] under 8 concurrent callers mayConnect(" + d.from().shortForm()
                                    + "@'" + d.fromNetwork() + "', " + d.to().shortForm() + "@'" + d.toNetwork() + "') answered " + got
                                    + " where a single caller got " + expected.get(k) + ": the policy must be thread-safe"));
                        }
                    }
                } catch (Throwable e) {
                    problem.compareAndSet(null, new AssertionError("[P3.1] mayConnect threw under concurrent callers: " + e, e));
                }
            }, "tck-policy-" + t);
            caller.setDaemon(true);
            callers.add(caller);
            caller.start();
        }
        go.countDown();
        for (Thread caller : callers) {
            caller.join(timeout().toMillis());
            assertFalse(caller.isAlive(), "[P3.1] a caller did not finish within " + timeout() + " (mayConnect blocked?)");
        }
        if (problem.get() != null) {
            throw problem.get();
        }
    }

    /**
     * Rule P3.2 (docs/tck.md#p32), not verified: {@code mayConnect} runs for every introduction,
     * so lookups belong at start, not in each call.
     */
    @Override
    @Test
    public void untested_P3_2_noSlowWorkPerDecision() throws Throwable {
        Assumptions.abort("not verified by this TCK (work done per call cannot be told from its speed on one machine); see docs/tck.md");
    }
}
