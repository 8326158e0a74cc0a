package io.peerlink.server.rendezvous;

import io.peerlink.protocol.rendezvous.ErrorCode;

/**
 * What the rendezvous service reports to observers such as the metrics (docs/operations.md).
 * Called on the connection's or the timer thread, so implementations must be cheap and
 * thread-safe; they must not call back into the service.
 */
public interface RendezvousEvents {
    /** Observes nothing. */
    RendezvousEvents NONE = new RendezvousEvents() {
    };

    /** @param network the network a device was admitted into */
    default void admitted(String network) {
    }

    /** A connection closed before admission. @param reason the error code it was answered with */
    default void refused(ErrorCode reason) {
    }

    /**
     * A connection closed before admission, with what is known about it. The default calls {@link #refused(ErrorCode)}.
     *
     * @param reason the error code it was answered with
     * @param message the error text sent (may quote what the device sent: untrusted)
     * @param from the connection's remote address
     * @param claimed the device ID its hello claimed, or null if none arrived (unverified unless the signature checked out)
     */
    default void refused(ErrorCode reason, String message, java.net.InetSocketAddress from, io.peerlink.DeviceId claimed) {
        refused(reason);
    }

    /**
     * @param observers each told every event, in order
     * @return one observer calling all of them
     */
    static RendezvousEvents of(RendezvousEvents... observers) {
        RendezvousEvents[] all = observers.clone();
        return new RendezvousEvents() {
            @Override
            public void admitted(String network) {
                for (RendezvousEvents e : all) {
                    e.admitted(network);
                }
            }

            @Override
            public void refused(ErrorCode reason, String message, java.net.InetSocketAddress from, io.peerlink.DeviceId claimed) {
                for (RendezvousEvents e : all) {
                    e.refused(reason, message, from, claimed);
                }
            }

            @Override
            public void introduced() {
                for (RendezvousEvents e : all) {
                    e.introduced();
                }
            }

            @Override
            public void unreachable(io.peerlink.UnreachableException.Reason reason) {
                for (RendezvousEvents e : all) {
                    e.unreachable(reason);
                }
            }
        };
    }

    /** Two devices were introduced to each other. */
    default void introduced() {
    }

    /** A connect request ended without an introduction. @param reason why, as told to the requester */
    default void unreachable(io.peerlink.UnreachableException.Reason reason) {
    }
}
