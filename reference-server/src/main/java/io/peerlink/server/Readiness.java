package io.peerlink.server;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;

/**
 * What {@code GET /readyz} answers: ready only between "every listener started" and "draining
 * began", so a load balancer sends devices here only while this node will keep them.
 */
@ApplicationScoped
public class Readiness {
    /** The states, in order. */
    public enum State { STARTING, READY, DRAINING }

    private volatile State state = State.STARTING;

    /** CDI. */
    protected Readiness() {
    }

    void ready(@Observes ServerStarted started) {
        // A server drained before start() returned stays draining.
        if (state == State.STARTING) {
            state = State.READY;
        }
    }

    void stopping(@Observes ServerStopping stopping) {
        draining();
    }

    /** Marks the server as draining; idempotent. */
    public void draining() {
        state = State.DRAINING;
    }

    /** @return the current state */
    public State state() {
        return state;
    }
}
