package io.peerlink.tck;

/**
 * Every rule of the transport conformance suite, one method per rule, named
 * {@code <strength>_T<section>_<rule>_<behaviour>}. {@link TransportVerification} implements this
 * interface, so a rule added here without a test does not compile. The rules are written once,
 * with their rationale, in {@code docs/tck.md}; the numbers here are the numbers there.
 *
 * <p>{@code required} rules hold for every transport. {@code optional} rules apply only when the
 * transport declares the capability (and, where noted, the implementer supplies a hook); otherwise
 * they are skipped with a message that says why. {@code untested} rules are part of the contract
 * but cannot be checked by the suite; their tests are always skipped with the reason, so a report
 * shows what is left to the implementer (as in the Reactive Streams TCK).
 */
public interface TransportRules {

    // T1 Lifecycle

    /**
     * T1.1 A new transport is CREATED, has no local endpoint, and constant capabilities.
     *
     * @throws Throwable on violation
     */
    void required_T1_1_newTransportIsCreated() throws Throwable;

    /**
     * T1.2 send after stop throws IllegalStateException.
     *
     * @throws Throwable on violation
     */
    void required_T1_2_sendAfterStopFails() throws Throwable;

    /**
     * T1.3 send before start throws IllegalStateException.
     *
     * @throws Throwable on violation
     */
    void required_T1_3_sendBeforeStartFails() throws Throwable;

    /**
     * T1.4 start while STARTED throws IllegalStateException and leaves the transport working.
     *
     * @throws Throwable on violation
     */
    void required_T1_4_startTwiceFails() throws Throwable;

    /**
     * T1.5 stop is idempotent and a no-op unless STARTED.
     *
     * @throws Throwable on violation
     */
    void required_T1_5_stopIsIdempotentAndOnlyActsWhenStarted() throws Throwable;

    /**
     * T1.6 a stopped transport can be started again and delivers to the new handler.
     *
     * @throws Throwable on violation
     */
    void required_T1_6_restartAfterStopDelivers() throws Throwable;

    /**
     * T1.7 destroy is final and idempotent from every state.
     *
     * @throws Throwable on violation
     */
    void required_T1_7_destroyIsFinal() throws Throwable;

    /**
     * T1.8 start(null) throws NullPointerException and changes nothing.
     *
     * @throws Throwable on violation
     */
    void required_T1_8_startWithNullHandlerFails() throws Throwable;

    /**
     * T1.9 localEndpoint is available exactly while STARTED.
     *
     * @throws Throwable on violation
     */
    void required_T1_9_localEndpointOnlyWhileStarted() throws Throwable;

    /**
     * T1.10 after stop or destroy, a new transport binds the same port and delivers.
     *
     * @throws Throwable on violation
     */
    void optional_T1_10_restartOnFixedPort() throws Throwable;

    /**
     * T1.11 stop and destroy release every socket, descriptor and thread the transport took.
     *
     * @throws Throwable on violation
     */
    void required_T1_11_stopAndDestroyReleaseResources() throws Throwable;

    /**
     * T1.12 a transport broken underneath moves to STOPPED and reports it once through onTransportFailure.
     *
     * @throws Throwable on violation
     */
    void optional_T1_12_failureIsReported() throws Throwable;

    // T2 Send and receive

    /**
     * T2.1 a datagram arrives intact with a source the receiver can reply to.
     *
     * @throws Throwable on violation
     */
    void required_T2_1_roundTripDelivers() throws Throwable;

    /**
     * T2.2 send advances the buffer's position to its limit and leaves the limit alone.
     *
     * @throws Throwable on violation
     */
    void required_T2_2_sendAdvancesPositionToLimit() throws Throwable;

    /**
     * T2.3 only the bytes between position and limit are sent, whatever the array offset.
     *
     * @throws Throwable on violation
     */
    void required_T2_3_sendsOnlyBytesBetweenPositionAndLimit() throws Throwable;

    /**
     * T2.4 direct and read-only buffers are sent like heap buffers.
     *
     * @throws Throwable on violation
     */
    void required_T2_4_acceptsDirectAndReadOnlyBuffers() throws Throwable;

