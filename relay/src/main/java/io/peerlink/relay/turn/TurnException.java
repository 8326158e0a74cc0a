package io.peerlink.relay.turn;

import java.io.IOException;

/** A TURN request failed: the server answered with an error, or never answered. */
public final class TurnException extends IOException {
    private static final long serialVersionUID = 1L;
    private final int code;

    /**
     * @param code the STUN/TURN error code (e.g. 403, 486), or 0 for a timeout or transport failure
     * @param message what failed
     */
    public TurnException(int code, String message) {
        super(message);
        this.code = code;
    }

    /** @return the error code, or 0 if there was none */
    public int code() {
        return code;
    }
}
