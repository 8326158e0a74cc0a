package io.peerlink.protocol.rendezvous;

/** Which side of a connect a device is on, in an {@code introduce} message. */
public enum Role {
    /** The device that asked to connect. */
    INITIATOR,
    /** The device that accepted. */
    RESPONDER
}