    // T3 supports()

    /**
     * T3.1 supports() is true for a peer's endpoint.
     *
     * @throws Throwable on violation
     */
    void required_T3_1_supportsPeerEndpoint() throws Throwable;

    /**
     * T3.2 an unsupported endpoint: supports() is false and send throws IllegalArgumentException.
     *
     * @throws Throwable on violation
     */
    void required_T3_2_unsupportedEndpointIsRejected() throws Throwable;

    /**
     * T3.3 supports(null) throws NullPointerException.
     *
     * @throws Throwable on violation
     */
    void required_T3_3_supportsNullFails() throws Throwable;

    /**
     * T3.4 (not verified) supports and send never block on name resolution.
     *
     * @throws Throwable on violation
     */
    void untested_T3_4_noBlockingNameResolution() throws Throwable;

    // T4 Size limits

    /**
     * T4.1 a datagram of exactly maxDatagramSize bytes is accepted and delivered intact.
     *
     * @throws Throwable on violation
     */
    void required_T4_1_maxSizeDatagramIsAccepted() throws Throwable;

    /**
     * T4.2 one byte more is rejected with IllegalArgumentException; the transport keeps working.
     *
     * @throws Throwable on violation
     */
    void required_T4_2_oversizedDatagramIsRejected() throws Throwable;

    /**
     * T4.3 many max-size datagrams sent back to back arrive intact (partial reads).
     *
     * @throws Throwable on violation
     */
    void required_T4_3_maxSizeDatagramsBackToBack() throws Throwable;

    // T5 Arguments

    /**
     * T5.1 null arguments to send throw NullPointerException.
     *
     * @throws Throwable on violation
     */
    void required_T5_1_sendNullArgumentsFail() throws Throwable;

    // T6 Threading and buffer ownership

    /**
     * T6.1 send never blocks, even when the receiver does not read.
     *
     * @throws Throwable on violation
     */
    void required_T6_1_sendNeverBlocks() throws Throwable;

    /**
     * T6.2 the caller may overwrite the buffer as soon as send returns.
     *
     * @throws Throwable on violation
     */
    void required_T6_2_callerMayReuseBufferAfterSend() throws Throwable;

    /**
     * T6.3 many datagrams from several concurrent senders arrive uncorrupted.
     *
     * @throws Throwable on violation
     */
    void required_T6_3_concurrentSendersNoCorruption() throws Throwable;

    /**
     * T6.4 stop while datagrams pour in returns, and no handler call follows it.
     *
     * @throws Throwable on violation
     */
    void required_T6_4_stopWhileReceivingIsClean() throws Throwable;

    /**
     * T6.5 a handler that throws does not stop the transport from receiving.
     *
     * @throws Throwable on violation
     */
    void required_T6_5_handlerExceptionDoesNotStopReceiving() throws Throwable;

    /**
     * T6.6 the handler is never called concurrently with itself.
     *
     * @throws Throwable on violation
     */
    void required_T6_6_handlerIsNotCalledConcurrently() throws Throwable;

    // T7 TTL control

    /**
     * T7.1 with ttlControl, the TTL given to send is the TTL on the wire, and the default comes back.
     *
     * @throws Throwable on violation
     */
    void optional_T7_1_ttlControlSetsTtl() throws Throwable;

    /**
     * T7.2 with ttlControl, send with a TTL follows the send contract and checks the TTL range.
     *
     * @throws Throwable on violation
     */
    void optional_T7_2_ttlSendFollowsSendContract() throws Throwable;

    /**
     * T7.3 without ttlControl, send with a TTL throws UnsupportedOperationException.
     *
     * @throws Throwable on violation
     */
    void required_T7_3_ttlSendWithoutCapabilityIsUnsupported() throws Throwable;

    // T8 Bad input

    /**
     * T8.1 a zero-length datagram does not break either side.
     *
     * @throws Throwable on violation
     */
    void required_T8_1_zeroLengthDatagramIsHarmless() throws Throwable;

