package io.peerlink.core.internal.channel;

/**
 * A range of a message sent in one DATA frame; the unit of acknowledgement and retransmission.
 * When a retransmission no longer fits the path (a smaller MTU after migration) it is split into
 * children; an acknowledgement of the original then covers its children.
 */
final class Fragment {
    final OutboundMessage message;
    final int offset;
    final int length;
    boolean acked;
    boolean queued;
    /** Sent more than once (to tell a spurious retransmission when the first copy is acknowledged late). */
    boolean resent;
    Fragment[] children;

    Fragment(OutboundMessage message, int offset, int length) {
        this.message = message;
        this.offset = offset;
        this.length = length;
    }
}
