package io.peerlink;

/** How a link's datagrams currently travel. */
public enum PathKind {
    /** Direct, between private (host) candidates: both devices share a network. */
    DIRECT_PRIVATE,
    /** Direct, through one or more NATs, using reflexive candidates (a hole punch). */
    DIRECT_PUBLIC,
    /** Through a relay hosted by the reference server; it forwards ciphertext only. */
    RELAY,
    /** Through a third-party message system: an MQTT broker, Socket.IO or CoAP. */
    BROKERED
}
