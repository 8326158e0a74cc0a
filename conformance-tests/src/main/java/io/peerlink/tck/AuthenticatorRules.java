package io.peerlink.tck;

/**
 * Every rule of the authenticator conformance suite, one method per rule, named
 * {@code <strength>_A<section>_<rule>_<behaviour>}; {@link AuthenticatorVerification} implements
 * it, so a rule without a test does not compile. The rules are written once in
 * {@code docs/tck.md}.
 */
public interface AuthenticatorRules {

    /**
     * A1.1 name() is non-blank, has no whitespace, and is the same on every call and instance.
     *
     * @throws Throwable on violation
     */
    void required_A1_1_nameIsStable() throws Throwable;

    /**
     * A1.2 authenticate(null) throws NullPointerException.
     *
     * @throws Throwable on violation
     */
    void required_A1_2_nullRequestFails() throws Throwable;

    /**
     * A2.1 every enrolled device presenting its credentials is admitted into its own network.
     *
     * @throws Throwable on violation
     */
    void required_A2_1_enrolledDeviceIsAdmittedIntoItsNetwork() throws Throwable;

    /**
     * A2.2 an unknown device is denied with a reason, whatever its claims and address.
     *
     * @throws Throwable on violation
     */
    void required_A2_2_unknownDeviceIsDenied() throws Throwable;

    /**
     * A2.3 credentials copied to another identity admit nobody into the victim's network.
     *
     * @throws Throwable on violation
     */
    void required_A2_3_credentialsAreBoundToTheProvenIdentity() throws Throwable;

    /**
     * A2.4 claims cannot choose another network, and malformed claims are denied, never thrown.
     *
     * @throws Throwable on violation
     */
    void required_A2_4_claimsCannotChooseTheNetwork() throws Throwable;

    /**
     * A2.5 denial reasons never contain a secret.
     *
     * @throws Throwable on violation
     */
    void optional_A2_5_denialReasonKeepsSecrets() throws Throwable;

    /**
     * A3.1 concurrent calls decide exactly as sequential ones.
     *
     * @throws Throwable on violation
     */
    void required_A3_1_concurrentCallsAgreeWithSequentialOnes() throws Throwable;

    /**
     * A3.2 (not verified) authenticate does no slow work (I/O, key fetching) per request.
     *
     * @throws Throwable on violation
     */
    void untested_A3_2_noSlowWorkPerRequest() throws Throwable;
}
