package io.peerlink.tck.selftest;

import io.peerlink.tck.TransportRules;

import org.junit.jupiter.api.Test;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

import java.lang.reflect.Method;
import java.util.Arrays;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The TCK tests itself: it runs {@link io.peerlink.tck.TransportVerification} against a correct
 * in-memory transport (everything required passes) and against deliberately broken ones, and
 * checks that each broken one fails the rule it breaks, for the right reason (the rule number and
 * the explanation in the failure message).
 */
class TransportVerificationSelfTest {

    private static final Set<String> RULES = Arrays.stream(TransportRules.class.getDeclaredMethods())
            .map(Method::getName).collect(Collectors.toUnmodifiableSet());

    /** Outcome of one verification run: test name to failure message (null when it passed). */
    private record Run(Map<String, String> failures, Set<String> succeeded, Map<String, String> skipped) {
    }

    private static Run run(Class<?> verification) {
        Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectClass(verification)).execute().testEvents();
        Map<String, String> failures = new TreeMap<>();
        for (Event e : tests.failed().list()) {
            Throwable t = e.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElseThrow();
            failures.put(name(e), describe(t));
        }
        Set<String> succeeded = tests.succeeded().stream().map(TransportVerificationSelfTest::name).collect(Collectors.toSet());
        Map<String, String> skipped = new TreeMap<>();
        for (Event e : tests.skipped().list()) {
            skipped.put(name(e), e.getPayload(String.class).orElse(""));
        }
        for (Event e : tests.aborted().list()) {
            Throwable t = e.getPayload(TestExecutionResult.class).flatMap(TestExecutionResult::getThrowable).orElseThrow();
            skipped.put(name(e), String.valueOf(t.getMessage()));
        }
        return new Run(failures, succeeded, skipped);
    }

    private static String name(Event e) {
        String display = e.getTestDescriptor().getDisplayName();
        return display.endsWith("()") ? display.substring(0, display.length() - 2) : display;
    }

    private static String describe(Throwable t) {
        StringBuilder b = new StringBuilder(String.valueOf(t.getMessage()));
        for (Throwable c = t.getCause(); c != null; c = c.getCause()) {
            b.append(" | cause: ").append(c.getMessage());
        }
        return b.toString();
    }

    private static void assertFailsBecause(Run run, String rule, String... reasonFragments) {
        String message = run.failures().get(rule);
        assertTrue(message != null, rule + " should have failed; failures were " + run.failures());
        for (String fragment : reasonFragments) {
            assertTrue(message.contains(fragment), rule + " failed, but not for the expected reason '" + fragment + "': " + message);
        }
    }

    @Test
    void everyRuleIsRunAsATest() {
        Run run = run(FakeVerifications.Correct.class);
        Set<String> ran = new java.util.HashSet<>(run.succeeded());
        ran.addAll(run.skipped().keySet());
        ran.addAll(run.failures().keySet());
        assertEquals(RULES, ran, "every TransportRules method must run as exactly one test");
    }

    @Test
    void correctFake_passesEveryRequiredRule() {
        Run run = run(FakeVerifications.Correct.class);
        assertEquals(Map.of(), run.failures(), "the correct in-memory transport must fail nothing");
        for (String rule : RULES) {
            if (rule.startsWith("required_") && !rule.equals("required_T7_3_ttlSendWithoutCapabilityIsUnsupported")) {
                assertTrue(run.succeeded().contains(rule), rule + " must pass on the correct fake; skipped: " + run.skipped());
            }
        }
        // The fake has no TTL control, so T7.3 applies and T7.1/T7.2 are skipped with a reason.
        assertTrue(run.succeeded().contains("required_T7_3_ttlSendWithoutCapabilityIsUnsupported"));
        assertEquals(Set.of("optional_T7_1_ttlControlSetsTtl", "optional_T7_2_ttlSendFollowsSendContract", "optional_T8_3_malformedWireInputIsHarmless"),
                run.skipped().keySet(), "only optional rules may be skipped");
        assertTrue(run.skipped().get("optional_T7_1_ttlControlSetsTtl").contains("does not declare ttlControl"));
        assertTrue(run.skipped().get("optional_T8_3_malformedWireInputIsHarmless").contains("wireInjector() returned null"));
    }

    @Test
    void blockingSend_shouldFailBy_sendBlocking() {
        Run run = run(FakeVerifications.BlocksInSend.class);
        assertFailsBecause(run, "required_T6_1_sendNeverBlocks", "[T6.1] send blocked", "ArrayBlockingQueue.put");
    }

    @Test
    void oversizedAccepted_shouldFailBy_noIllegalArgumentException() {
        Run run = run(FakeVerifications.AcceptsOversized.class);
        assertFailsBecause(run, "required_T4_2_oversizedDatagramIsRejected", "[T4.2]", "IllegalArgumentException");
        assertEquals(Set.of("required_T4_2_oversizedDatagramIsRejected"), run.failures().keySet(),
                "a missing size check breaks only T4.2: " + run.failures());
    }

    @Test
    void sendAfterStop_shouldFailBy_noIllegalStateException() {
        Run run = run(FakeVerifications.SendsAfterStop.class);
        assertFailsBecause(run, "required_T1_2_sendAfterStopFails", "[T1.2] send after stop must throw IllegalStateException");
    }

    @Test
    void corruptedBytes_shouldFailBy_contentMismatch() {
        Run run = run(FakeVerifications.CorruptsBytes.class);
        assertFailsBecause(run, "required_T2_1_roundTripDelivers", "[T2.1]", "did not arrive intact");
        assertFailsBecause(run, "required_T6_3_concurrentSendersNoCorruption", "[T6.3] a datagram arrived corrupted");
        assertFailsBecause(run, "required_T8_2_arbitraryBytesAreDeliveredUnchanged", "[T8.2]", "did not arrive intact");
    }

    @Test
    void callerBufferReadLater_shouldFailBy_bufferChangedAfterSend() {
        Run run = run(FakeVerifications.ReadsCallerBufferLater.class);
        assertFailsBecause(run, "required_T6_2_callerMayReuseBufferAfterSend", "[T6.2]", "read the caller's buffer after send returned");
    }

    @Test
    void handlerExceptionKillsReceiver_shouldFailBy_nothingReceivedAfterThrow() {
        Run run = run(FakeVerifications.DiesOnHandlerException.class);
        assertFailsBecause(run, "required_T6_5_handlerExceptionDoesNotStopReceiving", "[T6.5] after the handler threw", "did not arrive");
    }

    @Test
    void concurrentHandlerCalls_shouldFailBy_overlappingCallsCollectedFromTransportThreads() {
        Run run = run(FakeVerifications.CallsHandlerConcurrently.class);
        assertFailsBecause(run, "required_T6_6_handlerIsNotCalledConcurrently", "error(s) on transport or helper threads",
                "[T6.6]", "called concurrently");
    }

    @Test
    void deliveringAfterStop_shouldFailBy_handlerCalledAfterStopReturned() {
        Run run = run(FakeVerifications.DeliversAfterStop.class);
        assertFailsBecause(run, "required_T6_4_stopWhileReceivingIsClean", "[T6.4] the handler was called after stop() returned");
    }

    @Test
    void ignoringPositionAndLimit_shouldFailBy_wrongBytesAndUnsupportedBuffers() {
        Run run = run(FakeVerifications.IgnoresPositionAndLimit.class);
        assertFailsBecause(run, "required_T2_3_sendsOnlyBytesBetweenPositionAndLimit", "[T2.3] the receiver must get exactly the bytes between position and limit");
        assertFailsBecause(run, "required_T2_4_acceptsDirectAndReadOnlyBuffers", "[T2.4] send() of a direct buffer threw java.lang.UnsupportedOperationException");
    }
}
