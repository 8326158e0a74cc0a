package io.peerlink.tck;

/**
 * Every rule of the access-policy conformance suite, one method per rule, named
 * {@code <strength>_P<section>_<rule>_<behaviour>}; {@link AccessPolicyVerification} implements
 * it, so a rule without a test does not compile. The rules are written once in
 * {@code docs/tck.md}.
 */
public interface AccessPolicyRules {

    /**
     * P1.1 name() is non-blank, has no whitespace, and is the same on every call and instance.
     *
     * @throws Throwable on violation
     */
    void required_P1_1_nameIsStable() throws Throwable;

    /**
     * P2.1 the decisions the implementer expects are the decisions made.
     *
     * @throws Throwable on violation
     */
    void optional_P2_1_expectedDecisionsHold() throws Throwable;

    /**
     * P2.2 decisions depend on values only: equal copies of the arguments get the same answer, every time.
     *
     * @throws Throwable on violation
     */
    void required_P2_2_decisionsAreValueBased() throws Throwable;

    /**
     * P2.3 with isolatesNetworks, devices of different networks never connect, however alike the names.
     *
     * @throws Throwable on violation
     */
    void optional_P2_3_networksAreIsolated() throws Throwable;

    /**
     * P2.4 with symmetric, mayConnect(a, b) equals mayConnect(b, a).
     *
     * @throws Throwable on violation
     */
    void optional_P2_4_decisionsAreSymmetric() throws Throwable;

    /**
     * P2.5 any device IDs and network names (empty, long, non-ASCII) get an answer, never an exception.
     *
     * @throws Throwable on violation
     */
    void required_P2_5_anyAdmittedInputIsDecided() throws Throwable;

    /**
     * P3.1 concurrent calls decide exactly as sequential ones.
     *
     * @throws Throwable on violation
     */
    void required_P3_1_concurrentCallsAgreeWithSequentialOnes() throws Throwable;

    /**
     * P3.2 (not verified) mayConnect does no slow work per call.
     *
     * @throws Throwable on violation
     */
    void untested_P3_2_noSlowWorkPerDecision() throws Throwable;
}
