package io.peerlink.cdi;

import io.peerlink.DeviceId;
import io.peerlink.IncomingRequest;
import io.peerlink.PeerLink;

import java.util.concurrent.CompletionStage;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The {@link IncomingRequest} handed to observers: remembers whether one of them decided, so an
 * undecided request can be rejected instead of left to time out, and wires up the link an accept
 * produces.
 */
final class ObservedRequest implements IncomingRequest {
    private final IncomingRequest request;
    private final Function<PeerLink, PeerLink> onLink;
    private final AtomicBoolean decided = new AtomicBoolean();

    ObservedRequest(IncomingRequest request, Function<PeerLink, PeerLink> onLink) {
        this.request = request;
        this.onLink = onLink;
    }

    @Override
    public DeviceId from() {
        return request.from();
    }

    @Override
    public CompletionStage<PeerLink> accept() {
        decide();
        return request.accept().thenApply(onLink);
    }

    @Override
    public void reject(String reason) {
        decide();
        request.reject(reason);
    }

    boolean decided() {
        return decided.get();
    }

    private void decide() {
        if (!decided.compareAndSet(false, true)) {
            throw new IllegalStateException("the request from " + request.from() + " was already accepted or rejected");
        }
    }

    @Override
    public String toString() {
        return "IncomingRequest[from=" + request.from() + "]";
    }
}
