package io.peerlink.core.internal.loop;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * The stage type PeerLink hands to applications. It completes on the callback executor (see
 * {@link Callbacks#expose}), so dependent actions never run on an event loop; its asynchronous
 * methods without an executor use the callback executor; and waiting for it ({@link #get()},
 * {@link #join()}, ...) on an event loop thread fails at once with a
 * {@link BlockingOperationException} instead of freezing the device, unless it is already done.
 *
 * @param <T> the value type
 */
public final class CallbackFuture<T> extends CompletableFuture<T> {

    private final Executor callbacks;

    /** @param callbacks where dependent async actions run by default */
    public CallbackFuture(Executor callbacks) {
        this.callbacks = callbacks;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
        return new CallbackFuture<>(callbacks);
    }

    @Override
    public Executor defaultExecutor() {
        return callbacks;
    }

    private void checkNotOnLoop(String what) {
        if (!isDone() && EventLoop.onAnyLoop()) {
            throw new BlockingOperationException(what);
        }
    }

    @Override
    public T get() throws InterruptedException, ExecutionException {
        checkNotOnLoop("get() on a PeerLink stage");
        return super.get();
    }

    @Override
    public T get(long timeout, TimeUnit unit) throws InterruptedException, ExecutionException, TimeoutException {
        checkNotOnLoop("get(timeout) on a PeerLink stage");
        return super.get(timeout, unit);
    }

    @Override
    public T join() {
        checkNotOnLoop("join() on a PeerLink stage");
        return super.join();
    }
}
