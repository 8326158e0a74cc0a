package io.peerlink.tck;

import io.peerlink.spi.Transport;

/**
 * Optional hook for rule T1.12: breaks a started transport underneath it the way the world does
 * (its socket closed by someone else, its broker connection cut), so the suite can check that the
 * transport notices, moves to STOPPED and reports through
 * {@link io.peerlink.spi.DatagramHandler#onTransportFailure(Throwable)}. Supplied by
 * {@link TransportVerification#failureInjector()}.
 */
@FunctionalInterface
public interface FailureInjector {

    /**
     * @param started a STARTED transport created by the suite
     * @throws Exception if breaking it fails (the test then fails: the hook is broken)
     */
    void breakUnderneath(Transport started) throws Exception;
}
