package io.peerlink.server;

/**
 * What {@code GET /readyz} answers: ready only between "every listener started" and "draining
 * began", so a load balancer sends devices here only while this node will keep them.
 */
final class Readiness {
    enum State { STARTING, READY, DRAINING }

    private volatile State state = State.STARTING;

    void ready() {
        // A server drained before start() returned stays draining.
        if (state == State.STARTING) {
            state = State.READY;
        }
    }

    void draining() {
        state = State.DRAINING;
    }

    State state() {
        return state;
    }
}
