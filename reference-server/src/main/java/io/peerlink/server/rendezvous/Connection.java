package io.peerlink.server.rendezvous;

import java.net.InetSocketAddress;

/**
 * One control connection as the rendezvous logic sees it, independent of the WebSocket
 * implementation. Implementations must be thread-safe and non-blocking: sessions of other
 * devices send to this connection from their own threads.
 */
public interface Connection {
    /** @param text a JSON message to queue for sending */
    void send(String text);

    /**
     * Queues a binary message (a relay frame, docs/protocol-rendezvous.md) under the same bound
     * as text: a device that lets more pile up is disconnected as a slow reader.
     *
     * @param frame the message; the connection owns it from now on
     * @return false if it was not queued (connection closed, queue full, or binary not supported)
     */
    default boolean sendBinary(java.nio.ByteBuffer frame) {
        return false;
    }

    /**
     * Sends what is queued, then closes.
     *
     * @param code WebSocket close code
     * @param reason short reason
     */
    void close(int code, String reason);

    /** @return the peer's address */
    InetSocketAddress remoteAddress();

    /**
     * @return the device ID this connection is reserved for (the MQTT carrier: the device's own
     *         topics, which the broker's ACL lets only that device use), or null for any device; a
     *         hello for another device is refused with {@code DENIED}
     */
    default String reservedFor() {
        return null;
    }

    /** @return the address the device reached this server at, or null if unknown */
    default InetSocketAddress localAddress() {
        return null;
    }
}
