package io.peerlink.tck.selftest;

import io.peerlink.spi.Transport;
import io.peerlink.tck.TransportVerification;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Set;

/**
 * One {@link TransportVerification} per fake. Not named {@code *Test}: Surefire must not run them
 * directly (the broken ones fail on purpose); {@link TransportVerificationSelfTest} runs them
 * through the JUnit Platform's EngineTestKit.
 */
final class FakeVerifications {

    private FakeVerifications() {
    }

    abstract static class Base extends TransportVerification {
        private final InMemoryNetwork network = new InMemoryNetwork();

        abstract Set<InMemoryNetwork.Flaw> flaws();

        @Override
        protected Transport createTransport() {
            return network.create(flaws());
        }

        @Override
        protected Duration timeout() {
            return Duration.ofSeconds(5); // the broken fakes hit liveness bounds; keep the self-test quick
        }
    }

    /** The correct fake: must pass every required rule. */
    static class Correct extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.noneOf(InMemoryNetwork.Flaw.class);
        }
    }

    static class BlocksInSend extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.BLOCKS_IN_SEND);
        }
    }

    static class AcceptsOversized extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.ACCEPTS_OVERSIZED);
        }
    }

    static class SendsAfterStop extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.SENDS_AFTER_STOP);
        }
    }

    static class CorruptsBytes extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.CORRUPTS_BYTES);
        }
    }

    static class ReadsCallerBufferLater extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.READS_CALLER_BUFFER_LATER);
        }
    }

    static class DiesOnHandlerException extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.DIES_ON_HANDLER_EXCEPTION);
        }
    }

    static class CallsHandlerConcurrently extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.CALLS_HANDLER_CONCURRENTLY);
        }
    }

    static class DeliversAfterStop extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.DELIVERS_AFTER_STOP);
        }
    }

    static class IgnoresPositionAndLimit extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.IGNORES_POSITION_AND_LIMIT);
        }
    }
}
