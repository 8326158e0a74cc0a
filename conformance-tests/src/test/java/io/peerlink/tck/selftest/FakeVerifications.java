package io.peerlink.tck.selftest;

import io.peerlink.Endpoint;
import io.peerlink.spi.Transport;
import io.peerlink.tck.FailureInjector;
import io.peerlink.tck.TransportVerification;
import io.peerlink.tck.WireInjector;

import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;

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

    static class DuplicatesSome extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.DUPLICATES_SOME);
        }
    }

    static class ReordersAtEdge extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.REORDERS_AT_EDGE);
        }
    }

    static class CallsBackOnRefused extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.CALLS_BACK_ON_REFUSED);
        }
    }

    static class ClaimsAuthenticatedPeer extends Base {
        @Override
        Set<InMemoryNetwork.Flaw> flaws() {
            return EnumSet.of(InMemoryNetwork.Flaw.CLAIMS_AUTHENTICATED_PEER);
        }
    }

    /** The stream-framed TCP transport, with its hooks: fixed-port rebinding, raw wire access, breaking its listener. */
    abstract static class TcpBase extends TransportVerification {
        abstract Set<TcpFramedTransport.Flaw> flaws();

        @Override
        protected Transport createTransport() {
            return new TcpFramedTransport(Endpoint.parse("tcpf://127.0.0.1:0"), flaws());
        }

        @Override
        protected Transport createTransportBoundTo(Endpoint local) {
            return new TcpFramedTransport(local, flaws());
        }

        @Override
        protected FailureInjector failureInjector() {
            return t -> ((TcpFramedTransport) t).closeListenerUnderneath();
        }

        /** A fresh connection per injection: a valid hello, then the raw bytes, then close. */
        @Override
        protected WireInjector wireInjector() {
            return (target, raw) -> {
                try (SocketChannel c = SocketChannel.open(target.toSocketAddress())) {
                    ByteBuffer out = ByteBuffer.allocate(4 + raw.length).putShort((short) 0x504C).putShort((short) 1).put(raw).flip();
                    while (out.hasRemaining()) {
                        c.write(out);
                    }
                }
            };
        }

        @Override
        protected Duration timeout() {
            return Duration.ofSeconds(5);
        }
    }

    /** The correct TCP transport: must pass every rule, optional ones included. */
    static class TcpCorrect extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.noneOf(TcpFramedTransport.Flaw.class);
        }
    }

    static class TcpReordersUnderLoad extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.REORDERS_UNDER_LOAD);
        }
    }

    static class TcpDropsAFraction extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.DROPS_A_FRACTION);
        }
    }

    static class TcpAcceptsWhenFull extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.ACCEPTS_WHEN_FULL);
        }
    }

    static class TcpAssumesWholeFrames extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.ASSUMES_WHOLE_FRAMES_PER_READ);
        }
    }

    static class TcpUnreliableAssumesWholeFrames extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.ASSUMES_WHOLE_FRAMES_PER_READ, TcpFramedTransport.Flaw.DECLARES_UNRELIABLE);
        }
    }

    static class TcpLeaksListener extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.LEAKS_LISTENER_ON_STOP);
        }
    }

    static class TcpLeaksConnections extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.LEAKS_CONNECTIONS_ON_STOP);
        }
    }

    static class TcpLeavesReceiveThread extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.LEAVES_RECEIVE_THREAD_RUNNING);
        }
    }

    static class TcpUnboundedDecoder extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.UNBOUNDED_DECODER);
        }
    }

    static class TcpSilentSocketDeath extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.SILENT_SOCKET_DEATH);
        }
    }

    static class TcpForgetsBurstEnd extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.FORGETS_BURST_END);
        }
    }

    static class TcpForgetsCallbacksOnStop extends TcpBase {
        @Override
        Set<TcpFramedTransport.Flaw> flaws() {
            return EnumSet.of(TcpFramedTransport.Flaw.FORGETS_CALLBACKS_ON_STOP);
        }
    }
}