    /**
     * T8.2 arbitrary bytes are carried unchanged and do not break the transport.
     *
     * @throws Throwable on violation
     */
    void required_T8_2_arbitraryBytesAreDeliveredUnchanged() throws Throwable;

    /**
     * T8.3 malformed input injected on the wire does not break the transport.
     *
     * @throws Throwable on violation
     */
    void optional_T8_3_malformedWireInputIsHarmless() throws Throwable;

    /**
     * T8.4 hostile framing (bad lengths, truncated frames) is rejected without an exception escaping.
     *
     * @throws Throwable on violation
     */
    void optional_T8_4_hostileFramingIsRejected() throws Throwable;

    // T9 Declared capabilities

    /**
     * T9.1 with ordered, each sending thread's datagrams arrive in order under concurrent load.
     *
     * @throws Throwable on violation
     */
    void optional_T9_1_orderedAcrossConcurrentSenders() throws Throwable;

    /**
     * T9.2 with ordered, datagrams keep their order across the point where send returns false.
     *
     * @throws Throwable on violation
     */
    void optional_T9_2_orderedAtBackPressureEdge() throws Throwable;

    /**
     * T9.3 with reliable, 100,000 accepted datagrams arrive exactly once.
     *
     * @throws Throwable on violation
     */
    void optional_T9_3_reliableDeliversEveryAcceptedDatagramOnce() throws Throwable;

    /**
     * T9.4 with reliable, every datagram accepted at the buffer-full edge arrives, no refused one does.
     *
     * @throws Throwable on violation
     */
    void optional_T9_4_reliableAtBufferFullEdge() throws Throwable;

    /**
     * T9.5 without peerAuthentication, deliveries carry a non-null context with no authenticated peer.
     *
     * @throws Throwable on violation
     */
    void required_T9_5_noAuthenticatedPeerWithoutPeerAuthentication() throws Throwable;

    /**
     * T9.6 with peerAuthentication, deliveries carry the sender's authenticated identity.
     *
     * @throws Throwable on violation
     */
    void optional_T9_6_authenticatedPeerIsReported() throws Throwable;

    /**
     * T9.7 (not verified) relayed is declared exactly when datagrams pass an intermediary.
     *
     * @throws Throwable on violation
     */
    void untested_T9_7_relayedDeclaresAnIntermediary() throws Throwable;

    /**
     * T9.8 (not verified) a reliable transport loses nothing when a connection breaks and is re-established.
     *
     * @throws Throwable on violation
     */
    void untested_T9_8_reliableAcrossConnectionLoss() throws Throwable;

    // T10 Send completion

    /**
     * T10.1 every accepted send calls its callback exactly once; refused sends never.
     *
     * @throws Throwable on violation
     */
    void required_T10_1_callbackExactlyOncePerAcceptedSend() throws Throwable;

    /**
     * T10.2 a send that throws never calls its callback; a null callback is a NullPointerException.
     *
     * @throws Throwable on violation
     */
    void required_T10_2_refusedSendNeverCallsBack() throws Throwable;

    /**
     * T10.3 callbacks of sends still queued at stop are called exactly once.
     *
     * @throws Throwable on violation
     */
    void required_T10_3_pendingCallbacksCompleteOnStop() throws Throwable;

    /**
     * T10.4 (not verified) with sendCompletion, completed() means the next hop acknowledged.
     *
     * @throws Throwable on violation
     */
    void untested_T10_4_completionMeansNextHopAcknowledged() throws Throwable;

    // T11 Batches

    /**
     * T11.1 sendBatch sends exactly the selected datagrams, each intact, and consumes each buffer.
     *
     * @throws Throwable on violation
     */
    void required_T11_1_sendBatchDeliversEachDatagram() throws Throwable;

    /**
     * T11.2 sendBatch checks every argument before sending anything.
     *
     * @throws Throwable on violation
     */
    void required_T11_2_sendBatchChecksArgumentsFirst() throws Throwable;

    /**
     * T11.3 with receiveBursts, every delivery is followed by onBurstEnd, never concurrently with a delivery.
     *
     * @throws Throwable on violation
     */
    void optional_T11_3_burstEndFollowsDeliveries() throws Throwable;
}
