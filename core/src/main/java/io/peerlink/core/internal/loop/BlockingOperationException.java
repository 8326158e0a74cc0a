package io.peerlink.core.internal.loop;

/**
 * Thrown when code running on a device's event loop waits for a PeerLink stage or blocks in
 * another way that only the loop itself could end: waiting there would freeze every link of the
 * device (Netty's {@code BlockingOperationException} has the same purpose). Callbacks run on the
 * device's callback executor, where waiting is allowed; this is seen only when an application
 * configures a callback executor that runs tasks on the calling thread, or chains non-async
 * actions in a way that lands on the loop.
 */
public final class BlockingOperationException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    /** @param what the blocking operation attempted */
    public BlockingOperationException(String what) {
        super(what + " on the device's event loop thread " + Thread.currentThread().getName()
                + ": it would wait for work only this thread can do. Wait on another thread, or use the stage's"
                + " asynchronous methods (thenAccept, whenComplete) instead");
    }
}
