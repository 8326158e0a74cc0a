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
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectMethod;

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
    record Run(Map<String, String> failures, Set<String> succeeded, Map<String, String> skipped) {
    }

    static Run run(Class<?> verification, String... rules) {
        org.junit.platform.engine.DiscoverySelector[] selectors = rules.length == 0
                ? new org.junit.platform.engine.DiscoverySelector[] {selectClass(verification)}
                : Arrays.stream(rules).map(r -> selectMethod(verification, r)).toArray(org.junit.platform.engine.DiscoverySelector[]::new);
        Events tests = EngineTestKit.engine("junit-jupiter").selectors(selectors).execute().testEvents();
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

    static void assertFailsBecause(Run run, String rule, String... reasonFragments) {
        String message = run.failures().get(rule);
        assertTrue(message != null, rule + " should have failed; failures were " + run.failures());
        for (String fragment : reasonFragments) {
            assertTrue(message.contains(fragment), rule + " failed, but not for the expected reason '" + fragment + "': " + message);
        }
    }

    private static Run correctRun;

    private static synchronized Run correctRun() {
        if (correctRun == null) {
            correctRun = run(FakeVerifications.Correct.class);
        }
        return correctRun;
    }

    @Test
    void everyRuleIsRunAsATest() {
        Run run = correctRun();
        Set<String> ran = new java.util.HashSet<>(run.succeeded());
        ran.addAll(run.skipped().keySet());
        ran.addAll(run.failures().keySet());
        assertEquals(RULES, ran, "every TransportRules method must run as exactly one test");
    }

    @Test
    void correctFake_passesEveryRequiredRule() {
        Run run = correctRun();
        assertEquals(Map.of(), run.failures(), "the correct in-memory transport must fail nothing");
        for (String rule : RULES) {
            if (rule.startsWith("required_") && !rule.equals("required_T7_3_ttlSendWithoutCapabilityIsUnsupported")) {
                assertTrue(run.succeeded().contains(rule), rule + " must pass on the correct fake; skipped: " + run.skipped());
            }
        }
        // The fake has no TTL control, so T7.3 applies and T7.1/T7.2 are skipped with a reason.
        assertTrue(run.succeeded().contains("required_T7_3_ttlSendWithoutCapabilityIsUnsupported"));
        Set<String> skippable = new java.util.HashSet<>(Set.of("optional_T7_1_ttlControlSetsTtl", "optional_T7_2_ttlSendFollowsSendContract",
                "optional_T8_3_malformedWireInputIsHarmless", "optional_T8_4_hostileFramingIsRejected", "optional_T1_10_restartOnFixedPort",
                "optional_T1_12_failureIsReported", "optional_T9_6_authenticatedPeerIsReported",
                "optional_T11_3_burstEndFollowsDeliveries"));
        RULES.stream().filter(r -> r.startsWith("untested_")).forEach(skippable::add);
        assertEquals(skippable, run.skipped().keySet(), "only optional rules (without their hook or capability) and untested ones may be skipped");
        for (String rule : RULES) {
            if (rule.startsWith("untested_")) {
                assertTrue(run.skipped().get(rule).contains("not verified by this TCK"), rule + ": " + run.skipped().get(rule));
            }
        }
        assertTrue(run.skipped().get("optional_T7_1_ttlControlSetsTtl").contains("does not declare ttlControl"));
        assertTrue(run.skipped().get("optional_T8_3_malformedWireInputIsHarmless").contains("wireInjector() returned null"));
    }

    @Test
    void blockingSend_shouldFailBy_sendBlocking() {
        Run run = run(FakeVerifications.BlocksInSend.class, "required_T6_1_sendNeverBlocks");
        assertFailsBecause(run, "required_T6_1_sendNeverBlocks", "[T6.1] send blocked", "ArrayBlockingQueue.put");
    }

    @Test
    void oversizedAccepted_shouldFailBy_noIllegalArgumentException() {
        Run run = run(FakeVerifications.AcceptsOversized.class);
        assertFailsBecause(run, "required_T4_2_oversizedDatagramIsRejected", "[T4.2]", "IllegalArgumentException");
        assertFailsBecause(run, "required_T10_2_refusedSendNeverCallsBack", "[T10.2] an oversized send with a callback must throw IllegalArgumentException");
        assertEquals(Set.of("required_T4_2_oversizedDatagramIsRejected", "required_T10_2_refusedSendNeverCallsBack"), run.failures().keySet(),
                "a missing size check breaks only T4.2 and its callback variant T10.2: " + run.failures());
    }

    @Test
    void sendAfterStop_shouldFailBy_noIllegalStateException() {
        Run run = run(FakeVerifications.SendsAfterStop.class, "required_T1_2_sendAfterStopFails");
        assertFailsBecause(run, "required_T1_2_sendAfterStopFails", "[T1.2] send after stop must throw IllegalStateException");
    }

    @Test
    void corruptedBytes_shouldFailBy_contentMismatch() {
        Run run = run(FakeVerifications.CorruptsBytes.class, "required_T2_1_roundTripDelivers", "required_T6_3_concurrentSendersNoCorruption", "required_T8_2_arbitraryBytesAreDeliveredUnchanged");
        assertFailsBecause(run, "required_T2_1_roundTripDelivers", "[T2.1]", "did not arrive intact");
        assertFailsBecause(run, "required_T6_3_concurrentSendersNoCorruption", "[T6.3] a datagram arrived corrupted");
        assertFailsBecause(run, "required_T8_2_arbitraryBytesAreDeliveredUnchanged", "[T8.2]", "did not arrive intact");
    }

    @Test
    void callerBufferReadLater_shouldFailBy_bufferChangedAfterSend() {
        Run run = run(FakeVerifications.ReadsCallerBufferLater.class, "required_T6_2_callerMayReuseBufferAfterSend");
        assertFailsBecause(run, "required_T6_2_callerMayReuseBufferAfterSend", "[T6.2]", "read the caller's buffer after send returned");
    }

    @Test
    void handlerExceptionKillsReceiver_shouldFailBy_nothingReceivedAfterThrow() {
        Run run = run(FakeVerifications.DiesOnHandlerException.class, "required_T6_5_handlerExceptionDoesNotStopReceiving");
        assertFailsBecause(run, "required_T6_5_handlerExceptionDoesNotStopReceiving", "[T6.5] after the handler threw", "did not arrive");
    }

    @Test
    void concurrentHandlerCalls_shouldFailBy_overlappingCallsCollectedFromTransportThreads() {
        Run run = run(FakeVerifications.CallsHandlerConcurrently.class, "required_T6_6_handlerIsNotCalledConcurrently");
        assertFailsBecause(run, "required_T6_6_handlerIsNotCalledConcurrently", "error(s) on transport or helper threads",
                "[T6.6]", "called concurrently");
    }

    @Test
    void deliveringAfterStop_shouldFailBy_handlerCalledAfterStopReturned() {
        Run run = run(FakeVerifications.DeliversAfterStop.class, "required_T6_4_stopWhileReceivingIsClean");
        assertFailsBecause(run, "required_T6_4_stopWhileReceivingIsClean", "[T6.4] the handler was called after stop() returned");
    }

    @Test
    void ignoringPositionAndLimit_shouldFailBy_wrongBytesAndUnsupportedBuffers() {
        Run run = run(FakeVerifications.IgnoresPositionAndLimit.class, "required_T2_3_sendsOnlyBytesBetweenPositionAndLimit", "required_T2_4_acceptsDirectAndReadOnlyBuffers");
        assertFailsBecause(run, "required_T2_3_sendsOnlyBytesBetweenPositionAndLimit", "[T2.3] the receiver must get exactly the bytes between position and limit");
        assertFailsBecause(run, "required_T2_4_acceptsDirectAndReadOnlyBuffers", "[T2.4] send() of a direct buffer threw java.lang.UnsupportedOperationException");
    }

    // ------------------------------------------------------------------ rules added for declared capabilities, resources, callbacks

    @Test
    void tcpCorrect_passesEveryRuleItsHooksEnable() {
        Run run = run(FakeVerifications.TcpCorrect.class);
        assertEquals(Map.of(), run.failures(), "the correct TCP-framed transport must fail nothing");
        Set<String> skipped = run.skipped().keySet();
        for (String rule : RULES) {
            boolean mayBeSkipped = rule.startsWith("untested_") || rule.contains("_T7_1_") || rule.contains("_T7_2_")
                    || rule.contains("_T9_6_");
            assertTrue(mayBeSkipped || run.succeeded().contains(rule), rule + " must pass on the correct TCP transport; skipped: " + run.skipped());
        }
        assertTrue(skipped.stream().allMatch(r -> r.startsWith("untested_") || r.startsWith("optional_T7_") || r.startsWith("optional_T9_6")), skipped::toString);
    }

    @Test
    void declaresReceiveBurstsButNeverEndsOne_shouldFailBy_deliveriesWithoutBurstEnd() {
        Run run = run(FakeVerifications.TcpForgetsBurstEnd.class, "optional_T11_3_burstEndFollowsDeliveries");
        assertFailsBecause(run, "optional_T11_3_burstEndFollowsDeliveries", "[T11.3] the transport declares receiveBursts",
                "were not followed by onBurstEnd");
    }

    @Test
    void orderedButReordersUnderLoad_shouldFailBy_outOfOrderDelivery() {
        Run run = run(FakeVerifications.TcpReordersUnderLoad.class, "optional_T9_1_orderedAcrossConcurrentSenders");
        assertFailsBecause(run, "optional_T9_1_orderedAcrossConcurrentSenders", "[T9.1] the transport declares ordered", "reordered under load");
    }

    @Test
    void orderedButReordersAtBackPressureEdge_shouldFailBy_outOfOrderAfterRefusals() {
        Run run = run(FakeVerifications.ReordersAtEdge.class, "optional_T9_2_orderedAtBackPressureEdge");
        assertFailsBecause(run, "optional_T9_2_orderedAtBackPressureEdge", "[T9.2] the transport declares ordered", "at the back-pressure edge");
    }

    @Test
    void reliableButDropsAFraction_shouldFailBy_missingAcceptedDatagrams() {
        Run run = run(FakeVerifications.TcpDropsAFraction.class, "optional_T9_3_reliableDeliversEveryAcceptedDatagramOnce");
        assertFailsBecause(run, "optional_T9_3_reliableDeliversEveryAcceptedDatagramOnce", "[T9.3] the transport declares reliable",
                "accepted datagrams never arrived");
    }

    @Test
    void reliableButTrueWhileDroppingWhenFull_shouldFailBy_acceptedButLostAtTheEdge() {
        Run run = run(FakeVerifications.TcpAcceptsWhenFull.class, "optional_T9_4_reliableAtBufferFullEdge");
        assertFailsBecause(run, "optional_T9_4_reliableAtBufferFullEdge", "[T9.4] the transport declares reliable",
                "never true while dropping");
    }

    @Test
    void assumesWholeFramesPerRead_shouldFailBy_partialReadsBreakingMaxSizeDatagrams() {
        Run run = run(FakeVerifications.TcpAssumesWholeFrames.class, "required_T4_3_maxSizeDatagramsBackToBack");
        assertFailsBecause(run, "required_T4_3_maxSizeDatagramsBackToBack", "[T4.3]");
        assertTrue(run.failures().get("required_T4_3_maxSizeDatagramsBackToBack").matches(
                "(?s).*(arrived corrupted|assumes each read holds whole frames|lost its framing).*"), run.failures()::toString);
    }

    @Test
    void assumesWholeFramesWhileDeclaringUnreliable_shouldFailBy_lostFramingNotHiddenByToleratedLoss() {
        Run run = run(FakeVerifications.TcpUnreliableAssumesWholeFrames.class, "required_T4_3_maxSizeDatagramsBackToBack");
        assertFailsBecause(run, "required_T4_3_maxSizeDatagramsBackToBack", "[T4.3]");
        assertTrue(run.failures().get("required_T4_3_maxSizeDatagramsBackToBack").matches("(?s).*(arrived corrupted|assumes each read holds whole frames|lost its framing).*"),
                run.failures()::toString);
    }

    @Test
    void stopLeaksListeningSocket_shouldFailBy_portStillBoundAndDescriptorsHeld() {
        Run run = run(FakeVerifications.TcpLeaksListener.class, "optional_T1_10_restartOnFixedPort", "required_T1_11_stopAndDestroyReleaseResources");
        assertFailsBecause(run, "optional_T1_10_restartOnFixedPort", "[T1.10]", "could not start after the previous one's stop()", "BindException");
        assertFailsBecause(run, "required_T1_11_stopAndDestroyReleaseResources", "[T1.11]", "after stop() of both transports", "socket descriptor");
    }

    @Test
    void stopLeaksConnections_shouldFailBy_socketsAndThreadsHeldAfterStop() {
        Run run = run(FakeVerifications.TcpLeaksConnections.class, "required_T1_11_stopAndDestroyReleaseResources");
        assertFailsBecause(run, "required_T1_11_stopAndDestroyReleaseResources", "[T1.11]", "after stop() of both transports",
                "socket descriptor", "thread 'tcpf-");
    }

    @Test
    void stopLeavesReceiveThreadRunning_shouldFailBy_threadStillRunningAfterStop() {
        Run run = run(FakeVerifications.TcpLeavesReceiveThread.class, "required_T1_11_stopAndDestroyReleaseResources");
        assertFailsBecause(run, "required_T1_11_stopAndDestroyReleaseResources", "[T1.11]", "thread 'tcpf-accept-", "still running");
    }

    @Test
    void unboundedFrameDecoder_shouldFailBy_exceptionEscapingOnHostileLengths() {
        Run run = run(FakeVerifications.TcpUnboundedDecoder.class, "optional_T8_4_hostileFramingIsRejected");
        assertFailsBecause(run, "optional_T8_4_hostileFramingIsRejected", "[T8.4]");
        assertTrue(run.failures().get("optional_T8_4_hostileFramingIsRejected").matches(
                "(?s).*(report a failure of its own|uncaught).*"), run.failures()::toString);
    }

    @Test
    void socketDiesSilently_shouldFailBy_noTransportFailureReported() {
        Run run = run(FakeVerifications.TcpSilentSocketDeath.class, "optional_T1_12_failureIsReported");
        assertFailsBecause(run, "optional_T1_12_failureIsReported", "[T1.12]", "onTransportFailure was not called");
    }

    @Test
    void stopForgetsQueuedCallbacks_shouldFailBy_acceptedSendNeverCompleted() {
        Run run = run(FakeVerifications.TcpForgetsCallbacksOnStop.class, "required_T10_3_pendingCallbacksCompleteOnStop");
        assertFailsBecause(run, "required_T10_3_pendingCallbacksCompleteOnStop", "[T10.3]", "never had their callback called");
    }

    @Test
    void callbackOnRefusedSend_shouldFailBy_refusedSendCalledBack() {
        Run run = run(FakeVerifications.CallsBackOnRefused.class, "required_T10_1_callbackExactlyOncePerAcceptedSend");
        assertFailsBecause(run, "required_T10_1_callbackExactlyOncePerAcceptedSend", "[T10.1]", "returned false", "must never call back");
    }

    @Test
    void authenticatedPeerWithoutCapability_shouldFailBy_undeclaredPeerIdentity() {
        Run run = run(FakeVerifications.ClaimsAuthenticatedPeer.class, "required_T9_5_noAuthenticatedPeerWithoutPeerAuthentication");
        assertFailsBecause(run, "required_T9_5_noAuthenticatedPeerWithoutPeerAuthentication", "[T9.5]",
                "although the transport does not declare peerAuthentication");
    }

    @Test
    void duplicateDelivery_shouldFailBy_duplicateNotBlamedOnBufferReuse() {
        Run run = run(FakeVerifications.DuplicatesSome.class, "required_T6_2_callerMayReuseBufferAfterSend");
        assertFailsBecause(run, "required_T6_2_callerMayReuseBufferAfterSend", "[T6.2]", "delivered a datagram more than once");
        assertTrue(!run.failures().get("required_T6_2_callerMayReuseBufferAfterSend").contains("read the caller's buffer"),
                "a duplicate must not be blamed on buffer reuse: " + run.failures());
    }
}
