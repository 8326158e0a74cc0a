package io.peerlink.tck.selftest;

import io.peerlink.tck.AccessPolicyRules;
import io.peerlink.tck.AuthenticatorRules;

import org.junit.jupiter.api.Test;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static io.peerlink.tck.selftest.TransportVerificationSelfTest.assertFailsBecause;
import static io.peerlink.tck.selftest.TransportVerificationSelfTest.run;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * The admission suites test themselves: {@link io.peerlink.tck.AuthenticatorVerification} and
 * {@link io.peerlink.tck.AccessPolicyVerification} pass a correct plug-in and fail each broken one
 * on the rule it breaks, for the right reason.
 */
class AdmissionVerificationSelfTest {

    private static Set<String> rules(Class<?> rules) {
        return Arrays.stream(rules.getDeclaredMethods()).map(Method::getName).collect(Collectors.toUnmodifiableSet());
    }

    private static TransportVerificationSelfTest.Run auth(AdmissionFakes.AuthFlaw flaw, String rule) {
        AdmissionFakes.AuthFlawed.flaw = flaw;
        return run(AdmissionFakes.AuthFlawed.class, rule);
    }

    private static TransportVerificationSelfTest.Run policy(AdmissionFakes.PolicyFlaw flaw, String rule) {
        AdmissionFakes.PolicyFlawed.flaw = flaw;
        return run(AdmissionFakes.PolicyFlawed.class, rule);
    }

    @Test
    void correctAuthenticator_passesEveryRule() {
        TransportVerificationSelfTest.Run run = run(AdmissionFakes.AuthCorrect.class);
        assertEquals(Map.of(), run.failures());
        Set<String> ran = new HashSet<>(run.succeeded());
        ran.addAll(run.skipped().keySet());
        assertEquals(rules(AuthenticatorRules.class), ran, "every AuthenticatorRules method runs as a test");
        assertEquals(Set.of("untested_A3_2_noSlowWorkPerRequest"), run.skipped().keySet());
        assertTrue(run.skipped().get("untested_A3_2_noSlowWorkPerRequest").contains("not verified by this TCK"));
    }

    @Test
    void authenticatorFlaws_shouldFailBy_theRuleTheyBreak() {
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.UNSTABLE_NAME, "required_A1_1_nameIsStable"), "required_A1_1_nameIsStable", "[A1.1]", "same name");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.NO_NULL_CHECK, "required_A1_2_nullRequestFails"), "required_A1_2_nullRequestFails",
                "[A1.2] authenticate(null) must throw NullPointerException");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.WRONG_NETWORK, "required_A2_1_enrolledDeviceIsAdmittedIntoItsNetwork"),
                "required_A2_1_enrolledDeviceIsAdmittedIntoItsNetwork", "[A2.1]", "must be admitted into its network");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.ADMITS_UNKNOWN, "required_A2_2_unknownDeviceIsDenied"), "required_A2_2_unknownDeviceIsDenied",
                "[A2.2] unknown device", "was admitted", "must be denied");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.NULL_FOR_UNKNOWN, "required_A2_2_unknownDeviceIsDenied"), "required_A2_2_unknownDeviceIsDenied",
                "[A2.2] authenticate() returned null");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.TRUSTS_CLAIMED_IDENTITY, "required_A2_3_credentialsAreBoundToTheProvenIdentity"),
                "required_A2_3_credentialsAreBoundToTheProvenIdentity", "[A2.3] unknown device", "presenting the credentials of", "must be denied");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.TRUSTS_GROUP_CLAIM, "required_A2_4_claimsCannotChooseTheNetwork"),
                "required_A2_4_claimsCannotChooseTheNetwork", "[A2.4]", "claiming group=", "must not choose the network");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.THROWS_ON_MALFORMED_TOKEN, "required_A2_4_claimsCannotChooseTheNetwork"),
                "required_A2_4_claimsCannotChooseTheNetwork", "[A2.4] authenticate() threw", "IllegalArgumentException", "never throw");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.LEAKS_SECRET_IN_REASON, "optional_A2_5_denialReasonKeepsSecrets"),
                "optional_A2_5_denialReasonKeepsSecrets", "[A2.5] a denial reason discloses a secret");
        assertFailsBecause(auth(AdmissionFakes.AuthFlaw.SHARES_ONE_MAC, "required_A3_1_concurrentCallsAgreeWithSequentialOnes"),
                "required_A3_1_concurrentCallsAgreeWithSequentialOnes", "[A3.1]", "concurrent");
    }

    @Test
    void correctPolicy_passesEveryRule() {
        TransportVerificationSelfTest.Run run = run(AdmissionFakes.PolicyCorrect.class);
        assertEquals(Map.of(), run.failures());
        Set<String> ran = new HashSet<>(run.succeeded());
        ran.addAll(run.skipped().keySet());
        assertEquals(rules(AccessPolicyRules.class), ran, "every AccessPolicyRules method runs as a test");
        assertEquals(Set.of("untested_P3_2_noSlowWorkPerDecision"), run.skipped().keySet());
    }

    @Test
    void policyFlaws_shouldFailBy_theRuleTheyBreak() {
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.UNSTABLE_NAME, "required_P1_1_nameIsStable"), "required_P1_1_nameIsStable", "[P1.1]");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.ALLOWS_ALL, "optional_P2_1_expectedDecisionsHold"), "optional_P2_1_expectedDecisionsHold",
                "[P2.1]", "must be false");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.COMPARES_WITH_IDENTITY, "required_P2_2_decisionsAreValueBased"),
                "required_P2_2_decisionsAreValueBased", "[P2.2]", "never ==");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.IGNORES_CASE, "optional_P2_3_networksAreIsolated"), "optional_P2_3_networksAreIsolated",
                "[P2.3] a device of network", "must be isolated");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.PREFIX_MATCH, "optional_P2_3_networksAreIsolated"), "optional_P2_3_networksAreIsolated",
                "[P2.3]", "without case folding, trimming or prefixes");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.ONE_WAY, "optional_P2_4_decisionsAreSymmetric"), "optional_P2_4_decisionsAreSymmetric",
                "[P2.4]", "differs from the reverse direction");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.THROWS_ON_EMPTY_NETWORK, "required_P2_5_anyAdmittedInputIsDecided"),
                "required_P2_5_anyAdmittedInputIsDecided", "[P2.5] mayConnect threw", "StringIndexOutOfBoundsException");
        assertFailsBecause(policy(AdmissionFakes.PolicyFlaw.SHARED_KEY_BUFFER, "required_P3_1_concurrentCallsAgreeWithSequentialOnes"),
                "required_P3_1_concurrentCallsAgreeWithSequentialOnes", "[P3.1]", "concurrent");
    }
}
