package io.peerlink.tck;

import io.peerlink.Endpoint;

/**
 * Optional hook for rule T8.3: puts raw bytes on the transport's wire, below its framing (for
 * UDP a plain datagram socket; for a relay, raw bytes on its TCP connection), so the suite can
 * check that malformed input does not break the receiving transport. Supplied by
 * {@link TransportVerification#wireInjector()}.
 */
@FunctionalInterface
public interface WireInjector {

    /**
     * @param target the endpoint of the started transport under test
     * @param raw bytes to deliver as they are, possibly malformed for the transport's framing
     * @throws Exception if injecting fails (the test then fails: the hook is broken)
     */
    void inject(Endpoint target, byte[] raw) throws Exception;
}
