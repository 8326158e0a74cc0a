package io.peerlink;

/**
 * {@link ReliableChannel#send} was called while the channel's bounded send buffer could not take
 * the message. Nothing was queued; wait for {@link ReliableChannel#whenWritable()} and try again.
 */
public class SendBufferFullException extends PeerLinkException {
    private static final long serialVersionUID = 1L;

    /**
     * @param messageSize the size of the refused message
     * @param buffered bytes already buffered and not yet acknowledged
     * @param limit the configured send buffer size
     */
    public SendBufferFullException(int messageSize, long buffered, long limit) {
        super("send buffer full: message of " + messageSize + " bytes does not fit ("
                + buffered + " of " + limit + " bytes buffered); wait for whenWritable()");
    }
}
