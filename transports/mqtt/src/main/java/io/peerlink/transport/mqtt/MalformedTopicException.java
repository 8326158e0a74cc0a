package io.peerlink.transport.mqtt;

/**
 * A topic received on the inbox subscription is not {@code <prefix>/<this device>/<sender>} with a
 * valid sender ID; the datagram is dropped. Package-private: it never leaves the receive path.
 */
final class MalformedTopicException extends Exception {

    private static final long serialVersionUID = 1L;

    MalformedTopicException(String message) {
        super(message);
    }
}
