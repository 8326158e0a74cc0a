package io.peerlink.core.internal.channel;

import io.peerlink.CloseReason;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/**
 * The graceful close (docs/protocol-channel.md section 5) as a small state machine: once a close
 * was requested here or CLOSE(NORMAL) came from the peer, and the sender is drained, CLOSE(NORMAL)
 * goes out and is re-sent with PTO backoff until the peer's answer; the whole handshake has a
 * deadline. Also remembers the CLOSE a closed channel repeats (at most {@link #MAX_CLOSE_REPLIES}
 * times) to packets that still arrive. The engine decides when the channel finishes. Loop-confined.
 */
final class CloseHandshake {
    static final int MAX_CLOSE_REPLIES = 8;

    private boolean requested;
    private boolean peerClosed;
    private long deadline = Long.MAX_VALUE;
    private boolean framePending;
    private boolean sent;
    private long resendAt = Long.MAX_VALUE;
    private int resends;
    private int code = -1;
    private byte[] reason = new byte[0];
    private int repliesLeft = MAX_CLOSE_REPLIES;

    /**
     * The application asked for a graceful close.
     *
     * @return false if it had already asked
     */
    boolean request(long now, long timeoutNanos) {
        if (requested) {
            return false;
        }
        requested = true;
        startDeadline(now, timeoutNanos);
        return true;
    }

    /** The peer sent CLOSE(NORMAL). */
    void onPeerClose(long now, long timeoutNanos) {
        peerClosed = true;
        startDeadline(now, timeoutNanos);
    }

    private void startDeadline(long now, long timeoutNanos) {
        if (deadline == Long.MAX_VALUE) {
            deadline = RttEstimator.saturatedAdd(now, timeoutNanos);
        }
    }

    /** @return true if either side began closing */
    boolean active() {
        return requested || peerClosed;
    }

    boolean requested() {
        return requested;
    }

    boolean peerClosed() {
        return peerClosed;
    }

    /** @return true once our CLOSE is queued or sent: new messages are refused */
    boolean refusesSends() {
        return sent || framePending;
    }

    /**
     * Queues CLOSE(NORMAL) if the handshake is under way and everything of ours is acknowledged.
     *
     * @param drained the sender has nothing left
     */
    void maybeStart(boolean drained, long now, long ptoNanos) {
        if (!active() || sent || framePending || !drained) {
            return;
        }
        code = CloseReason.NORMAL;
        reason = new byte[0];
        framePending = true;
        resendAt = RttEstimator.saturatedAdd(now, ptoNanos);
    }

    boolean framePending() {
        return framePending;
    }

    /**
     * Writes the pending CLOSE if it fits.
     *
     * @return true if written
     */
    boolean writeFrame(ByteBuffer b) {
        if (!framePending || FrameCodec.closeSize(code, reason) > b.remaining()) {
            return false;
        }
        FrameCodec.encodeClose(b, code, reason);
        framePending = false;
        sent = true;
        return true;
    }

    /** @return true if our CLOSE(NORMAL) went out (the peer's CLOSE then ends the handshake) */
    boolean sent() {
        return sent;
    }

    /** @return true if writing our CLOSE answers the peer's: the channel is then finished */
    boolean answersPeer() {
        return peerClosed && code == CloseReason.NORMAL;
    }

    /** Timer: time to re-send our CLOSE? */
    void onTimer(long now, long ptoNanos) {
        if (sent && now >= resendAt) {
            framePending = true;
            resends++;
            resendAt = RttEstimator.saturatedAdd(now, ptoNanos << Math.min(resends, 8));
        }
    }

    /** @return the handshake's deadline and next re-send, whichever is earlier */
    long nextDeadline() {
        return sent ? Math.min(deadline, resendAt) : deadline;
    }

    /** @return when the handshake gives up, Long.MAX_VALUE if not under way */
    long deadline() {
        return deadline;
    }

    /**
     * An abortive close: this code and reason are what a closed channel repeats.
     *
     * @return the reason's bytes
     */
    byte[] abortWith(int closeCode, String closeReason) {
        code = closeCode;
        reason = closeReason.getBytes(StandardCharsets.UTF_8);
        return reason;
    }

    /** The peer ended the channel abortively: nothing to repeat. */
    void forget() {
        code = -1;
    }

    /** @return true if a closed channel may answer one more packet with its CLOSE (uses one up) */
    boolean takeReply() {
        if (code < 0 || repliesLeft <= 0) {
            return false;
        }
        repliesLeft--;
        return true;
    }

    int code() {
        return code;
    }

    byte[] reason() {
        return reason;
    }
}
