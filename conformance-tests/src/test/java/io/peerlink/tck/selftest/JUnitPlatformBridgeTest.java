package io.peerlink.tck.selftest;

import io.peerlink.tck.JUnitPlatformBridge;

import org.junit.jupiter.api.Test;
import org.junit.runner.JUnitCore;
import org.junit.runner.Result;
import org.junit.runner.RunWith;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * A JUnit 4-only runner (what Maven 3.8's default Surefire 2.12.4 is) runs the suites through
 * {@link JUnitPlatformBridge}, which the base classes name in an inherited {@code @RunWith}: every
 * rule is reported, failures included, and a run of no tests fails loudly.
 */
class JUnitPlatformBridgeTest {

    /** A verification-shaped class with no tests at all. */
    @RunWith(JUnitPlatformBridge.class)
    public static class NoTests {
    }

    @Test
    void junit4RunnerRunsEveryRuleThroughTheBridge() {
        Result result = JUnitCore.runClasses(AdmissionFakes.PolicyCorrect.class);
        assertEquals(0, result.getFailureCount(), () -> String.valueOf(result.getFailures()));
        assertEquals(8, result.getRunCount() + result.getIgnoreCount(), "every AccessPolicyRules test, run or skipped");
    }

    @Test
    void junit4RunnerReportsRuleFailuresThroughTheBridge() {
        AdmissionFakes.PolicyFlawed.flaw = AdmissionFakes.PolicyFlaw.IGNORES_CASE;
        Result result = JUnitCore.runClasses(AdmissionFakes.PolicyFlawed.class);
        assertTrue(result.getFailures().stream().anyMatch(f -> f.getMessage().contains("[P2.3]")), () -> String.valueOf(result.getFailures()));
    }

    @Test
    void runOfNoTestsFailsLoudly() {
        Result result = JUnitCore.runClasses(NoTests.class);
        assertEquals(1, result.getFailureCount(), () -> String.valueOf(result.getFailures()));
        assertTrue(result.getFailures().get(0).getDescription().getMethodName().equals("peerlinkConformanceSuiteRanNoTests"));
        assertTrue(result.getFailures().get(0).getMessage().contains("ran no test"));
    }
}
